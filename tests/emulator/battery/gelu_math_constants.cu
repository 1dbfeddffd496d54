// Good: the GELU constant from <math_constants.h> (sqrt(2 / pi) via CUDART_PI_F).
#include <cuda_bf16.h>
#include <math_constants.h>

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    const float v = __bfloat162float(x[i]);
    const float k = sqrtf(2.0f / CUDART_PI_F);
    out[i] = __float2bfloat16(0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v))));
  }
}
