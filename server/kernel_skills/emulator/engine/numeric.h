// Numeric helpers: IEEE bit casts, f16/bf16 conversions with rounding, rounding-mode scopes, ftz.
#pragma once
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "ptx_tables.h"

namespace vm {

// Types, and the comparison and min/max rules the general ALU and the fast paths share.
inline int type_width(int t) {
  switch (t) {
    case T_B8: case T_U8: case T_S8: case T_PRED: return 1;
    case T_B16: case T_U16: case T_S16: case T_F16: case T_BF16: return 2;
    case T_B32: case T_U32: case T_S32: case T_F32: case T_F16X2: case T_BF16X2: case T_TF32: return 4;
    case T_B64: case T_U64: case T_S64: case T_F64: return 8;
    case T_B128: return 16;
    default: return 4;
  }
}
inline bool is_signed(int t) { return t == T_S8 || t == T_S16 || t == T_S32 || t == T_S64; }
inline bool is_float(int t) {
  return t == T_F16 || t == T_F16X2 || t == T_BF16 || t == T_BF16X2 || t == T_F32 || t == T_F64;
}
inline uint64_t mask_of(int bytes) { return bytes >= 8 ? ~0ull : ((1ull << (8 * bytes)) - 1); }
inline int64_t sext(uint64_t v, int bytes) {
  if (bytes >= 8) return (int64_t)v;
  int sh = 64 - 8 * bytes;
  return (int64_t)(v << sh) >> sh;
}

inline double fmin_nan(double a, double b) {
  if (std::isnan(a)) return b;
  if (std::isnan(b)) return a;
  if (a == 0 && b == 0) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}
inline double fmax_nan(double a, double b) {
  if (std::isnan(a)) return b;
  if (std::isnan(b)) return a;
  if (a == 0 && b == 0) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

inline bool compare_float(int cmp, double a, double b) {
  bool un = std::isnan(a) || std::isnan(b);
  switch (cmp) {
    case C_EQ: return !un && a == b;
    case C_NE: return !un && a != b;
    case C_LT: return !un && a < b;
    case C_LE: return !un && a <= b;
    case C_GT: return !un && a > b;
    case C_GE: return !un && a >= b;
    case C_EQU: return un || a == b;
    case C_NEU: return un || a != b;
    case C_LTU: return un || a < b;
    case C_LEU: return un || a <= b;
    case C_GTU: return un || a > b;
    case C_GEU: return un || a >= b;
    case C_NUM: return !un;
    case C_NAN: return un;
    default: return false;
  }
}

inline bool compare_int(int cmp, uint64_t a, uint64_t b, int type) {
  int w = type_width(type);
  int64_t sa = sext(a, w), sb = sext(b, w);
  uint64_t ua = a & mask_of(w), ub = b & mask_of(w);
  bool s = is_signed(type);
  switch (cmp) {
    case C_EQ: return ua == ub;
    case C_NE: return ua != ub;
    case C_LT: return s ? sa < sb : ua < ub;
    case C_LE: return s ? sa <= sb : ua <= ub;
    case C_GT: return s ? sa > sb : ua > ub;
    case C_GE: return s ? sa >= sb : ua >= ub;
    case C_LO: return ua < ub;
    case C_LS: return ua <= ub;
    case C_HI: return ua > ub;
    case C_HS: return ua >= ub;
    default: return false;
  }
}


inline float as_f32(uint64_t b) { uint32_t u = (uint32_t)b; float f; std::memcpy(&f, &u, 4); return f; }
inline double as_f64(uint64_t b) { double d; std::memcpy(&d, &b, 8); return d; }
inline uint64_t bits_f32(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline uint64_t bits_f64(double d) { uint64_t u; std::memcpy(&u, &d, 8); return u; }

inline float ftz32(float f) { return std::fpclassify(f) == FP_SUBNORMAL ? std::copysign(0.0f, f) : f; }

// f32 -> bf16 with round-to-nearest-even (rz: truncation); NaN stays a quiet NaN.
inline uint16_t f32_to_bf16(float f, bool rz = false) {
  uint32_t u = (uint32_t)bits_f32(f);
  if (std::isnan(f)) return (uint16_t)((u >> 16) | 0x40);
  if (rz) return (uint16_t)(u >> 16);
  uint32_t lsb = (u >> 16) & 1;
  u += 0x7FFF + lsb;
  return (uint16_t)(u >> 16);
}
inline float bf16_to_f32(uint16_t h) { return as_f32((uint64_t)h << 16); }

inline float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
  uint32_t out;
  if (exp == 0) {
    if (man == 0) {
      out = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do { e++; man <<= 1; } while (!(man & 0x400));
      out = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3FF) << 13);
    }
  } else if (exp == 0x1F) {
    out = sign | 0x7F800000 | (man << 13) | (man ? 0x400000 : 0);
  } else {
    out = sign | ((exp - 15 + 127) << 23) | (man << 13);
  }
  return as_f32(out);
}

// Rounding of f64 -> f16/bf16: mode 0 nearest even, 1 toward zero, 2 down (rm), 3 up (rp); for one
// value's sign a directed mode either truncates ("toward") or rounds away from zero ("away").
inline bool rounds_toward(int mode, bool neg) { return mode == 1 || (mode == 2 && !neg) || (mode == 3 && neg); }
inline bool rounds_away(int mode, bool neg) { return (mode == 2 && neg) || (mode == 3 && !neg); }

// f32 (or f64 through f32-exact paths) -> f16 rounded by `mode`, with subnormals, overflow to inf
// (a mode rounding toward zero: to the largest finite), NaN kept.
inline uint16_t f64_to_f16(double d, int mode = 0) {
  uint16_t sign = std::signbit(d) ? 0x8000 : 0;
  if (std::isnan(d)) return 0x7E00 | sign;
  double a = std::fabs(d);
  if (std::isinf(a)) return sign | 0x7C00;
  if (a == 0.0) return sign;  // frexp(0) has no exponent to scale by
  bool toward = rounds_toward(mode, sign), away = rounds_away(mode, sign);
  if (toward && a >= 65504.0) return sign | 0x7BFF;
  if ((away && a > 65504.0) || (!toward && !away && a >= 65520.0)) return sign | 0x7C00;
  int e;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  int exp = e - 1;    // a = 1.x * 2^exp
  double scale = exp < -14 ? std::ldexp(1.0, 24) : std::ldexp(1.0, 10 - exp);  // ulp = 2^(exp-10) or 2^-24
  double q = a * scale;
  double r = toward ? std::trunc(q) : away ? std::ceil(q) : std::nearbyint(q);  // nearbyint: to nearest even
  uint32_t n = (uint32_t)r;
  if (exp < -14) return sign | (uint16_t)n;  // subnormal (n may reach 0x400: the smallest normal)
  if (n >= 2048) { n >>= 1; exp += 1; }
  if (exp > 15) return sign | 0x7C00;
  return sign | (uint16_t)(((exp + 15) << 10) | (n & 0x3FF));
}
inline uint16_t f32_to_f16(float f, bool rz = false) { return f64_to_f16((double)f, rz); }

// Round a finite positive value to a format with `mant` fraction bits and smallest normal exponent emin
// (toward: truncate, away: round up in magnitude, else to nearest even).
inline double round_format(double a, int mant, int emin, bool toward, bool away = false) {
  int e;
  std::frexp(a, &e);
  int exp = e - 1;
  int ulp_exp = (exp < emin ? emin : exp) - mant;
  double q = std::ldexp(a, -ulp_exp);
  return std::ldexp(toward ? std::trunc(q) : away ? std::ceil(q) : std::nearbyint(q), ulp_exp);
}

// f64 -> bf16, rounded once by `mode` (an f32 intermediate could round twice).
inline uint16_t f64_to_bf16(double d, int mode = 0) {
  uint16_t sign = std::signbit(d) ? 0x8000 : 0;
  if (std::isnan(d)) return 0x7FC0 | sign;
  double a = std::fabs(d);
  if (std::isinf(a)) return sign | 0x7F80;
  if (a == 0.0) return sign;
  bool toward = rounds_toward(mode, sign), away = rounds_away(mode, sign);
  double r = round_format(a, 7, -126, toward, away);
  const double max_bf16 = 3.3895313892515355e38;
  if (r > max_bf16) return sign | (toward ? 0x7F7F : 0x7F80);
  return sign | (uint16_t)(bits_f32((float)r) >> 16);
}

// The f64 -> f16/bf16 mode of a PTX rounding modifier.
inline int half_mode(int rnd) { return rnd == R_RZ ? 1 : rnd == R_RM ? 2 : rnd == R_RP ? 3 : 0; }

struct RoundScope {
  int saved;
  bool active;
  explicit RoundScope(int rnd) : saved(0), active(false) {
    int mode = -1;
    switch (rnd) {
      case R_RZ: case R_RZI: mode = FE_TOWARDZERO; break;
      case R_RM: case R_RMI: mode = FE_DOWNWARD; break;
      case R_RP: case R_RPI: mode = FE_UPWARD; break;
      default: break;
    }
    if (mode >= 0) { saved = std::fegetround(); std::fesetround(mode); active = true; }
  }
  ~RoundScope() { if (active) std::fesetround(saved); }
};

}  // namespace vm
