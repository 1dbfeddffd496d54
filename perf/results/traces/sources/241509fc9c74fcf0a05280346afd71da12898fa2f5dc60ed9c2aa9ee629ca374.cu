#include <cuda_bf16.h>

// v1: one warp per row, scalar bf16 loads, warp-shuffle reduction.
extern "C" __global__ void rmsnorm(const __nv_bfloat16* x, const __nv_bfloat16* weight,
                                   __nv_bfloat16* out, int rows, int dim, float eps) {
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (warp >= rows) return;
    const __nv_bfloat16* xr = x + (size_t)warp * dim;
    float ss = 0.0f;
    for (int i = lane; i < dim; i += 32) {
        float v = __bfloat162float(xr[i]);
        ss += v * v;
    }
    for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffff, ss, o);
    float inv = rsqrtf(ss / dim + eps);
    for (int i = lane; i < dim; i += 32) {
        out[(size_t)warp * dim + i] = __float2bfloat16(__bfloat162float(xr[i]) * inv * __bfloat162float(weight[i]));
    }
}
