// Writes far past the end of the output: an illegal address that poisons the CUDA context.
#include <cuda_bf16.h>

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i < (size_t)n) out[i + ((size_t)1 << 40)] = x[i];
}
