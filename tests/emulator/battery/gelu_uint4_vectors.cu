// Good: 16-byte uint4 loads and stores of 8 bf16 each, then a scalar tail for n % 8.
#include <cuda_bf16.h>

__device__ __forceinline__ __nv_bfloat16 gelu(__nv_bfloat16 b) {
  const float v = __bfloat162float(b);
  return __float2bfloat16(0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v))));
}

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  const int v = blockIdx.x * blockDim.x + threadIdx.x;
  const int vectors = n / 8;
  if (v < vectors) {
    uint4 packed = reinterpret_cast<const uint4*>(x)[v];
    __nv_bfloat16* lanes = reinterpret_cast<__nv_bfloat16*>(&packed);
#pragma unroll
    for (int k = 0; k < 8; ++k) lanes[k] = gelu(lanes[k]);
    reinterpret_cast<uint4*>(out)[v] = packed;
  }
  if (v < n - 8 * vectors) out[8 * vectors + v] = gelu(x[8 * vectors + v]);
}
