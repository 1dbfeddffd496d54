// LayerNorm without affine parameters fused with AdaLN modulation, bf16 in/out, fp32 math:
//   out[b, t, :] = layer_norm(x[b, t, :], eps) * (1 + scale[b, :]) + shift[b, :]
// Entry point (ABI fixed by the benchmark harness):
//   layernorm_modulate(x, scale, shift, out, batch, tokens, dim, eps)
// Launch: block (256,1,1), grid (ceil_div(tokens, 8), batch, 1), no dynamic shared memory.
// Preconditions: dim % 8 == 0 (16-byte vectors); all pointers 16-byte aligned.
//
// blockIdx.y is the batch index, so a block loads its scale/shift rows once and keeps them in
// registers for its 8 token rows. For dim <= 4096 each row is read once into registers
// (up to 2 16-byte vectors per thread), the next row is prefetched while the current one is
// reduced, and the variance is computed from the registers as sum((x - mean)^2) (two-pass,
// no E[x^2] - mean^2 cancellation). Larger dims fall back to re-reading the row (from L2).
#include <cuda_bf16.h>

namespace lnmod_detail {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = 8;

struct alignas(16) Vec8 {
  __nv_bfloat162 h[4];
};

__device__ __forceinline__ Vec8 load_vec(const __nv_bfloat16* p) {
  uint4 raw = __ldg(reinterpret_cast<const uint4*>(p));
  return *reinterpret_cast<Vec8*>(&raw);
}

__device__ __forceinline__ unsigned int as_u32(__nv_bfloat162 h) {
  return *reinterpret_cast<unsigned int*>(&h);
}

// __stcg keeps the store one 16-byte instruction (STG.E.128): a plain uint4 assignment was
// split into four 4-byte stores by the front end in one of the unrolled paths.
__device__ __forceinline__ void store_vec(__nv_bfloat16* p, const Vec8& v) {
  __stcg(reinterpret_cast<uint4*>(p),
         make_uint4(as_u32(v.h[0]), as_u32(v.h[1]), as_u32(v.h[2]), as_u32(v.h[3])));
}

__device__ __forceinline__ Vec8 zero_vec() {
  Vec8 v;
#pragma unroll
  for (int i = 0; i < 4; ++i) v.h[i] = __floats2bfloat162_rn(0.f, 0.f);
  return v;
}

__device__ __forceinline__ float vec_sum(const Vec8& v) {
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    float2 f = __bfloat1622float2(v.h[i]);
    s += f.x + f.y;
  }
  return s;
}

__device__ __forceinline__ float vec_centered_squares(const Vec8& v, float mean) {
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    float2 f = __bfloat1622float2(v.h[i]);
    const float a = f.x - mean;
    const float b = f.y - mean;
    s = fmaf(a, a, s);
    s = fmaf(b, b, s);
  }
  return s;
}

__device__ __forceinline__ Vec8 modulate(const Vec8& v, const Vec8& scale, const Vec8& shift,
                                         float mean, float rstd) {
  Vec8 o;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __bfloat1622float2(v.h[i]);
    const float2 sc = __bfloat1622float2(scale.h[i]);
    const float2 sh = __bfloat1622float2(shift.h[i]);
    const float a = fmaf((f.x - mean) * rstd, 1.f + sc.x, sh.x);
    const float b = fmaf((f.y - mean) * rstd, 1.f + sc.y, sh.y);
    o.h[i] = __floats2bfloat162_rn(a, b);
  }
  return o;
}

// Sum over the whole block; every thread gets the result. `scratch` holds one float per warp.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  __syncthreads();  // scratch may still be read from the previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float total = 0.f;
#pragma unroll
  for (int i = 0; i < kThreads / 32; ++i) total += scratch[i];
  return total;
}

template <int kVecs>
__device__ __forceinline__ void rows_in_registers(const __nv_bfloat16* __restrict__ x,
                                                  const __nv_bfloat16* __restrict__ scale_row,
                                                  const __nv_bfloat16* __restrict__ shift_row,
                                                  __nv_bfloat16* __restrict__ out, size_t row_first,
                                                  int nrows, int dim, float eps, float* scratch) {
  const int nvec = dim >> 3;
  const float inv_dim = 1.f / static_cast<float>(dim);
  Vec8 sc[kVecs], sh[kVecs], cur[kVecs];
#pragma unroll
  for (int j = 0; j < kVecs; ++j) {
    const int v = threadIdx.x + j * kThreads;
    const bool in = v < nvec;
    sc[j] = in ? load_vec(scale_row + 8 * v) : zero_vec();
    sh[j] = in ? load_vec(shift_row + 8 * v) : zero_vec();
    cur[j] = in ? load_vec(x + row_first * dim + 8 * v) : zero_vec();
  }
#pragma unroll 1
  for (int i = 0; i < nrows; ++i) {
    const size_t row = row_first + i;
    const bool more = i + 1 < nrows;
    Vec8 nxt[kVecs];
#pragma unroll
    for (int j = 0; j < kVecs; ++j) {
      const int v = threadIdx.x + j * kThreads;
      nxt[j] = (more && v < nvec) ? load_vec(x + (row + 1) * dim + 8 * v) : zero_vec();
    }
    float s = 0.f;
#pragma unroll
    for (int j = 0; j < kVecs; ++j) s += vec_sum(cur[j]);
    const float mean = block_sum(s, scratch) * inv_dim;
    float q = 0.f;
#pragma unroll
    for (int j = 0; j < kVecs; ++j) {
      const int v = threadIdx.x + j * kThreads;
      if (v < nvec) q += vec_centered_squares(cur[j], mean);  // padding lanes hold zeros, not x
    }
    const float rstd = rsqrtf(block_sum(q, scratch) * inv_dim + eps);
#pragma unroll
    for (int j = 0; j < kVecs; ++j) {
      const int v = threadIdx.x + j * kThreads;
      if (v < nvec) store_vec(out + row * dim + 8 * v, modulate(cur[j], sc[j], sh[j], mean, rstd));
      cur[j] = nxt[j];
    }
  }
}

__device__ __forceinline__ void rows_streaming(const __nv_bfloat16* __restrict__ x,
                                               const __nv_bfloat16* __restrict__ scale_row,
                                               const __nv_bfloat16* __restrict__ shift_row,
                                               __nv_bfloat16* __restrict__ out, size_t row_first,
                                               int nrows, int dim, float eps, float* scratch) {
  const int nvec = dim >> 3;
  const float inv_dim = 1.f / static_cast<float>(dim);
#pragma unroll 1
  for (int i = 0; i < nrows; ++i) {
    const __nv_bfloat16* xr = x + (row_first + i) * dim;
    __nv_bfloat16* outr = out + (row_first + i) * dim;
    float s = 0.f;
    for (int v = threadIdx.x; v < nvec; v += kThreads) s += vec_sum(load_vec(xr + 8 * v));
    const float mean = block_sum(s, scratch) * inv_dim;
    float q = 0.f;
    for (int v = threadIdx.x; v < nvec; v += kThreads) q += vec_centered_squares(load_vec(xr + 8 * v), mean);
    const float rstd = rsqrtf(block_sum(q, scratch) * inv_dim + eps);
    for (int v = threadIdx.x; v < nvec; v += kThreads) {
      store_vec(outr + 8 * v, modulate(load_vec(xr + 8 * v), load_vec(scale_row + 8 * v),
                                       load_vec(shift_row + 8 * v), mean, rstd));
    }
  }
}

}  // namespace lnmod_detail

extern "C" __global__ void __launch_bounds__(256, 3)
    layernorm_modulate(const __nv_bfloat16* x, const __nv_bfloat16* scale, const __nv_bfloat16* shift,
                       __nv_bfloat16* out, int batch, int tokens, int dim, float eps) {
  using namespace lnmod_detail;
  __shared__ float scratch[kThreads / 32];
  const int b = blockIdx.y;
  const int t0 = blockIdx.x * kRowsPerBlock;
  if (b >= batch || t0 >= tokens) return;  // uniform per block
  const int nrows = min(kRowsPerBlock, tokens - t0);
  const size_t row_first = static_cast<size_t>(b) * tokens + t0;
  const __nv_bfloat16* scale_row = scale + static_cast<size_t>(b) * dim;
  const __nv_bfloat16* shift_row = shift + static_cast<size_t>(b) * dim;
  const int nvec = dim >> 3;
  if (nvec <= kThreads) {
    rows_in_registers<1>(x, scale_row, shift_row, out, row_first, nrows, dim, eps, scratch);
  } else if (nvec <= 2 * kThreads) {
    rows_in_registers<2>(x, scale_row, shift_row, out, row_first, nrows, dim, eps, scratch);
  } else {
    rows_streaming(x, scale_row, shift_row, out, row_first, nrows, dim, eps, scratch);
  }
}
