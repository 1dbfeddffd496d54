// rmsnorm with a shared-memory tree reduction, one block of 256 threads per row (grid: rows).
// The line marked FIRST_BARRIER is the barrier between writing the partial sums and reading them;
// tests/emulator remove it to make a racy reduction.
#include <cuda_bf16.h>

extern "C" __global__ void rmsnorm(const __nv_bfloat16* x, const __nv_bfloat16* weight, __nv_bfloat16* out,
                                   int rows, int dim, float eps) {
  __shared__ float partial[256];
  const __nv_bfloat16* xr = x + (size_t)blockIdx.x * dim;
  float sum = 0.f;
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    const float v = __bfloat162float(xr[i]);
    sum += v * v;
  }
  partial[threadIdx.x] = sum;
  __syncthreads();  // FIRST_BARRIER
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  const float inv = rsqrtf(partial[0] / dim + eps);
  for (int i = threadIdx.x; i < dim; i += blockDim.x) {
    const float v = __bfloat162float(xr[i]) * inv * __bfloat162float(weight[i]);
    out[(size_t)blockIdx.x * dim + i] = __float2bfloat16(v);
  }
}
