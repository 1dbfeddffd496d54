// Good: one warp per row (8 rows per block of 256), a __shfl_xor_sync butterfly so every lane holds
// the sum of squares; a warp past the last row returns as a whole (no block barrier follows).
#include <cuda_bf16.h>

extern "C" __global__ void rmsnorm(const __nv_bfloat16* x, const __nv_bfloat16* weight, __nv_bfloat16* out,
                                   int rows, int dim, float eps) {
  const int lane = threadIdx.x & 31;
  const int row = blockIdx.x * (blockDim.x / 32) + (threadIdx.x >> 5);
  if (row >= rows) return;
  const __nv_bfloat16* xr = x + (size_t)row * dim;
  float sum = 0.0f;
  for (int i = lane; i < dim; i += 32) {
    const float v = __bfloat162float(xr[i]);
    sum += v * v;
  }
  for (int mask = 16; mask > 0; mask >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, mask);
  const float inv = rsqrtf(sum / dim + eps);
  for (int i = lane; i < dim; i += 32) {
    out[(size_t)row * dim + i] = __float2bfloat16(__bfloat162float(xr[i]) * inv * __bfloat162float(weight[i]));
  }
}
