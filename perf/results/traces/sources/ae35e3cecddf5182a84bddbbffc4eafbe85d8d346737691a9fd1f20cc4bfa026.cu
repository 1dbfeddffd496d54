#include <cuda_bf16.h>

extern "C" __global__ void rmsnorm(const __nv_bfloat16* x, const __nv_bfloat16* weight,
                                   __nv_bfloat16* out, int rows, int dim, float eps) {
    int row = blockIdx.x;
    if (row >= rows) return;
    const __nv_bfloat16* xr = x + (size_t)row * dim;
    __nv_bfloat16* outr = out + (size_t)row * dim;
    const int nvec = dim / 8;  // 8 bf16 per 16-byte load
    const uint4* xv = reinterpret_cast<const uint4*>(xr);
    float sum = 0.f;
    for (int i = threadIdx.x; i < nvec; i += blockDim.x) {
        const uint4 v = xv[i];
        const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&v);
        #pragma unroll
        for (int j = 0; j < 4; ++j) {
            float2 f = __bfloat1622float2(h[j]);
            sum += f.x * f.x + f.y * f.y;
        }
    }
    for (int i = nvec * 8 + threadIdx.x; i < dim; i += blockDim.x) {
        float f = __bfloat162float(xr[i]);
        sum += f * f;
    }
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
    __shared__ float warp_sums[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) warp_sums[warp] = sum;
    __syncthreads();
    if (warp == 0) {
        float s = lane < (blockDim.x + 31) / 32 ? warp_sums[lane] : 0.f;
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (lane == 0) warp_sums[0] = s;
    }
    __syncthreads();
    const float inv = rsqrtf(warp_sums[0] / dim + eps);
    const uint4* wv = reinterpret_cast<const uint4*>(weight);
    uint4* ov = reinterpret_cast<uint4*>(outr);
    for (int i = threadIdx.x; i < nvec; i += blockDim.x) {
        const uint4 v = xv[i];
        const uint4 w = wv[i];
        const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&v);
        const __nv_bfloat162* g = reinterpret_cast<const __nv_bfloat162*>(&w);
        uint4 r;
        __nv_bfloat162* o2 = reinterpret_cast<__nv_bfloat162*>(&r);
        #pragma unroll
        for (int j = 0; j < 4; ++j) {
            float2 a = __bfloat1622float2(h[j]);
            float2 b = __bfloat1622float2(g[j]);
            o2[j] = __floats2bfloat162_rn(a.x * inv * b.x, a.y * inv * b.y);
        }
        ov[i] = r;
    }
    for (int i = nvec * 8 + threadIdx.x; i < dim; i += blockDim.x) {
        outr[i] = __float2bfloat16(__bfloat162float(xr[i]) * inv * __bfloat162float(weight[i]));
    }
}
