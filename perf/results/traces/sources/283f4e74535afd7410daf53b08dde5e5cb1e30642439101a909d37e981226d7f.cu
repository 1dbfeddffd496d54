#include <cuda_bf16.h>

__device__ __forceinline__ float gelu_f(float x) {
    const float k0 = 0.7978845608028654f;  // sqrt(2/pi)
    const float k1 = 0.044715f;
    return 0.5f * x * (1.0f + tanhf(k0 * (x + k1 * x * x * x)));
}

// v1: grid-stride, 8 bf16 per thread per step via uint4; scalar tail for n % 8.
extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
    const int nvec = n / 8;
    const uint4* x4 = reinterpret_cast<const uint4*>(x);
    uint4* o4 = reinterpret_cast<uint4*>(out);
    const int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < nvec; i += stride) {
        const uint4 v = x4[i];
        const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&v);
        uint4 r;
        __nv_bfloat162* o = reinterpret_cast<__nv_bfloat162*>(&r);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            float2 f = __bfloat1622float2(h[j]);
            o[j] = __floats2bfloat162_rn(gelu_f(f.x), gelu_f(f.y));
        }
        o4[i] = r;
    }
    // tail
    int t = nvec * 8 + blockIdx.x * blockDim.x + threadIdx.x;
    if (t < n) out[t] = __float2bfloat16(gelu_f(__bfloat162float(x[t])));
}
