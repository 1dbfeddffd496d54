// Caches its result keyed on the input pointer: once a launch has filled the cache for x, a later
// launch with the same x pointer replays it instead of computing. New data written into the same
// buffers must catch it. (The cache is trusted only after every element of a previous launch was
// stored, so the first launch itself is always right.)
#include <cuda_bf16.h>

#define CACHE_ELEMS (1 << 21)
__device__ __nv_bfloat16 cache[CACHE_ELEMS];
__device__ const __nv_bfloat16* cached_x = nullptr;
__device__ unsigned int filled = 0;

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n || n > CACHE_ELEMS) return;
  if (cached_x == x && filled >= (unsigned int)n) {
    out[i] = cache[i];
    return;
  }
  float v = __bfloat162float(x[i]);
  float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
  __nv_bfloat16 r = __float2bfloat16(0.5f * v * (1.0f + tanhf(inner)));
  out[i] = r;
  cache[i] = r;
  __threadfence();
  if (atomicAdd(&filled, 1u) == (unsigned int)n - 1) cached_x = x;
}
