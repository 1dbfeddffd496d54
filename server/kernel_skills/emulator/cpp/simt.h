// A small SIMT emulator that runs a CUDA C++ kernel's own source on the CPU, one std::thread per
// CUDA thread, so that tests can check a kernel's *values* on a machine without a GPU.
//
// What it models: threadIdx/blockIdx/blockDim/gridDim; blocks run one after another (so a
// function-local `__shared__` can be a `static`); __syncthreads as a barrier of the block's live
// threads (an exited thread drops out, as on the hardware); the full-warp shuffle
// __shfl_xor_sync(0xffffffff, ...) as a warp-wide exchange; bf16 with round-to-nearest-even
// conversions; __ldg/__stcg; and mma.sync.m16n8k16 (bf16 in, f32 accumulate) with the PTX ISA's
// fragment layouts, entered through simt::mma_m16n8k16_bf16 (the test rewrites the kernel's one
// `asm` statement into that call).
//
// What it checks beyond the values: 16-byte (and 8-/4-byte) vector accesses are aligned; a
// full-mask shuffle is not issued after lanes of the warp have exited; unsupported masks abort.
// Out-of-bounds accesses are caught by AddressSanitizer (runner.cpp gives every buffer its exact
// size). Not modelled: memory-ordering races, timing, occupancy, fast-math rounding of __expf
// and friends (the CPU computes them exactly), and uninitialised shared memory.
#pragma once

#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <thread>
#include <vector>

// ----------------------------------------------------------------------------- CUDA keywords
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)

// ----------------------------------------------------------------------------- vector types
struct dim3 {
  unsigned int x = 1, y = 1, z = 1;
};
using uint3 = dim3;
struct alignas(16) uint4 {
  unsigned int x, y, z, w;
};
struct alignas(8) uint2 {
  unsigned int x, y;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(8) float2 {
  float x, y;
};
struct alignas(16) int4 {
  int x, y, z, w;
};
inline uint4 make_uint4(unsigned int x, unsigned int y, unsigned int z, unsigned int w) { return {x, y, z, w}; }
inline uint2 make_uint2(unsigned int x, unsigned int y) { return {x, y}; }
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

// ----------------------------------------------------------------------------- built-in indices
inline thread_local dim3 threadIdx;
inline thread_local dim3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;

namespace simt {

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "simt: %s (block %u,%u,%u thread %u,%u,%u)\n", what, blockIdx.x, blockIdx.y,
               blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z);
  std::fflush(stderr);
  std::abort();
}

// Per-block state: the block barrier and one exchange area + barrier per warp.
struct Warp {
  explicit Warp(std::ptrdiff_t lanes) : sync(lanes) {}
  std::barrier<> sync;
  float slot_f[32] = {};
  unsigned int slot_u[32] = {};
  unsigned int mma_a[32][4] = {};  // mma.sync operands of every lane
  unsigned int mma_b[32][2] = {};
  std::atomic<int> exited{0};
};

struct Block {
  explicit Block(std::ptrdiff_t threads) : sync(threads) {
    for (std::ptrdiff_t w = 0; w < (threads + 31) / 32; ++w) {
      warps.push_back(std::make_unique<Warp>(std::min<std::ptrdiff_t>(32, threads - 32 * w)));
    }
  }
  std::barrier<> sync;
  std::vector<std::unique_ptr<Warp>> warps;
};

inline thread_local Block* current_block = nullptr;
inline thread_local unsigned int linear_tid = 0;

inline Warp& my_warp() { return *current_block->warps[linear_tid / 32]; }
inline unsigned int lane() { return linear_tid % 32; }

template <class T>
T exchange_xor(T v, unsigned int mask, int lane_mask, T (&slot)[32]) {
  if (mask != 0xffffffffu) fail("only full-warp shuffles (mask 0xffffffff) are modelled");
  Warp& w = my_warp();
  if (w.exited.load() != 0) fail("full-mask shuffle after lanes of the warp exited (undefined on a GPU)");
  slot[lane()] = v;
  w.sync.arrive_and_wait();
  const T r = slot[(lane() ^ static_cast<unsigned int>(lane_mask)) & 31u];
  w.sync.arrive_and_wait();  // nobody overwrites a slot before every lane has read
  return r;
}

}  // namespace simt

inline void __syncthreads() { simt::current_block->sync.arrive_and_wait(); }
inline void __syncwarp(unsigned int = 0xffffffffu) { simt::my_warp().sync.arrive_and_wait(); }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
[[noreturn]] inline void __trap() { simt::fail("__trap() called"); }

inline float __shfl_xor_sync(unsigned int mask, float v, int lane_mask, int width = 32) {
  if (width != 32) simt::fail("only width-32 shuffles are modelled");
  return simt::exchange_xor(v, mask, lane_mask, simt::my_warp().slot_f);
}
inline int __shfl_xor_sync(unsigned int mask, int v, int lane_mask, int width = 32) {
  if (width != 32) simt::fail("only width-32 shuffles are modelled");
  unsigned int u;
  std::memcpy(&u, &v, 4);
  u = simt::exchange_xor(u, mask, lane_mask, simt::my_warp().slot_u);
  std::memcpy(&v, &u, 4);
  return v;
}
inline unsigned int __shfl_xor_sync(unsigned int mask, unsigned int v, int lane_mask, int width = 32) {
  if (width != 32) simt::fail("only width-32 shuffles are modelled");
  return simt::exchange_xor(v, mask, lane_mask, simt::my_warp().slot_u);
}

// ----------------------------------------------------------------------------- memory access
namespace simt {
template <class T>
inline void check_aligned(const T* p) {
  if (reinterpret_cast<std::uintptr_t>(p) % alignof(T) != 0) fail("misaligned vector access");
}
}  // namespace simt

template <class T>
inline T __ldg(const T* p) {
  simt::check_aligned(p);
  return *p;
}
template <class T>
inline T __ldcg(const T* p) {
  simt::check_aligned(p);
  return *p;
}
template <class T>
inline void __stcg(T* p, T v) {
  simt::check_aligned(p);
  *p = v;
}
template <class T>
inline void __stcs(T* p, T v) {
  simt::check_aligned(p);
  *p = v;
}

// ----------------------------------------------------------------------------- math
using std::max;
using std::min;
inline long long min(long long a, int b) { return a < b ? a : b; }
inline long long min(int a, long long b) { return a < b ? a : b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}
inline float __int_as_float(unsigned int i) { return __int_as_float(static_cast<int>(i)); }
inline int __float_as_int(float f) {
  int i;
  std::memcpy(&i, &f, 4);
  return i;
}
inline unsigned int __float_as_uint(float f) { return static_cast<unsigned int>(__float_as_int(f)); }
inline float __uint_as_float(unsigned int u) { return __int_as_float(u); }

// ----------------------------------------------------------------------------- bf16
struct alignas(2) __nv_bfloat16 {
  unsigned short x;
};
struct alignas(4) __nv_bfloat162 {
  __nv_bfloat16 x, y;
};

inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  unsigned int u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<unsigned short>((u >> 16) | 0x40u)};  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even
  return {static_cast<unsigned short>(u >> 16)};
}
inline __nv_bfloat16 __float2bfloat16(float f) { return __float2bfloat16_rn(f); }
inline float __bfloat162float(__nv_bfloat16 h) { return __uint_as_float(static_cast<unsigned int>(h.x) << 16); }
inline __nv_bfloat162 __floats2bfloat162_rn(float lo, float hi) {
  return {__float2bfloat16_rn(lo), __float2bfloat16_rn(hi)};
}
inline __nv_bfloat162 __float22bfloat162_rn(float2 f) { return __floats2bfloat162_rn(f.x, f.y); }
inline float2 __bfloat1622float2(__nv_bfloat162 h) { return {__bfloat162float(h.x), __bfloat162float(h.y)}; }
inline float __low2float(__nv_bfloat162 h) { return __bfloat162float(h.x); }
inline float __high2float(__nv_bfloat162 h) { return __bfloat162float(h.y); }

// ----------------------------------------------------------------------------- mma.sync
namespace simt {

// D = A(16x16, row) * B(16x8, col) + C, bf16 inputs, f32 accumulation; the warp's fragments are
// gathered through the warp's exchange area. Layouts from the PTX ISA ("Matrix Fragments for
// mma.m16n8k16 with floating point type"): g = lane >> 2, t = lane % 4;
//   A element i (a0..a7, two per register, low half first): row g for i in {0,1,4,5}, else g + 8;
//     col 2t + (i & 1), plus 8 for i >= 4;
//   B element i (b0..b3): row 2t + (i & 1), plus 8 for i >= 2; col g;
//   C/D element i (c0..c3): row g for i < 2, else g + 8; col 2t + (i & 1).
inline float bf16_bits_to_float(unsigned int bits16) { return __uint_as_float(bits16 << 16); }

inline void mma_m16n8k16_bf16(float (&c)[4], const unsigned int (&a)[4], unsigned int b0, unsigned int b1) {
  Warp& w = my_warp();
  if (w.exited.load() != 0) fail("mma.sync after lanes of the warp exited (undefined on a GPU)");
  const unsigned int l = lane();
  for (int r = 0; r < 4; ++r) w.mma_a[l][r] = a[r];
  w.mma_b[l][0] = b0;
  w.mma_b[l][1] = b1;
  w.sync.arrive_and_wait();

  float A[16][16], B[16][8];
  for (unsigned int src = 0; src < 32; ++src) {
    const unsigned int g = src >> 2, t = src & 3;
    for (int i = 0; i < 8; ++i) {
      const unsigned int word = w.mma_a[src][i / 2];
      const unsigned int bits = (i & 1) ? (word >> 16) : (word & 0xffffu);
      const unsigned int row = (i == 0 || i == 1 || i == 4 || i == 5) ? g : g + 8;
      const unsigned int col = 2 * t + (i & 1) + (i >= 4 ? 8 : 0);
      A[row][col] = bf16_bits_to_float(bits);
    }
    for (int i = 0; i < 4; ++i) {
      const unsigned int word = w.mma_b[src][i / 2];
      const unsigned int bits = (i & 1) ? (word >> 16) : (word & 0xffffu);
      const unsigned int row = 2 * t + (i & 1) + (i >= 2 ? 8 : 0);
      B[row][g] = bf16_bits_to_float(bits);
    }
  }
  w.sync.arrive_and_wait();  // every lane has gathered before any lane's next mma overwrites

  const unsigned int g = l >> 2, t = l & 3;
  for (int i = 0; i < 4; ++i) {
    const unsigned int row = i < 2 ? g : g + 8;
    const unsigned int col = 2 * t + (i & 1);
    float acc = c[i];
    for (int k = 0; k < 16; ++k) acc = std::fma(A[row][k], B[k][col], acc);
    c[i] = acc;
  }
}

// The operand order of `mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0..%3}, {%4..%7},
// {%8, %9}, {%0..%3}`: the test rewrites such an asm statement into this call.
inline void mma_m16n8k16_bf16_operands(float& c0, float& c1, float& c2, float& c3, unsigned int a0,
                                       unsigned int a1, unsigned int a2, unsigned int a3, unsigned int b0,
                                       unsigned int b1) {
  float c[4] = {c0, c1, c2, c3};
  const unsigned int a[4] = {a0, a1, a2, a3};
  mma_m16n8k16_bf16(c, a, b0, b1);
  c0 = c[0];
  c1 = c[1];
  c2 = c[2];
  c3 = c[3];
}

}  // namespace simt
