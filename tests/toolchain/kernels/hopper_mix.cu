// Compile-only coverage of more SASS features: 8-byte loads (float2), a warp-level tensor-core MMA
// (mma.sync -> HMMA) and a TMA bulk copy into shared memory with an mbarrier (cp.async.bulk -> UBLKCP).
#include <cuda_bf16.h>

extern "C" __global__ void hopper_mix(const float2* __restrict__ pairs, const float4* __restrict__ src,
                                      const unsigned* __restrict__ frag, float* __restrict__ out) {
  __shared__ alignas(128) float4 stage[64];
  __shared__ alignas(8) unsigned long long bar;
  unsigned bar_addr = static_cast<unsigned>(__cvta_generic_to_shared(&bar));
  unsigned stage_addr = static_cast<unsigned>(__cvta_generic_to_shared(stage));
  if (threadIdx.x == 0) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(bar_addr));
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], 1024;" ::"r"(bar_addr));
    asm volatile(
        "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], 1024, [%2];" ::"r"(stage_addr),
        "l"(src), "r"(bar_addr)
        : "memory");
  }
  asm volatile(
      "{\n.reg .pred done;\nwait:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], 0;\n"
      "@!done bra wait;\n}\n" ::"r"(bar_addr)
      : "memory");
  float2 p = pairs[threadIdx.x];
  float d0 = 0.f, d1 = 0.f, d2 = 0.f, d3 = 0.f;
  unsigned a0 = frag[threadIdx.x], a1 = frag[threadIdx.x + 32], a2 = frag[threadIdx.x + 64], a3 = frag[threadIdx.x + 96];
  unsigned b0 = frag[threadIdx.x + 128], b1 = frag[threadIdx.x + 160];
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
      : "+f"(d0), "+f"(d1), "+f"(d2), "+f"(d3)
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
  out[threadIdx.x] = p.x + p.y + d0 + d1 + d2 + d3 + stage[threadIdx.x & 63].x;
}
