// The kernel side of the SIMT emulator: what a CUDA C++ kernel sees in place of the CUDA headers.
//
// A kernel's translation unit is `simt.h` + the kernel's (rewritten) source + `entry.h`, compiled
// with GCC's ThreadSanitizer *instrumentation* (-fsanitize=thread at compile time only). Every load
// and store the kernel makes calls a `__tsan_*` hook; runner.cpp (the engine, not instrumented, no
// libtsan) defines those hooks and checks each access.
//
// Scheduling: the threads of a block are fibers on one OS thread, resumed in thread order; a fiber
// yields only at the collective operations below (__syncthreads, __syncwarp, shuffles, votes,
// mma.sync), which are engine calls, so a run is deterministic. A thread that returns drops out of
// __syncthreads (as on sm_70+); a warp collective waits for every lane of its mask (lanes past the
// end of a partial last warp do not exist and are left out), and is warp misuse when a lane of the
// mask has exited, exits while others wait, or when a shuffle reads a lane outside the mask.
//
// Checks, and the decisions behind them:
// - global memory: every buffer sits between 64 KiB redzones; an access that touches a redzone is
//   out of bounds, reported with the buffer's ABI name and the element index. An address outside
//   every buffer, shared memory and the thread's stack faults (SIGSEGV) and is reported as a wild
//   access. Two threads writing the same global byte in one launch is a race unless ordered (same
//   block across a barrier, or one warp across __syncwarp; two blocks are never ordered); reads of
//   another thread's global writes are not checked (fence-and-flag patterns are legitimate).
// - shared memory (every static __shared__ variable, and the dynamic `extern __shared__` buffer): a
//   byte written by one thread and read or written by another between the same two barriers is a
//   race. Lanes of one warp are ordered only by __syncwarp() (the Volta+ rule: independent thread
//   scheduling, so warp-synchronous code without __syncwarp is a race); shuffles and votes exchange
//   values but order no memory. Atomics do not race with each other. A read of a byte no thread of
//   the block has written is an uninitialised read (shared memory is also filled with NaN bytes
//   before each block). Out-of-bounds indexing *between* two static shared variables is not seen;
//   past the dynamic buffer's launch size it is.
// - vector accesses (uint4, float2, ...) and __ldg/__stcg must be aligned to their size.
// Not modelled: timing, occupancy, memory-ordering effects (every access is sequentially
// consistent), the GPU's rounding of fast-math intrinsics (computed exactly here), spin-waits on a
// flag another thread sets (a thread yields only at collectives: the wait hangs until the launch's
// timeout). The order is fixed: threads and blocks in index order, or both reversed (the job's
// schedule field), so a re-run can show results that depend on the order.
// The checks catch mistakes, not malice: a kernel is native code in the engine's own process and
// could tamper with the engine; what protects the host is the confinement (seccomp here, and the
// sandbox the runner is started in).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

// ----------------------------------------------------------------------------- CUDA keywords
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
// Blocks run one after another, so a block's __shared__ variable can be a static. The build renames
// this section (and the COMDAT sections GCC gives the statics of templates and inline functions) to
// simt_shared, one NOBITS output section the engine finds with __start_simt_shared and shadows.
#define __shared__ __attribute__((section(".bss.simt_shared"))) static
#define __constant__ static
#define __managed__
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define SIMT_INLINE inline __attribute__((always_inline))

// ----------------------------------------------------------------------------- vector types
struct dim3 {
  unsigned int x = 1, y = 1, z = 1;
};
using uint3 = dim3;

#define SIMT_VEC2(name, T, align)                                            \
  struct alignas(align) name {                                               \
    T x, y;                                                                  \
  };                                                                         \
  SIMT_INLINE name make_##name(T x, T y) { return name{x, y}; }
#define SIMT_VEC3(name, T)                                                   \
  struct name {                                                              \
    T x, y, z;                                                               \
  };                                                                         \
  SIMT_INLINE name make_##name(T x, T y, T z) { return name{x, y, z}; }
#define SIMT_VEC4(name, T, align)                                            \
  struct alignas(align) name {                                               \
    T x, y, z, w;                                                            \
  };                                                                         \
  SIMT_INLINE name make_##name(T x, T y, T z, T w) { return name{x, y, z, w}; }

SIMT_VEC2(float2, float, 8)
SIMT_VEC4(float4, float, 16)
SIMT_VEC3(float3, float)
SIMT_VEC2(int2, int, 8)
SIMT_VEC4(int4, int, 16)
SIMT_VEC3(int3, int)
SIMT_VEC2(uint2, unsigned int, 8)
SIMT_VEC4(uint4, unsigned int, 16)
SIMT_VEC2(double2, double, 16)
SIMT_VEC2(short2, short, 4)
SIMT_VEC2(ushort2, unsigned short, 4)
SIMT_VEC4(short4, short, 8)
SIMT_VEC4(ushort4, unsigned short, 8)
SIMT_VEC2(char2, signed char, 2)
SIMT_VEC4(char4, signed char, 4)
SIMT_VEC2(uchar2, unsigned char, 2)
SIMT_VEC4(uchar4, unsigned char, 4)
SIMT_VEC2(longlong2, long long, 16)
SIMT_VEC2(ulonglong2, unsigned long long, 16)
SIMT_INLINE uint3 make_uint3(unsigned int x, unsigned int y, unsigned int z) { return uint3{x, y, z}; }

// ----------------------------------------------------------------------------- built-in indices
extern dim3 threadIdx, blockIdx, blockDim, gridDim;
constexpr int warpSize = 32;

// ----------------------------------------------------------------------------- the engine's calls
namespace simt {

enum WarpOp : int { kShflIdx, kShflUp, kShflDown, kShflXor, kBallot, kAny, kAll, kSyncwarp, kMatchAny };

void syncthreads(int kind);  // 0 __syncthreads, 1 __syncthreads_count, 2 _and, 3 _or
int syncthreads_vote(int kind, int predicate);
// One warp-collective operation of the calling lane; returns the lane's 64-bit result.
unsigned long long warp_op(int op, unsigned int mask, unsigned long long value, int arg, int width);
unsigned int activemask();
void mma_m16n8k16_bf16(float (&c)[4], const unsigned int (&a)[4], unsigned int b0, unsigned int b1);
[[noreturn]] void trap(const char* kind, const char* message);
void check_aligned(const void* p, unsigned long align);
int device_printf(const char* format, ...) __attribute__((format(printf, 1, 2)));
extern unsigned char dynamic_shared[];

// Filled by the engine (runner.cpp) from the job: per argument its kind (0 pointer, 1 int32,
// 2 float32) and its value (the buffer, or the 4 scalar bytes); entry.h's binder fills elem_size.
struct ArgTable {
  unsigned int count;
  const unsigned char* kinds;
  void* const* values;
  unsigned int* elem_size;
};
const char* kernel_bind(const ArgTable& table);  // defined by entry.h in the kernel's unit
void kernel_body();

template <class T>
SIMT_INLINE unsigned long long to_bits(T v) {
  static_assert(sizeof(T) <= 8, "a shuffle moves at most 8 bytes");
  unsigned long long u = 0;
  std::memcpy(&u, &v, sizeof(T));
  return u;
}
template <class T>
SIMT_INLINE T from_bits(unsigned long long u) {
  T v;
  std::memcpy(&v, &u, sizeof(T));
  return v;
}

// The fragment operand order of `mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0..%3},
// {%4..%7}, {%8, %9}, {%0..%3}`: rewrite.py turns such an asm statement into this call.
SIMT_INLINE void mma_m16n8k16_bf16_operands(float& c0, float& c1, float& c2, float& c3, unsigned int a0,
                                            unsigned int a1, unsigned int a2, unsigned int a3,
                                            unsigned int b0, unsigned int b1) {
  float c[4] = {c0, c1, c2, c3};
  const unsigned int a[4] = {a0, a1, a2, a3};
  mma_m16n8k16_bf16(c, a, b0, b1);
  c0 = c[0];
  c1 = c[1];
  c2 = c[2];
  c3 = c[3];
}

}  // namespace simt

#define printf(...) ::simt::device_printf(__VA_ARGS__)

// ----------------------------------------------------------------------------- synchronisation
SIMT_INLINE void __syncthreads() { simt::syncthreads(0); }
SIMT_INLINE int __syncthreads_count(int p) { return simt::syncthreads_vote(1, p); }
SIMT_INLINE int __syncthreads_and(int p) { return simt::syncthreads_vote(2, p); }
SIMT_INLINE int __syncthreads_or(int p) { return simt::syncthreads_vote(3, p); }
SIMT_INLINE void __syncwarp(unsigned int mask = 0xffffffffu) { simt::warp_op(simt::kSyncwarp, mask, 0, 0, 32); }
// One OS thread runs every thread sequentially consistently: fences order nothing more.
SIMT_INLINE void __threadfence() {}
SIMT_INLINE void __threadfence_block() {}
SIMT_INLINE void __threadfence_system() {}
[[noreturn]] SIMT_INLINE void __trap() { simt::trap("trap", "__trap() called"); }
[[noreturn]] SIMT_INLINE void __brkpt() { simt::trap("trap", "__brkpt() called"); }
SIMT_INLINE unsigned int __activemask() { return simt::activemask(); }
#define assert(cond) ((cond) ? (void)0 : ::simt::trap("trap", "assert(" #cond ") failed"))

template <class T>
SIMT_INLINE T __shfl_sync(unsigned int mask, T v, int src, int width = 32) {
  return simt::from_bits<T>(simt::warp_op(simt::kShflIdx, mask, simt::to_bits(v), src, width));
}
template <class T>
SIMT_INLINE T __shfl_up_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
  return simt::from_bits<T>(simt::warp_op(simt::kShflUp, mask, simt::to_bits(v), static_cast<int>(delta), width));
}
template <class T>
SIMT_INLINE T __shfl_down_sync(unsigned int mask, T v, unsigned int delta, int width = 32) {
  return simt::from_bits<T>(
      simt::warp_op(simt::kShflDown, mask, simt::to_bits(v), static_cast<int>(delta), width));
}
template <class T>
SIMT_INLINE T __shfl_xor_sync(unsigned int mask, T v, int lane_mask, int width = 32) {
  return simt::from_bits<T>(simt::warp_op(simt::kShflXor, mask, simt::to_bits(v), lane_mask, width));
}
SIMT_INLINE unsigned int __ballot_sync(unsigned int mask, int p) {
  return static_cast<unsigned int>(simt::warp_op(simt::kBallot, mask, p != 0, 0, 32));
}
SIMT_INLINE int __any_sync(unsigned int mask, int p) {
  return static_cast<int>(simt::warp_op(simt::kAny, mask, p != 0, 0, 32));
}
SIMT_INLINE int __all_sync(unsigned int mask, int p) {
  return static_cast<int>(simt::warp_op(simt::kAll, mask, p != 0, 0, 32));
}
template <class T>
SIMT_INLINE unsigned int __match_any_sync(unsigned int mask, T v) {
  return static_cast<unsigned int>(simt::warp_op(simt::kMatchAny, mask, simt::to_bits(v), 0, 32));
}

// ----------------------------------------------------------------------------- atomics (engine calls)
int atomicAdd(int* p, int v);
unsigned int atomicAdd(unsigned int* p, unsigned int v);
unsigned long long atomicAdd(unsigned long long* p, unsigned long long v);
float atomicAdd(float* p, float v);
double atomicAdd(double* p, double v);
int atomicSub(int* p, int v);
unsigned int atomicSub(unsigned int* p, unsigned int v);
int atomicMax(int* p, int v);
unsigned int atomicMax(unsigned int* p, unsigned int v);
long long atomicMax(long long* p, long long v);
unsigned long long atomicMax(unsigned long long* p, unsigned long long v);
int atomicMin(int* p, int v);
unsigned int atomicMin(unsigned int* p, unsigned int v);
long long atomicMin(long long* p, long long v);
unsigned long long atomicMin(unsigned long long* p, unsigned long long v);
int atomicExch(int* p, int v);
unsigned int atomicExch(unsigned int* p, unsigned int v);
unsigned long long atomicExch(unsigned long long* p, unsigned long long v);
float atomicExch(float* p, float v);
int atomicCAS(int* p, int compare, int v);
unsigned int atomicCAS(unsigned int* p, unsigned int compare, unsigned int v);
unsigned long long atomicCAS(unsigned long long* p, unsigned long long compare, unsigned long long v);
int atomicAnd(int* p, int v);
unsigned int atomicAnd(unsigned int* p, unsigned int v);
int atomicOr(int* p, int v);
unsigned int atomicOr(unsigned int* p, unsigned int v);
int atomicXor(int* p, int v);
unsigned int atomicXor(unsigned int* p, unsigned int v);
unsigned int atomicInc(unsigned int* p, unsigned int limit);
unsigned int atomicDec(unsigned int* p, unsigned int limit);

// ----------------------------------------------------------------------------- cached loads/stores
template <class T>
SIMT_INLINE T __ldg(const T* p) {
  simt::check_aligned(p, alignof(T));
  return *p;
}
template <class T>
SIMT_INLINE T __ldcg(const T* p) {
  simt::check_aligned(p, alignof(T));
  return *p;
}
template <class T>
SIMT_INLINE T __ldca(const T* p) {
  simt::check_aligned(p, alignof(T));
  return *p;
}
template <class T>
SIMT_INLINE T __ldcs(const T* p) {
  simt::check_aligned(p, alignof(T));
  return *p;
}
template <class T>
SIMT_INLINE T __ldlu(const T* p) {
  simt::check_aligned(p, alignof(T));
  return *p;
}
template <class T>
SIMT_INLINE void __stcg(T* p, T v) {
  simt::check_aligned(p, alignof(T));
  *p = v;
}
template <class T>
SIMT_INLINE void __stcs(T* p, T v) {
  simt::check_aligned(p, alignof(T));
  *p = v;
}
template <class T>
SIMT_INLINE void __stwb(T* p, T v) {
  simt::check_aligned(p, alignof(T));
  *p = v;
}
template <class T>
SIMT_INLINE void __stwt(T* p, T v) {
  simt::check_aligned(p, alignof(T));
  *p = v;
}

// ----------------------------------------------------------------------------- math
// The CPU computes the fast-math intrinsics (__expf, __tanhf, ...) exactly: their GPU rounding is
// not modelled.
using std::max;
using std::min;
SIMT_INLINE long long min(long long a, int b) { return a < b ? a : b; }
SIMT_INLINE long long min(int a, long long b) { return a < b ? a : b; }
SIMT_INLINE long long max(long long a, int b) { return a > b ? a : b; }
SIMT_INLINE long long max(int a, long long b) { return a > b ? a : b; }
SIMT_INLINE unsigned int min(unsigned int a, int b) { return a < static_cast<unsigned int>(b) ? a : b; }
SIMT_INLINE unsigned int min(int a, unsigned int b) { return static_cast<unsigned int>(a) < b ? a : b; }
SIMT_INLINE unsigned int max(unsigned int a, int b) { return a > static_cast<unsigned int>(b) ? a : b; }
SIMT_INLINE unsigned int max(int a, unsigned int b) { return static_cast<unsigned int>(a) > b ? a : b; }
SIMT_INLINE float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
SIMT_INLINE double rsqrt(double x) { return 1.0 / std::sqrt(x); }
SIMT_INLINE float __frsqrt_rn(float x) { return 1.0f / std::sqrt(x); }
SIMT_INLINE float __fsqrt_rn(float x) { return std::sqrt(x); }
SIMT_INLINE float __expf(float x) { return std::exp(x); }
SIMT_INLINE float __exp10f(float x) { return std::pow(10.0f, x); }
SIMT_INLINE float exp10f(float x) { return std::pow(10.0f, x); }
SIMT_INLINE float __logf(float x) { return std::log(x); }
SIMT_INLINE float __log2f(float x) { return std::log2(x); }
SIMT_INLINE float __log10f(float x) { return std::log10(x); }
SIMT_INLINE float __sinf(float x) { return std::sin(x); }
SIMT_INLINE float __cosf(float x) { return std::cos(x); }
SIMT_INLINE float __tanf(float x) { return std::tan(x); }
SIMT_INLINE float __tanhf(float x) { return std::tanh(x); }
SIMT_INLINE float __powf(float a, float b) { return std::pow(a, b); }
SIMT_INLINE void sincosf(float x, float* s, float* c) {
  *s = std::sin(x);
  *c = std::cos(x);
}
SIMT_INLINE void __sincosf(float x, float* s, float* c) { sincosf(x, s, c); }
SIMT_INLINE float __fdividef(float a, float b) { return a / b; }
SIMT_INLINE float __fdiv_rn(float a, float b) { return a / b; }
SIMT_INLINE float __frcp_rn(float x) { return 1.0f / x; }
SIMT_INLINE float __fadd_rn(float a, float b) { return a + b; }
SIMT_INLINE float __fsub_rn(float a, float b) { return a - b; }
SIMT_INLINE float __fmul_rn(float a, float b) { return a * b; }
SIMT_INLINE float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
SIMT_INLINE float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
SIMT_INLINE int __float2int_rn(float x) { return static_cast<int>(std::nearbyint(x)); }
SIMT_INLINE int __float2int_rz(float x) { return static_cast<int>(x); }
SIMT_INLINE int __float2int_rd(float x) { return static_cast<int>(std::floor(x)); }
SIMT_INLINE int __float2int_ru(float x) { return static_cast<int>(std::ceil(x)); }
SIMT_INLINE float __int2float_rn(int x) { return static_cast<float>(x); }
SIMT_INLINE float __uint2float_rn(unsigned int x) { return static_cast<float>(x); }
SIMT_INLINE float __ll2float_rn(long long x) { return static_cast<float>(x); }
SIMT_INLINE unsigned int __float2uint_rn(float x) { return static_cast<unsigned int>(std::nearbyint(x)); }
SIMT_INLINE unsigned int __float2uint_rz(float x) { return static_cast<unsigned int>(x); }
SIMT_INLINE long long __float2ll_rn(float x) { return static_cast<long long>(std::nearbyint(x)); }
SIMT_INLINE float __double2float_rn(double x) { return static_cast<float>(x); }
SIMT_INLINE double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
SIMT_INLINE int __mul24(int a, int b) { return a * b; }
SIMT_INLINE unsigned int __umul24(unsigned int a, unsigned int b) { return a * b; }
SIMT_INLINE int __mulhi(int a, int b) { return static_cast<int>((static_cast<long long>(a) * b) >> 32); }
SIMT_INLINE unsigned int __umulhi(unsigned int a, unsigned int b) {
  return static_cast<unsigned int>((static_cast<unsigned long long>(a) * b) >> 32);
}
SIMT_INLINE int __popc(unsigned int x) { return __builtin_popcount(x); }
SIMT_INLINE int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
SIMT_INLINE int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned int>(x)); }
SIMT_INLINE int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
SIMT_INLINE int __ffs(int x) { return __builtin_ffs(x); }
SIMT_INLINE int __ffsll(long long x) { return __builtin_ffsll(x); }
SIMT_INLINE unsigned int __brev(unsigned int x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
  return __builtin_bswap32(x);
}
SIMT_INLINE float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}
SIMT_INLINE float __int_as_float(unsigned int i) { return __int_as_float(static_cast<int>(i)); }
SIMT_INLINE int __float_as_int(float f) {
  int i;
  std::memcpy(&i, &f, 4);
  return i;
}
SIMT_INLINE unsigned int __float_as_uint(float f) { return static_cast<unsigned int>(__float_as_int(f)); }
SIMT_INLINE float __uint_as_float(unsigned int u) { return __int_as_float(u); }
SIMT_INLINE long long __double_as_longlong(double d) {
  long long i;
  std::memcpy(&i, &d, 8);
  return i;
}
SIMT_INLINE double __longlong_as_double(long long i) {
  double d;
  std::memcpy(&d, &i, 8);
  return d;
}

#include "half.h"
