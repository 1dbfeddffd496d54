// A correct gelu_tanh with one tier-two PTX instruction in inline asm, chosen by TIER_TWO (the test
// defines it as WGMMA, MBARRIER or BULK): the emulator refuses each, naming it and this file's line.
#include <cuda_bf16.h>

#define WGMMA 1
#define MBARRIER 2
#define BULK 3

__device__ __forceinline__ void tier_two(__nv_bfloat16* stage, const __nv_bfloat16* x, unsigned long long* bar) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(stage));
  const unsigned b = static_cast<unsigned>(__cvta_generic_to_shared(bar));
#if TIER_TWO == WGMMA
  asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#elif TIER_TWO == MBARRIER
  asm volatile("mbarrier.init.shared.b64 [%0], 1;" ::"r"(b) : "memory");
#else
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], 16, [%2];"
               ::"r"(s), "l"(x), "r"(b) : "memory");
#endif
  (void)s;
  (void)b;
}

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  __shared__ alignas(16) __nv_bfloat16 stage[8];
  __shared__ alignas(8) unsigned long long bar;
  if (threadIdx.x == 0) tier_two(stage, x, &bar);
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    float v = __bfloat162float(x[i]);
    float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
    out[i] = __float2bfloat16(0.5f * v * (1.0f + tanhf(inner)));
  }
}
