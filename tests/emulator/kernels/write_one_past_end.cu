// gelu_tanh with `<=` for `<`: the thread with i == n writes out[n], one element past the end.
#include <cuda_bf16.h>

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) {
    const float v = i < n ? __bfloat162float(x[i]) : 0.f;
    out[i] = __float2bfloat16(0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v))));
  }
}
