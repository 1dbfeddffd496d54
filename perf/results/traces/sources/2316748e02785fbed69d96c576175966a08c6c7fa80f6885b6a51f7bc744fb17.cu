#include <cuda_bf16.h>

// v5: one 128-thread block per (batch, token) row, NV=6 (dim <= 6144) so 2048 and 3072 split
// evenly (2 and 3 vectors per thread); __launch_bounds__(128, 8) caps registers at 64 (8 blocks/SM).
// The row stays in registers as packed bf16 (uint4, 4 regs per 8 values, unpacked on use) instead
// of float[8] per vector, which spilled under the 64-register cap in v4.
// Two-pass mean/variance from registers, warp shuffle + smem reduce.
#define NV 6
#define THREADS 128

__device__ __forceinline__ float block_sum(float v, float* red) {
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0) red[wid] = v;
    __syncthreads();
    float t = lane < (THREADS / 32) ? red[lane] : 0.0f;
    __syncthreads();  // every warp has read red[] before a second call overwrites it
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) t += __shfl_xor_sync(0xffffffffu, t, o);
    return t;
}

extern "C" __global__ void __launch_bounds__(THREADS, 8) layernorm_modulate(
    const __nv_bfloat16* x, const __nv_bfloat16* scale, const __nv_bfloat16* shift,
    __nv_bfloat16* out, int batch, int tokens, int dim, float eps) {
    __shared__ float red[THREADS / 32];
    const int row = blockIdx.x;
    const int b = row / tokens;
    const int nvec = dim >> 3;
    const uint4* x4 = reinterpret_cast<const uint4*>(x + (size_t)row * dim);
    const uint4* sc4 = reinterpret_cast<const uint4*>(scale + (size_t)b * dim);
    const uint4* sh4 = reinterpret_cast<const uint4*>(shift + (size_t)b * dim);
    uint4* o4 = reinterpret_cast<uint4*>(out + (size_t)row * dim);

    uint4 u[NV];
#pragma unroll
    for (int k = 0; k < NV; ++k) {
        const int i = threadIdx.x + k * THREADS;
        u[k] = i < nvec ? x4[i] : make_uint4(0, 0, 0, 0);
    }
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < NV; ++k) {
        const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u[k]);
#pragma unroll
        for (int j = 0; j < 4; ++j) { float2 f = __bfloat1622float2(h[j]); s += f.x + f.y; }
    }
    const float mean = block_sum(s, red) / (float)dim;
    float q = 0.0f;
#pragma unroll
    for (int k = 0; k < NV; ++k) {
        const int i = threadIdx.x + k * THREADS;
        if (i < nvec) {
            const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u[k]);
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                float2 f = __bfloat1622float2(h[j]);
                const float d0 = f.x - mean, d1 = f.y - mean;
                q += d0 * d0 + d1 * d1;
            }
        }
    }
    const float rstd = rsqrtf(block_sum(q, red) / (float)dim + eps);
#pragma unroll
    for (int k = 0; k < NV; ++k) {
        const int i = threadIdx.x + k * THREADS;
        if (i < nvec) {
            const uint4 a = sc4[i], c = sh4[i];
            const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u[k]);
            const __nv_bfloat162* ha = reinterpret_cast<const __nv_bfloat162*>(&a);
            const __nv_bfloat162* hc = reinterpret_cast<const __nv_bfloat162*>(&c);
            uint4 r;
            __nv_bfloat162* o = reinterpret_cast<__nv_bfloat162*>(&r);
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const float2 f = __bfloat1622float2(h[j]);
                const float2 fa = __bfloat1622float2(ha[j]);
                const float2 fc = __bfloat1622float2(hc[j]);
                o[j] = __floats2bfloat162_rn(fmaf((f.x - mean) * rstd, 1.0f + fa.x, fc.x),
                                             fmaf((f.y - mean) * rstd, 1.0f + fa.y, fc.y));
            }
            o4[i] = r;
        }
    }
}
