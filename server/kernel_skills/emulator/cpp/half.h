// bf16 and fp16 for the SIMT emulator (included by simt.h): storage types with round-to-nearest-even
// conversions, and the arithmetic intrinsics of cuda_bf16.h / cuda_fp16.h computed in fp32 and
// rounded once, as the hardware does for add/mul/fma.
#pragma once

namespace simt {
SIMT_INLINE unsigned short float_to_bf16_bits(float f, int mode) {  // 0 rn, 1 rz, 2 rd, 3 ru
  unsigned int u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<unsigned short>((u >> 16) | 0x40u);  // quiet NaN
  const bool neg = (u >> 31) != 0;
  const bool inexact = (u & 0xffffu) != 0;
  if (mode == 0) {
    u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even
  } else if (inexact && ((mode == 3 && !neg) || (mode == 2 && neg))) {
    u += 0x10000u;  // away from zero, toward the infinity of the rounding direction
  }
  return static_cast<unsigned short>(u >> 16);
}
SIMT_INLINE float bf16_bits_to_float(unsigned int bits16) {
  const unsigned int u = bits16 << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
SIMT_INLINE unsigned short float_to_half_bits(float f) {
  unsigned int u;
  std::memcpy(&u, &f, 4);
  const unsigned int sign = (u >> 16) & 0x8000u;
  const unsigned int a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<unsigned short>(sign | 0x7e00u);  // NaN
  if (a >= 0x477ff000u) return static_cast<unsigned short>(sign | 0x7c00u);  // overflow to infinity
  if (a < 0x38800000u) {  // subnormal half (or zero): round a / 2^-24 to an integer, ties to even
    float af;
    std::memcpy(&af, &a, 4);
    const float scaled = af * 16777216.0f;  // exact: a power-of-two scale
    return static_cast<unsigned short>(sign | static_cast<unsigned int>(std::nearbyint(scaled)));
  }
  unsigned int r = a - 0x38000000u;  // rebias the exponent 127 -> 15 (in place, mantissa 23 bits)
  r += 0xfffu + ((r >> 13) & 1u);
  return static_cast<unsigned short>(sign | (r >> 13));
}
SIMT_INLINE float half_bits_to_float(unsigned int h) {
  const unsigned int sign = (h & 0x8000u) << 16;
  const unsigned int e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  unsigned int u;
  if (e == 0) {
    const float f = static_cast<float>(m) * 5.9604644775390625e-8f;  // m * 2^-24, exact
    std::memcpy(&u, &f, 4);
    u |= sign;
  } else if (e == 31) {
    u = sign | 0x7f800000u | (m << 13);
  } else {
    u = sign | ((e + 112u) << 23) | (m << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
}  // namespace simt

struct __nv_bfloat16_raw {
  unsigned short x;
};
struct __half_raw {
  unsigned short x;
};

struct alignas(2) __nv_bfloat16 {
  unsigned short x;
  __nv_bfloat16() = default;
  constexpr __nv_bfloat16(__nv_bfloat16_raw r) : x(r.x) {}
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  __nv_bfloat16(T v) : x(simt::float_to_bf16_bits(static_cast<float>(v), 0)) {}
  operator float() const { return simt::bf16_bits_to_float(x); }
  operator __nv_bfloat16_raw() const { return {x}; }
};
struct alignas(4) __nv_bfloat162 {
  __nv_bfloat16 x, y;
};
struct alignas(2) __half {
  unsigned short x;
  __half() = default;
  constexpr __half(__half_raw r) : x(r.x) {}
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  __half(T v) : x(simt::float_to_half_bits(static_cast<float>(v))) {}
  operator float() const { return simt::half_bits_to_float(x); }
  operator __half_raw() const { return {x}; }
};
struct alignas(4) __half2 {
  __half x, y;
};
using half = __half;
using half2 = __half2;
using nv_bfloat16 = __nv_bfloat16;
using nv_bfloat162 = __nv_bfloat162;

namespace simt {
SIMT_INLINE __nv_bfloat16 bf16_from_bits(unsigned short b) { return __nv_bfloat16(__nv_bfloat16_raw{b}); }
SIMT_INLINE __half half_from_bits(unsigned short b) { return __half(__half_raw{b}); }
}  // namespace simt

// ---- bf16 conversions
SIMT_INLINE __nv_bfloat16 __float2bfloat16_rn(float f) { return simt::bf16_from_bits(simt::float_to_bf16_bits(f, 0)); }
SIMT_INLINE __nv_bfloat16 __float2bfloat16(float f) { return __float2bfloat16_rn(f); }
SIMT_INLINE __nv_bfloat16 __float2bfloat16_rz(float f) { return simt::bf16_from_bits(simt::float_to_bf16_bits(f, 1)); }
SIMT_INLINE __nv_bfloat16 __float2bfloat16_rd(float f) { return simt::bf16_from_bits(simt::float_to_bf16_bits(f, 2)); }
SIMT_INLINE __nv_bfloat16 __float2bfloat16_ru(float f) { return simt::bf16_from_bits(simt::float_to_bf16_bits(f, 3)); }
SIMT_INLINE float __bfloat162float(__nv_bfloat16 h) { return simt::bf16_bits_to_float(h.x); }
SIMT_INLINE __nv_bfloat162 __floats2bfloat162_rn(float lo, float hi) {
  return {__float2bfloat16_rn(lo), __float2bfloat16_rn(hi)};
}
SIMT_INLINE __nv_bfloat162 __float2bfloat162_rn(float f) { return __floats2bfloat162_rn(f, f); }
SIMT_INLINE __nv_bfloat162 __float22bfloat162_rn(float2 f) { return __floats2bfloat162_rn(f.x, f.y); }
SIMT_INLINE float2 __bfloat1622float2(__nv_bfloat162 h) { return {__bfloat162float(h.x), __bfloat162float(h.y)}; }
SIMT_INLINE float __low2float(__nv_bfloat162 h) { return __bfloat162float(h.x); }
SIMT_INLINE float __high2float(__nv_bfloat162 h) { return __bfloat162float(h.y); }
SIMT_INLINE __nv_bfloat16 __low2bfloat16(__nv_bfloat162 h) { return h.x; }
SIMT_INLINE __nv_bfloat16 __high2bfloat16(__nv_bfloat162 h) { return h.y; }
SIMT_INLINE __nv_bfloat162 __halves2bfloat162(__nv_bfloat16 lo, __nv_bfloat16 hi) { return {lo, hi}; }
SIMT_INLINE __nv_bfloat162 __bfloat162bfloat162(__nv_bfloat16 h) { return {h, h}; }
SIMT_INLINE unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.x; }
SIMT_INLINE __nv_bfloat16 __ushort_as_bfloat16(unsigned short u) { return simt::bf16_from_bits(u); }
SIMT_INLINE __nv_bfloat16 __int2bfloat16_rn(int i) { return __float2bfloat16_rn(static_cast<float>(i)); }
SIMT_INLINE __nv_bfloat162 make_bfloat162(__nv_bfloat16 x, __nv_bfloat16 y) { return {x, y}; }

// ---- fp16 conversions
SIMT_INLINE __half __float2half_rn(float f) { return simt::half_from_bits(simt::float_to_half_bits(f)); }
SIMT_INLINE __half __float2half(float f) { return __float2half_rn(f); }
SIMT_INLINE float __half2float(__half h) { return simt::half_bits_to_float(h.x); }
SIMT_INLINE __half2 __floats2half2_rn(float lo, float hi) { return {__float2half_rn(lo), __float2half_rn(hi)}; }
SIMT_INLINE __half2 __float2half2_rn(float f) { return __floats2half2_rn(f, f); }
SIMT_INLINE __half2 __float22half2_rn(float2 f) { return __floats2half2_rn(f.x, f.y); }
SIMT_INLINE float2 __half22float2(__half2 h) { return {__half2float(h.x), __half2float(h.y)}; }
SIMT_INLINE float __low2float(__half2 h) { return __half2float(h.x); }
SIMT_INLINE float __high2float(__half2 h) { return __half2float(h.y); }
SIMT_INLINE __half __low2half(__half2 h) { return h.x; }
SIMT_INLINE __half __high2half(__half2 h) { return h.y; }
SIMT_INLINE __half2 __halves2half2(__half lo, __half hi) { return {lo, hi}; }
SIMT_INLINE __half2 __half2half2(__half h) { return {h, h}; }
SIMT_INLINE unsigned short __half_as_ushort(__half h) { return h.x; }
SIMT_INLINE __half __ushort_as_half(unsigned short u) { return simt::half_from_bits(u); }
SIMT_INLINE __half __int2half_rn(int i) { return __float2half_rn(static_cast<float>(i)); }
SIMT_INLINE __half2 make_half2(__half x, __half y) { return {x, y}; }
SIMT_INLINE __nv_bfloat16 __half2bfloat16(__half h) { return __float2bfloat16_rn(__half2float(h)); }

// ---- arithmetic: computed in fp32, rounded once
#define SIMT_HALF_OPS(T, T2, TO, FROM)                                                          \
  SIMT_INLINE T __hadd(T a, T b) { return FROM(TO(a) + TO(b)); }                                \
  SIMT_INLINE T __hsub(T a, T b) { return FROM(TO(a) - TO(b)); }                                \
  SIMT_INLINE T __hmul(T a, T b) { return FROM(TO(a) * TO(b)); }                                \
  SIMT_INLINE T __hdiv(T a, T b) { return FROM(TO(a) / TO(b)); }                                \
  SIMT_INLINE T __hfma(T a, T b, T c) { return FROM(std::fma(TO(a), TO(b), TO(c))); }           \
  SIMT_INLINE T __hneg(T a) { return FROM(-TO(a)); }                                            \
  SIMT_INLINE T __habs(T a) { return FROM(std::fabs(TO(a))); }                                  \
  SIMT_INLINE T __hmax(T a, T b) { return FROM(std::fmax(TO(a), TO(b))); }                      \
  SIMT_INLINE T __hmin(T a, T b) { return FROM(std::fmin(TO(a), TO(b))); }                      \
  SIMT_INLINE bool __heq(T a, T b) { return TO(a) == TO(b); }                                   \
  SIMT_INLINE bool __hne(T a, T b) { return TO(a) != TO(b); }                                   \
  SIMT_INLINE bool __hlt(T a, T b) { return TO(a) < TO(b); }                                    \
  SIMT_INLINE bool __hle(T a, T b) { return TO(a) <= TO(b); }                                   \
  SIMT_INLINE bool __hgt(T a, T b) { return TO(a) > TO(b); }                                    \
  SIMT_INLINE bool __hge(T a, T b) { return TO(a) >= TO(b); }                                   \
  SIMT_INLINE bool __hisnan(T a) { return std::isnan(TO(a)); }                                  \
  SIMT_INLINE T hexp(T a) { return FROM(std::exp(TO(a))); }                                     \
  SIMT_INLINE T hsqrt(T a) { return FROM(std::sqrt(TO(a))); }                                   \
  SIMT_INLINE T hrsqrt(T a) { return FROM(1.0f / std::sqrt(TO(a))); }                           \
  SIMT_INLINE T htanh(T a) { return FROM(std::tanh(TO(a))); }                                   \
  SIMT_INLINE T2 __hadd2(T2 a, T2 b) { return {__hadd(a.x, b.x), __hadd(a.y, b.y)}; }          \
  SIMT_INLINE T2 __hsub2(T2 a, T2 b) { return {__hsub(a.x, b.x), __hsub(a.y, b.y)}; }          \
  SIMT_INLINE T2 __hmul2(T2 a, T2 b) { return {__hmul(a.x, b.x), __hmul(a.y, b.y)}; }          \
  SIMT_INLINE T2 __h2div(T2 a, T2 b) { return {__hdiv(a.x, b.x), __hdiv(a.y, b.y)}; }          \
  SIMT_INLINE T2 __hfma2(T2 a, T2 b, T2 c) { return {__hfma(a.x, b.x, c.x), __hfma(a.y, b.y, c.y)}; } \
  SIMT_INLINE T2 __hneg2(T2 a) { return {__hneg(a.x), __hneg(a.y)}; }                           \
  SIMT_INLINE T2 __habs2(T2 a) { return {__habs(a.x), __habs(a.y)}; }                           \
  SIMT_INLINE T2 __hmax2(T2 a, T2 b) { return {__hmax(a.x, b.x), __hmax(a.y, b.y)}; }          \
  SIMT_INLINE T2 __hmin2(T2 a, T2 b) { return {__hmin(a.x, b.x), __hmin(a.y, b.y)}; }          \
  SIMT_INLINE T2 operator+(T2 a, T2 b) { return __hadd2(a, b); }                                \
  SIMT_INLINE T2 operator-(T2 a, T2 b) { return __hsub2(a, b); }                                \
  SIMT_INLINE T2 operator*(T2 a, T2 b) { return __hmul2(a, b); }                                \
  SIMT_INLINE T2 operator/(T2 a, T2 b) { return __h2div(a, b); }                                \
  SIMT_INLINE T2 operator-(T2 a) { return __hneg2(a); }                                         \
  SIMT_INLINE T2& operator+=(T2& a, T2 b) { return a = __hadd2(a, b); }                         \
  SIMT_INLINE T2& operator-=(T2& a, T2 b) { return a = __hsub2(a, b); }                         \
  SIMT_INLINE T2& operator*=(T2& a, T2 b) { return a = __hmul2(a, b); }                         \
  SIMT_INLINE T2& operator/=(T2& a, T2 b) { return a = __h2div(a, b); }                         \
  /* Scalar operators as cuda_bf16.hpp / cuda_fp16.hpp declare them: T op T is T (rounded once), */ \
  /* so "a += b" compiles as it does with NVRTC, and T op float stays ambiguous as it is there. */ \
  SIMT_INLINE T operator+(T a, T b) { return __hadd(a, b); }                                    \
  SIMT_INLINE T operator-(T a, T b) { return __hsub(a, b); }                                    \
  SIMT_INLINE T operator*(T a, T b) { return __hmul(a, b); }                                    \
  SIMT_INLINE T operator/(T a, T b) { return __hdiv(a, b); }                                    \
  SIMT_INLINE T operator+(T a) { return a; }                                                    \
  SIMT_INLINE T operator-(T a) { return __hneg(a); }                                            \
  SIMT_INLINE T& operator+=(T& a, T b) { return a = __hadd(a, b); }                             \
  SIMT_INLINE T& operator-=(T& a, T b) { return a = __hsub(a, b); }                             \
  SIMT_INLINE T& operator*=(T& a, T b) { return a = __hmul(a, b); }                             \
  SIMT_INLINE T& operator/=(T& a, T b) { return a = __hdiv(a, b); }                             \
  SIMT_INLINE T& operator++(T& a) { return a = __hadd(a, FROM(1.0f)); }                         \
  SIMT_INLINE T& operator--(T& a) { return a = __hsub(a, FROM(1.0f)); }                         \
  SIMT_INLINE T operator++(T& a, int) { T old = a; ++a; return old; }                           \
  SIMT_INLINE T operator--(T& a, int) { T old = a; --a; return old; }                           \
  SIMT_INLINE bool operator==(T a, T b) { return __heq(a, b); }                                 \
  SIMT_INLINE bool operator!=(T a, T b) { return __hne(a, b); }                                 \
  SIMT_INLINE bool operator<(T a, T b) { return __hlt(a, b); }                                  \
  SIMT_INLINE bool operator<=(T a, T b) { return __hle(a, b); }                                 \
  SIMT_INLINE bool operator>(T a, T b) { return __hgt(a, b); }                                  \
  SIMT_INLINE bool operator>=(T a, T b) { return __hge(a, b); }

SIMT_HALF_OPS(__nv_bfloat16, __nv_bfloat162, __bfloat162float, __float2bfloat16_rn)
SIMT_HALF_OPS(__half, __half2, __half2float, __float2half_rn)
#undef SIMT_HALF_OPS

// Atomics on 16-bit floats (sm_80+/sm_90), defined by the engine like the others in simt.h.
__nv_bfloat16 atomicAdd(__nv_bfloat16* p, __nv_bfloat16 v);
__nv_bfloat162 atomicAdd(__nv_bfloat162* p, __nv_bfloat162 v);
__half atomicAdd(__half* p, __half v);
__half2 atomicAdd(__half2* p, __half2 v);
