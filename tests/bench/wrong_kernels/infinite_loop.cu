// Never returns: the worker must be killed at its deadline and replaced.
#include <cuda_bf16.h>

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  volatile int spin = 1;
  while (spin) {
  }
  out[0] = x[0];
}
