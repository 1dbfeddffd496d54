// The rmsnorm ABI: (const bf16* x, const bf16* weight, bf16* out, int rows, int dim, float eps).
#include <cuda_bf16.h>

extern "C" __global__ void rmsnorm(const __nv_bfloat16* __restrict__ x, const __nv_bfloat16* __restrict__ weight,
                                   __nv_bfloat16* __restrict__ out, int rows, int dim, float eps) {
  int row = blockIdx.x;
  if (row >= rows) return;
  float sum = 0.0f;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    float v = __bfloat162float(x[(size_t)row * dim + i]);
    sum += v * v;
  }
  for (int offset = 16; offset > 0; offset >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
  float scale = rsqrtf(sum / dim + eps);
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    float v = __bfloat162float(x[(size_t)row * dim + i]) * scale * __bfloat162float(weight[i]);
    out[(size_t)row * dim + i] = __float2bfloat16(v);
  }
}
