// gelu_tanh that reads its neighbour: the last thread reads x[n], one element past the end.
#include <cuda_bf16.h>

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    const float v = 0.5f * (__bfloat162float(x[i]) + __bfloat162float(x[i + 1]));
    out[i] = __float2bfloat16(0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v))));
  }
}
