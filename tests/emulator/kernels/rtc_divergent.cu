// Bad: under NVRTC (__CUDACC_RTC__, what every GPU runs) it writes zeros; only a host compiler would
// see the right gelu_tanh. It must be judged WRONG, on the branch NVRTC compiled.
#include <cuda_bf16.h>

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
#ifdef __CUDACC_RTC__
  out[i] = __float2bfloat16(0.0f * __bfloat162float(x[i]));
#else
  float v = __bfloat162float(x[i]);
  float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
  out[i] = __float2bfloat16(0.5f * v * (1.0f + tanhf(inner)));
#endif
}
