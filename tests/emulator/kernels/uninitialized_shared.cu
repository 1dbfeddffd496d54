// gelu_tanh staged through shared memory, but only the first half of the block fills its slots:
// threads 128..255 read shared memory no thread wrote.
#include <cuda_bf16.h>

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  __shared__ float tile[256];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (threadIdx.x < 128 && i < n) {
    const float v = __bfloat162float(x[i]);
    tile[threadIdx.x] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
  }
  __syncthreads();
  if (i < n) out[i] = __float2bfloat16(tile[threadIdx.x]);
}
