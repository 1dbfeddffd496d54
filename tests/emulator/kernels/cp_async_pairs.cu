// gelu_tanh staging each pair of elements through shared memory with cp.async (4 bytes a thread).
// READ_BEFORE_WAIT (defined by the test, 0 or 1) puts the read of the staged pair before
// cp.async.wait_group: the bytes may still be in flight, a race with the copy on a GPU.
#include <cuda_bf16.h>

__device__ __nv_bfloat16 gelu(__nv_bfloat16 b) {
  const float v = __bfloat162float(b);
  const float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
  return __float2bfloat16(0.5f * v * (1.0f + tanhf(inner)));
}

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  __shared__ __nv_bfloat162 tile[256];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;  // elements 2i and 2i + 1
  if (2 * i + 1 < n) {
    const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(&tile[threadIdx.x]));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" ::"r"(dst), "l"(x + 2 * i) : "memory");
    asm volatile("cp.async.commit_group;" ::: "memory");
#if !READ_BEFORE_WAIT
    asm volatile("cp.async.wait_group 0;" ::: "memory");
#endif
    const __nv_bfloat162 v = tile[threadIdx.x];
#if READ_BEFORE_WAIT
    asm volatile("cp.async.wait_group 0;" ::: "memory");
#endif
    out[2 * i] = gelu(v.x);
    out[2 * i + 1] = gelu(v.y);
  } else if (2 * i < n) {
    out[2 * i] = gelu(x[2 * i]);
  }
}
