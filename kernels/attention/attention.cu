// Non-causal scaled-dot-product attention, bf16 in/out, fp32 softmax and accumulation:
//   out[b, h] = softmax(q[b, h] @ k[b, h]^T * scale) @ v[b, h]
// q, out: [batch, heads, seq_q, D];  k, v: [batch, heads, seq_kv, D];  D = 64 or 128.
// Entry points (ABI fixed by the benchmark harness), one per head dim:
//   attention_hd64(q, k, v, out, batch, heads, seq_q, seq_kv, scale)
//   attention_hd128(q, k, v, out, batch, heads, seq_q, seq_kv, scale)
// Launch: block (128,1,1), grid (ceil_div(seq_q, 64), batch*heads, 1), no dynamic shared memory
// (static: 18 KB for D=64, 35 KB for D=128).
//
// FlashAttention-2 style, written to be easy to check rather than fast:
//  - one block per (b*h, 64 query rows); 4 warps, each owns 16 query rows;
//  - the warp's Q fragments stay in registers for the whole kernel;
//  - K/V tiles of 64 keys go through shared memory (single stage). K is stored row-major,
//    V transposed (Vt[d][key]) so that every mma operand is one aligned 32-bit shared load;
//    rows are padded by 8 bf16 so the 8 rows a fragment load touches hit distinct banks;
//  - S = Q K^T and O += P V with mma.sync.m16n8k16 (bf16 inputs, fp32 accumulators);
//  - online softmax in the exp2 domain with scale*log2(e) folded into S;
//  - keys >= seq_kv get S = -inf (their K/V rows are zero-filled in shared memory); query rows
//    >= seq_q compute on zero Q and are not stored.
// Fragment layouts (PTX ISA, mma.m16n8k16 .bf16): g = lane/4, t = lane%4;
//   A regs: {row g, k 2t..2t+1}, {row g+8, k 2t..}, {row g, k 2t+8..}, {row g+8, k 2t+8..}
//   B regs: {k 2t..2t+1, col g}, {k 2t+8..2t+9, col g}
//   C:      c0,c1 = row g, cols 2t, 2t+1;  c2,c3 = row g+8, same cols
// so two C tiles of S (16 keys) are exactly the A operand P of the P V product.
#include <cuda_bf16.h>

namespace attention_detail {

constexpr int kBlockM = 64;  // query rows per block
constexpr int kBlockN = 64;  // keys per tile
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kPad = 8;  // bf16 elements of padding per shared-memory row

// Two adjacent bf16 as one 32-bit word (shared or global; the address is 4-byte aligned).
__device__ __forceinline__ unsigned int ld32(const __nv_bfloat16* p) {
  return *reinterpret_cast<const unsigned int*>(p);
}

__device__ __forceinline__ unsigned int pack_bf16(float lo, float hi) {
  __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<unsigned int*>(&h);
}

// c += a * b for one 16x8x16 tile.
__device__ __forceinline__ void mma_16816(float (&c)[4], const unsigned int (&a)[4], unsigned int b0,
                                          unsigned int b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <int D>
struct SharedTiles {
  static constexpr int kKStride = D + kPad;        // K tile: [kBlockN][D + pad]
  static constexpr int kVStride = kBlockN + kPad;  // V^T tile: [D][kBlockN + pad]
  __nv_bfloat16 k[kBlockN * kKStride];
  __nv_bfloat16 vt[D * kVStride];
};

template <int D>
__device__ __forceinline__ void attention_block(const __nv_bfloat16* __restrict__ q,
                                                const __nv_bfloat16* __restrict__ k,
                                                const __nv_bfloat16* __restrict__ v,
                                                __nv_bfloat16* __restrict__ out, int seq_q, int seq_kv,
                                                float scale, SharedTiles<D>& sm) {
  static_assert(D % 16 == 0, "head dim must be a multiple of 16");
  constexpr int KS = SharedTiles<D>::kKStride;
  constexpr int VS = SharedTiles<D>::kVStride;
  constexpr int kVecsPerRow = D / 8;  // 16-byte vectors per K/V row

  const int tid = threadIdx.x;
  const int warp = tid >> 5;
  const int lane = tid & 31;
  const int g = lane >> 2;
  const int t = lane & 3;
  const size_t bh = blockIdx.y;
  const __nv_bfloat16* qb = q + bh * seq_q * D;
  const __nv_bfloat16* kb = k + bh * seq_kv * D;
  const __nv_bfloat16* vb = v + bh * seq_kv * D;
  __nv_bfloat16* ob = out + bh * seq_q * D;

  const int row0 = blockIdx.x * kBlockM + warp * 16 + g;  // this thread's two query rows
  const int row1 = row0 + 8;
  const bool ok0 = row0 < seq_q;
  const bool ok1 = row1 < seq_q;

  // Q as A fragments, straight from global memory (read once per block).
  unsigned int qa[D / 16][4];
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    const int c = kk * 16 + 2 * t;
    qa[kk][0] = ok0 ? ld32(qb + static_cast<size_t>(row0) * D + c) : 0u;
    qa[kk][1] = ok1 ? ld32(qb + static_cast<size_t>(row1) * D + c) : 0u;
    qa[kk][2] = ok0 ? ld32(qb + static_cast<size_t>(row0) * D + c + 8) : 0u;
    qa[kk][3] = ok1 ? ld32(qb + static_cast<size_t>(row1) * D + c + 8) : 0u;
  }

  float o[D / 8][4];
#pragma unroll
  for (int i = 0; i < D / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
  const float neg_inf = __int_as_float(0xff800000);
  float m0 = neg_inf, m1 = neg_inf;  // running max (log2 domain) of rows row0 / row1
  float l0 = 0.f, l1 = 0.f;          // this thread's share of the running row sums
  const float scale_log2 = scale * 1.4426950408889634f;

#pragma unroll 1
  for (int kv0 = 0; kv0 < seq_kv; kv0 += kBlockN) {
    __syncthreads();  // every warp is done with the previous tile
#pragma unroll
    for (int i = tid; i < kBlockN * kVecsPerRow; i += kThreads) {
      const int key = i / kVecsPerRow;
      const int c8 = (i % kVecsPerRow) * 8;
      uint4 kv4 = make_uint4(0u, 0u, 0u, 0u);
      uint4 vv4 = make_uint4(0u, 0u, 0u, 0u);
      if (kv0 + key < seq_kv) {
        const size_t off = static_cast<size_t>(kv0 + key) * D + c8;
        kv4 = __ldg(reinterpret_cast<const uint4*>(kb + off));
        vv4 = __ldg(reinterpret_cast<const uint4*>(vb + off));
      }
      *reinterpret_cast<uint4*>(&sm.k[key * KS + c8]) = kv4;
      const __nv_bfloat16* ve = reinterpret_cast<const __nv_bfloat16*>(&vv4);
#pragma unroll
      for (int j = 0; j < 8; ++j) sm.vt[(c8 + j) * VS + key] = ve[j];
    }
    __syncthreads();

    // S = Q K^T for this warp's 16 rows x 64 keys: 8 C tiles of 16x8.
    float s[kBlockN / 8][4];
#pragma unroll
    for (int nb = 0; nb < kBlockN / 8; ++nb) {
      s[nb][0] = s[nb][1] = s[nb][2] = s[nb][3] = 0.f;
      const __nv_bfloat16* krow = &sm.k[(nb * 8 + g) * KS + 2 * t];
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        mma_16816(s[nb], qa[kk], ld32(krow + kk * 16), ld32(krow + kk * 16 + 8));
      }
    }

    // Scale into the log2 domain and mask keys past seq_kv.
    float tile_max0 = neg_inf, tile_max1 = neg_inf;
#pragma unroll
    for (int nb = 0; nb < kBlockN / 8; ++nb) {
      const int col = kv0 + nb * 8 + 2 * t;
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        s[nb][e] = (col + (e & 1) < seq_kv) ? s[nb][e] * scale_log2 : neg_inf;
      }
      tile_max0 = fmaxf(tile_max0, fmaxf(s[nb][0], s[nb][1]));
      tile_max1 = fmaxf(tile_max1, fmaxf(s[nb][2], s[nb][3]));
    }
    // The 4 lanes of a quad (same g) share rows row0/row1.
#pragma unroll
    for (int off = 1; off <= 2; off <<= 1) {
      tile_max0 = fmaxf(tile_max0, __shfl_xor_sync(0xffffffffu, tile_max0, off));
      tile_max1 = fmaxf(tile_max1, __shfl_xor_sync(0xffffffffu, tile_max1, off));
    }
    // Key kv0 is always valid, so the new max is finite; exp2(-inf - finite) = 0 on the first tile.
    const float new_m0 = fmaxf(m0, tile_max0);
    const float new_m1 = fmaxf(m1, tile_max1);
    const float alpha0 = exp2f(m0 - new_m0);
    const float alpha1 = exp2f(m1 - new_m1);
    m0 = new_m0;
    m1 = new_m1;

    float sum0 = 0.f, sum1 = 0.f;
#pragma unroll
    for (int nb = 0; nb < kBlockN / 8; ++nb) {
      s[nb][0] = exp2f(s[nb][0] - m0);
      s[nb][1] = exp2f(s[nb][1] - m0);
      s[nb][2] = exp2f(s[nb][2] - m1);
      s[nb][3] = exp2f(s[nb][3] - m1);
      sum0 += s[nb][0] + s[nb][1];
      sum1 += s[nb][2] + s[nb][3];
    }
    l0 = l0 * alpha0 + sum0;
    l1 = l1 * alpha1 + sum1;
#pragma unroll
    for (int db = 0; db < D / 8; ++db) {
      o[db][0] *= alpha0;
      o[db][1] *= alpha0;
      o[db][2] *= alpha1;
      o[db][3] *= alpha1;
    }

    // O += P V, 16 keys at a time; P comes straight from the S accumulators.
#pragma unroll
    for (int kc = 0; kc < kBlockN / 16; ++kc) {
      const unsigned int pa[4] = {pack_bf16(s[2 * kc][0], s[2 * kc][1]),
                                  pack_bf16(s[2 * kc][2], s[2 * kc][3]),
                                  pack_bf16(s[2 * kc + 1][0], s[2 * kc + 1][1]),
                                  pack_bf16(s[2 * kc + 1][2], s[2 * kc + 1][3])};
#pragma unroll
      for (int db = 0; db < D / 8; ++db) {
        const __nv_bfloat16* vrow = &sm.vt[(db * 8 + g) * VS + kc * 16 + 2 * t];
        mma_16816(o[db], pa, ld32(vrow), ld32(vrow + 8));
      }
    }
  }

  // Full row sums across the quad, then normalise and store (4 bytes per row segment).
#pragma unroll
  for (int off = 1; off <= 2; off <<= 1) {
    l0 += __shfl_xor_sync(0xffffffffu, l0, off);
    l1 += __shfl_xor_sync(0xffffffffu, l1, off);
  }
  const float inv0 = 1.f / l0;
  const float inv1 = 1.f / l1;
#pragma unroll
  for (int db = 0; db < D / 8; ++db) {
    const int col = db * 8 + 2 * t;
    if (ok0) {
      *reinterpret_cast<unsigned int*>(ob + static_cast<size_t>(row0) * D + col) =
          pack_bf16(o[db][0] * inv0, o[db][1] * inv0);
    }
    if (ok1) {
      *reinterpret_cast<unsigned int*>(ob + static_cast<size_t>(row1) * D + col) =
          pack_bf16(o[db][2] * inv1, o[db][3] * inv1);
    }
  }
}

}  // namespace attention_detail

extern "C" __global__ void __launch_bounds__(128)
    attention_hd64(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v,
                   __nv_bfloat16* out, int batch, int heads, int seq_q, int seq_kv, float scale) {
  using namespace attention_detail;
  __shared__ __align__(16) SharedTiles<64> tiles;
  if (blockIdx.y >= static_cast<unsigned int>(batch * heads)) return;  // uniform per block
  attention_block<64>(q, k, v, out, seq_q, seq_kv, scale, tiles);
}

extern "C" __global__ void __launch_bounds__(128)
    attention_hd128(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v,
                    __nv_bfloat16* out, int batch, int heads, int seq_q, int seq_kv, float scale) {
  using namespace attention_detail;
  __shared__ __align__(16) SharedTiles<128> tiles;
  if (blockIdx.y >= static_cast<unsigned int>(batch * heads)) return;  // uniform per block
  attention_block<128>(q, k, v, out, seq_q, seq_kv, scale, tiles);
}
