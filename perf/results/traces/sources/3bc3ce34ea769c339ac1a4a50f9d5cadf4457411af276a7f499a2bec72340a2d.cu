#include <cuda_bf16.h>

// v2 (v1 + barrier after reading red[], fixing the reuse race): one 256-thread block per (batch, token) row; 16-byte loads, row kept in registers
// (NV vectors per thread), two-pass mean/variance from registers, warp shuffle + smem reduce.
#define NV 4
#define THREADS 256

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

extern "C" __global__ void __launch_bounds__(THREADS) layernorm_modulate(
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

    float v[NV][8];
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < NV; ++k) {
        const int i = threadIdx.x + k * THREADS;
        const uint4 u = i < nvec ? x4[i] : make_uint4(0, 0, 0, 0);
        const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            float2 f = __bfloat1622float2(h[j]);
            v[k][2 * j] = f.x;
            v[k][2 * j + 1] = f.y;
            s += f.x + f.y;
        }
    }
    const float mean = block_sum(s, red) / dim;
    float q = 0.0f;
#pragma unroll
    for (int k = 0; k < NV; ++k) {
        const int i = threadIdx.x + k * THREADS;
        if (i < nvec) {
#pragma unroll
            for (int j = 0; j < 8; ++j) { float d = v[k][j] - mean; q += d * d; }
        }
    }
    const float rstd = rsqrtf(block_sum(q, red) / dim + eps);
#pragma unroll
    for (int k = 0; k < NV; ++k) {
        const int i = threadIdx.x + k * THREADS;
        if (i < nvec) {
            const uint4 a = sc4[i], c = sh4[i];
            const __nv_bfloat162* ha = reinterpret_cast<const __nv_bfloat162*>(&a);
            const __nv_bfloat162* hc = reinterpret_cast<const __nv_bfloat162*>(&c);
            uint4 r;
            __nv_bfloat162* o = reinterpret_cast<__nv_bfloat162*>(&r);
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                float2 fa = __bfloat1622float2(ha[j]);
                float2 fc = __bfloat1622float2(hc[j]);
                float y0 = (v[k][2 * j] - mean) * rstd * (1.0f + fa.x) + fc.x;
                float y1 = (v[k][2 * j + 1] - mean) * rstd * (1.0f + fa.y) + fc.y;
                o[j] = __floats2bfloat162_rn(y0, y1);
            }
            o4[i] = r;
        }
    }
}
