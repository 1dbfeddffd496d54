// Good: __nv_bfloat162 pairs (4-byte loads) with the odd last element handled alone.
#include <cuda_bf16.h>

__device__ __forceinline__ float gelu(float v) {
  return 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
}

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  const int p = blockIdx.x * blockDim.x + threadIdx.x;
  if (p < n / 2) {
    const float2 f = __bfloat1622float2(reinterpret_cast<const __nv_bfloat162*>(x)[p]);
    reinterpret_cast<__nv_bfloat162*>(out)[p] = __floats2bfloat162_rn(gelu(f.x), gelu(f.y));
  }
  if (p == 0 && (n & 1)) out[n - 1] = __float2bfloat16(gelu(__bfloat162float(x[n - 1])));
}
