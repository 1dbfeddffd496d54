// Skips the last element: the harness must fail it and name the index (n - 1).
#include <cuda_bf16.h>

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n - 1) {
    float v = __bfloat162float(x[i]);
    float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
    out[i] = __float2bfloat16(0.5f * v * (1.0f + tanhf(inner)));
  }
}
