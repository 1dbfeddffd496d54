// gelu_tanh with a memory fence written as inline PTX: the emulator refuses asm it does not model.
#include <cuda_bf16.h>

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  asm volatile("membar.gl;");
  if (i < n) out[i] = x[i];
}
