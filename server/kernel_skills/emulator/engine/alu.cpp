// Operands and the arithmetic, logic, comparison, conversion and move instructions.
#include <cmath>
#include <limits>

#include "engine.h"
#include "numeric.h"

namespace vm {

uint64_t Machine::sreg(Warp& w, int id, int lane) {
  uint32_t tid = (uint32_t)(w.id * WARP + lane);
  switch (id) {
    case SR_TID_X: return tid % J.block[0];
    case SR_TID_Y: return (tid / J.block[0]) % J.block[1];
    case SR_TID_Z: return tid / (J.block[0] * J.block[1]);
    case SR_NTID_X: return J.block[0];
    case SR_NTID_Y: return J.block[1];
    case SR_NTID_Z: return J.block[2];
    case SR_CTAID_X: return bx;
    case SR_CTAID_Y: return by;
    case SR_CTAID_Z: return bz;
    case SR_NCTAID_X: return J.grid[0];
    case SR_NCTAID_Y: return J.grid[1];
    case SR_NCTAID_Z: return J.grid[2];
    case SR_LANEID: return (uint64_t)lane;
    case SR_WARPID: return (uint64_t)w.id;
    case SR_NWARPID: return 64;
    case SR_SMID: return block_linear % 132;
    case SR_NSMID: return 132;
    case SR_GRIDID: return 1;
    case SR_LANEMASK_EQ: return 1u << lane;
    case SR_LANEMASK_LT: return (1u << lane) - 1;
    case SR_LANEMASK_LE: return lane == 31 ? FULL : (1u << (lane + 1)) - 1;
    case SR_LANEMASK_GT: return lane == 31 ? 0 : ~((1u << (lane + 1)) - 1);
    case SR_LANEMASK_GE: return ~((1u << lane) - 1);
    case SR_CLOCK: case SR_CLOCK64: case SR_GLOBALTIMER: case SR_GLOBALTIMER_LO: case SR_GLOBALTIMER_HI:
      return executed;  // advances; not a time
    case SR_DYNAMIC_SMEM_SIZE: return J.dyn_shared;
    case SR_TOTAL_SMEM_SIZE: case SR_AGGR_SMEM_SIZE: return shared_size;
    default: return 0;
  }
}

uint64_t Machine::src(Warp& w, const Opnd& o, int lane, int type) {
  switch (o.kind) {
    case K_REG: {
      uint64_t v = w.regs[(size_t)o.reg * WARP + lane];
      if (o.n == 1) return (v & 1) ^ 1;  // !%p
      return v;
    }
    case K_IMM: {
      if (o.n == 8 && (type == T_F32)) return bits_f32((float)as_f64((uint64_t)o.imm));
      if (o.n == 4 && type == T_F64) return bits_f64((double)as_f32((uint64_t)o.imm));
      return (uint64_t)o.imm;
    }
    case K_SREG: return sreg(w, o.reg, lane);
    case K_SINK: return 0;
    case K_ADDR: return address(w, o, lane);
    default: {
      Fault f{"engine", "an operand kind the instruction cannot take"};
      fail(f);
    }
  }
}

void Machine::dst(Warp& w, const Opnd& o, int lane, uint64_t v, int type, bool sign_extend) {
  if (o.kind == K_SINK) return;
  if (o.kind != K_REG) {
    Fault f{"engine", "an instruction writes to an operand that is not a register"};
    fail(f);
  }
  int width = type_width(type);
  int regw = P.regw[(size_t)o.reg];
  if (type == T_PRED) v &= 1;
  else if (sign_extend && regw > width) v = (uint64_t)sext(v, width);
  else v &= mask_of(width);
  w.regs[(size_t)o.reg * WARP + lane] = v & mask_of(regw < 1 ? 8 : regw);
}

// ------------------------------------------------------------------------------------- floats
namespace {

struct FloatOps {
  int type;
  bool ftz;
  double get(uint64_t v, int half) const {
    switch (type) {
      case T_F16: return ftz16(f16_to_f32((uint16_t)v));
      case T_BF16: return bf16_to_f32((uint16_t)v);
      case T_F16X2: return ftz16(f16_to_f32((uint16_t)(v >> (16 * half))));
      case T_BF16X2: return bf16_to_f32((uint16_t)(v >> (16 * half)));
      case T_F64: return as_f64(v);
      default: { float f = as_f32(v); return ftz ? ftz32(f) : f; }
    }
  }
  uint64_t put(double d, int half, uint64_t into, int rz = 0) const {  // rz: a half_mode
    switch (type) {
      case T_F16: return ftz16(f64_to_f16(d, rz));
      case T_BF16: return f64_to_bf16(d, rz);
      case T_F16X2: { uint64_t h = ftz16(f64_to_f16(d, rz)); return (into & ~(0xFFFFull << (16 * half))) | (h << (16 * half)); }
      case T_BF16X2: { uint64_t h = f64_to_bf16(d, rz); return (into & ~(0xFFFFull << (16 * half))) | (h << (16 * half)); }
      case T_F64: return bits_f64(d);
      default: { float f = (float)d; return bits_f32(ftz ? ftz32(f) : f); }
    }
  }
  // .ftz on f16: subnormal inputs and results flushed to sign-preserving zero
  double ftz16(float x) const { return ftz && x != 0 && std::fabs(x) < 0x1p-14f ? std::copysign(0.0, x) : x; }
  uint16_t ftz16(uint16_t h) const { return ftz && (h & 0x7C00) == 0 ? (uint16_t)(h & 0x8000) : h; }
  int lanes() const { return (type == T_F16X2 || type == T_BF16X2) ? 2 : 1; }
};

bool bool_op(int sub, bool t, bool c) {
  switch (sub) {
    case S_AND: return t && c;
    case S_OR: return t || c;
    case S_XOR: return t != c;
    default: return t;
  }
}

}  // namespace

// cvt between any two types; returns the destination's bits
static uint64_t convert(const Insn& in, uint64_t v) {
  int dt = in.t[0], st = in.t[1];
  bool ftz = in.flags & F_FTZ, sat = in.flags & F_SAT;
  int rnd = in.rnd;
  if (!is_float(dt) && !is_float(st)) {  // integer -> integer
    int sw = type_width(st), dw = type_width(dt);
    int64_t sv = is_signed(st) ? sext(v, sw) : (int64_t)(v & mask_of(sw));
    if (sat) {
      if (is_signed(dt)) {
        int64_t lo = -(1ll << (8 * dw - 1)), hi = (1ll << (8 * dw - 1)) - 1;
        if (dw >= 8) { lo = std::numeric_limits<int64_t>::min(); hi = std::numeric_limits<int64_t>::max(); }
        if (!is_signed(st) && sw >= 8 && (v >> 63)) return (uint64_t)hi;
        sv = std::min(std::max(sv, lo), hi);
      } else {
        uint64_t hi = mask_of(dw);
        if (is_signed(st) && sv < 0) return 0;
        if ((uint64_t)sv > hi) return hi;
      }
    }
    return (uint64_t)sv & mask_of(dw);
  }
  FloatOps sf{st, ftz}, df{dt, ftz};
  if (is_float(st) && is_float(dt)) {
    double d = sf.get(v, 0);
    if (rnd == R_RNI || rnd == R_RZI || rnd == R_RMI || rnd == R_RPI) {
      d = rnd == R_RNI ? std::nearbyint(d) : rnd == R_RZI ? std::trunc(d) : rnd == R_RMI ? std::floor(d) : std::ceil(d);
    }
    if (sat) d = std::isnan(d) ? 0.0 : std::min(d > 0.0 ? d : 0.0, 1.0);  // [+0.0, 1.0]: -0 too
    if (dt == T_F32 && st == T_F64) {
      RoundScope rs(rnd);
      float f = (float)d;
      return bits_f32(ftz ? ftz32(f) : f);
    }
    return df.put(d, 0, 0, half_mode(rnd));
  }
  if (is_float(st)) {  // float -> integer: round as asked, saturate, NaN -> 0
    double d = sf.get(v, 0);
    if (std::isnan(d)) return 0;
    switch (rnd) {
      case R_RNI: d = std::nearbyint(d); break;
      case R_RMI: d = std::floor(d); break;
      case R_RPI: d = std::ceil(d); break;
      default: d = std::trunc(d); break;
    }
    int dw = type_width(dt);
    if (is_signed(dt)) {
      double lo = -std::ldexp(1.0, 8 * dw - 1), hi = std::ldexp(1.0, 8 * dw - 1);
      if (d < lo) return (uint64_t)(int64_t)lo & mask_of(dw);
      if (d >= hi) return (uint64_t)((1ull << (8 * dw - 1)) - 1) & mask_of(dw);
      return (uint64_t)(int64_t)d & mask_of(dw);
    }
    double hi = std::ldexp(1.0, 8 * dw);
    if (d <= 0) return 0;
    if (d >= hi) return mask_of(dw);
    return (uint64_t)d & mask_of(dw);
  }
  // integer -> float
  int sw = type_width(st);
  RoundScope rs(rnd);
  if (dt == T_F32) {
    float f = is_signed(st) ? (float)sext(v, sw) : (float)(v & mask_of(sw));
    return bits_f32(f);
  }
  if (dt == T_F64) {
    double d = is_signed(st) ? (double)sext(v, sw) : (double)(v & mask_of(sw));
    return bits_f64(d);
  }
  double d = is_signed(st) ? (double)sext(v, sw) : (double)(v & mask_of(sw));
  return df.put(d, 0, 0, half_mode(rnd));
}

void Machine::do_alu(Warp& w, const Insn& in, uint32_t m) {
  int type = in.t[0];
  int width = type_width(type);
  int n = in.nlog;
  for (int lane = 0; lane < WARP; lane++) {
    if (!((m >> lane) & 1)) continue;
    auto S = [&](int k, int t = -1) { return src(w, op(in, k), lane, t < 0 ? type : t); };
    auto D = [&](uint64_t v, int t = -1, bool sign = false) { dst(w, op(in, 0), lane, v, t < 0 ? type : t, sign); };
    switch (in.op) {
      case OP_MOV: {
        const Opnd& d = op(in, 0);
        if (d.kind == K_VEC) {  // unpack: mov.b32 {lo, hi}, %r
          uint64_t v = S(1);
          int part = width / d.n;
          int pt = part == 4 ? T_B32 : part == 2 ? T_B16 : T_B8;
          for (int k = 0; k < d.n; k++) dst(w, item(in, 0, k), lane, (v >> (8 * part * k)) & mask_of(part), pt);
        } else if (op(in, 1).kind == K_VEC) {  // pack
          const Opnd& s = op(in, 1);
          int part = width / s.n;
          uint64_t v = 0;
          for (int k = 0; k < s.n; k++) v |= (src(w, item(in, 1, k), lane, type) & mask_of(part)) << (8 * part * k);
          D(v);
        } else {
          D(S(1));
        }
        break;
      }
      case OP_CVTA: {
        uint64_t a = S(1, T_U64);
        if (in.flags & F_TO) {
          if (in.space == SP_SHARED) a -= SHARED_WINDOW;
          else if (in.space == SP_LOCAL) a -= LOCAL_WINDOW;
        } else {
          if (in.space == SP_SHARED) a += SHARED_WINDOW;
          else if (in.space == SP_LOCAL) a += LOCAL_WINDOW;
        }
        D(a);
        break;
      }
      case OP_ISSPACEP: {
        uint64_t a = S(1, T_U64);
        bool r = in.space == SP_SHARED ? (a >= SHARED_WINDOW && a < SHARED_WINDOW + (1ull << 32))
               : in.space == SP_LOCAL  ? (a >= LOCAL_WINDOW && a < LOCAL_WINDOW + (1ull << 32))
                                       : (a >= BUFFER_BASE && a < SHARED_WINDOW);
        D(r ? 1 : 0, T_PRED);
        break;
      }
      case OP_CVT: {
        if ((in.t[0] == T_BF16X2 || in.t[0] == T_F16X2) && n == 3) {  // cvt.rn.bf16x2.f32 d, hi, lo
          FloatOps df{in.t[0] == T_BF16X2 ? T_BF16 : T_F16, false};
          uint64_t hi = df.put(as_f32(S(1, T_F32)), 0, 0, half_mode(in.rnd));
          uint64_t lo = df.put(as_f32(S(2, T_F32)), 0, 0, half_mode(in.rnd));
          if (in.flags & F_RELU) {
            if (as_f32(S(1, T_F32)) < 0) hi = 0;
            if (as_f32(S(2, T_F32)) < 0) lo = 0;
          }
          D((hi << 16) | lo, T_B32);
        } else {
          D(convert(in, S(1, in.t[1])), in.t[0], is_signed(in.t[0]));
        }
        break;
      }
      case OP_SETP: {
        bool t;
        if (is_float(type)) {
          FloatOps f{type, (bool)(in.flags & F_FTZ)};
          t = compare_float(in.cmp, f.get(S(1), 0), f.get(S(2), 0));
        } else {
          t = compare_int(in.cmp, S(1), S(2), type);
        }
        bool c = n > 3 ? (S(3, T_PRED) & 1) : (in.sub == S_AND);
        const Opnd& d = op(in, 0);
        if (d.kind == K_PAIR) {
          dst(w, item(in, 0, 0), lane, bool_op(in.sub, t, c), T_PRED);
          dst(w, item(in, 0, 1), lane, bool_op(in.sub, !t, c), T_PRED);
          break;
        }
        D(n > 3 ? bool_op(in.sub, t, c) : t, T_PRED);
        break;
      }
      case OP_SET: {
        int st = in.t[1];
        if (st == T_F16X2 || st == T_BF16X2) {  // per half: 1.0 in the destination's half type, or 0xFFFF
          FloatOps fa{st, (bool)(in.flags & F_FTZ)};
          uint64_t a = S(1, st), b = S(2, st), r = 0;
          for (int h = 0; h < 2; h++) {
            bool t = compare_float(in.cmp, fa.get(a, h), fa.get(b, h));
            if (n > 3) t = bool_op(in.sub, t, S(3, T_PRED) & 1);
            uint64_t one = type == T_F16X2 ? 0x3C00 : type == T_BF16X2 ? 0x3F80 : 0xFFFF;
            r |= (t ? one : 0) << (16 * h);
          }
          D(r, T_B32);
          break;
        }
        bool t = is_float(st) ? compare_float(in.cmp, FloatOps{st, (bool)(in.flags & F_FTZ)}.get(S(1, st), 0),
                                              FloatOps{st, false}.get(S(2, st), 0))
                              : compare_int(in.cmp, S(1, st), S(2, st), st);
        if (n > 3) t = bool_op(in.sub, t, S(3, T_PRED) & 1);
        D(type == T_F32 ? bits_f32(t ? 1.0f : 0.0f) : type == T_F16 ? (t ? 0x3C00 : 0)
          : type == T_BF16 ? (t ? 0x3F80 : 0) : (t ? 0xFFFFFFFFull : 0), type);
        break;
      }
      case OP_TESTP: {  // classified in the source type: an f32 subnormal is a normal double
        int c = type == T_F64 ? std::fpclassify(as_f64(S(1))) : std::fpclassify(as_f32(S(1)));
        bool t = in.sub == S_FINITE ? (c != FP_INFINITE && c != FP_NAN) : in.sub == S_INFINITE ? c == FP_INFINITE
               : in.sub == S_NUMBER ? c != FP_NAN : in.sub == S_NOTANUMBER ? c == FP_NAN
               : in.sub == S_NORMAL ? (c == FP_NORMAL || c == FP_ZERO) : in.sub == S_SUBNORMAL ? c == FP_SUBNORMAL
               : (fault("unsupported", "this testp form is not run by the CPU emulator", in, w, lane), false);
        D(t, T_PRED);
        break;
      }
      case OP_SELP: D((S(3, T_PRED) & 1) ? S(1) : S(2)); break;
      case OP_SLCT: {
        int ct = in.t[1];
        bool ge = ct == T_F32 ? as_f32(S(3, ct)) >= 0.0f : sext(S(3, ct), 4) >= 0;
        D(ge ? S(1) : S(2));
        break;
      }
      default: {
        if (type == T_PRED) {
          bool a = S(1) & 1, b = n > 2 ? (S(2) & 1) : false;
          bool r = in.op == OP_AND ? (a && b) : in.op == OP_OR ? (a || b) : in.op == OP_XOR ? (a != b)
                 : in.op == OP_NOT ? !a : in.op == OP_MOV ? a : !a;
          D(r, T_PRED);
        } else if (is_float(type)) {
          FloatOps f{type, (bool)(in.flags & F_FTZ)};
          uint64_t out = 0;
          for (int h = 0; h < f.lanes(); h++) {
            double a = f.get(S(1), h), b = n > 2 ? f.get(S(2), h) : 0, c = n > 3 ? f.get(S(3), h) : 0;
            double r = 0;
            bool single = type == T_F32;
            RoundScope rs(in.rnd);
            switch (in.op) {
              case OP_ADD: r = single ? (double)((float)a + (float)b) : a + b; break;
              case OP_SUB: r = single ? (double)((float)a - (float)b) : a - b; break;
              case OP_MUL: r = single ? (double)((float)a * (float)b) : a * b; break;
              case OP_FMA: case OP_MAD:
                r = single ? (double)std::fma((float)a, (float)b, (float)c) : std::fma(a, b, c);
                break;
              case OP_DIV: r = single ? (double)((float)a / (float)b) : a / b; break;
              case OP_MIN: r = (in.flags & F_NAN) && (std::isnan(a) || std::isnan(b)) ? NAN : fmin_nan(a, b); break;
              case OP_MAX: r = (in.flags & F_NAN) && (std::isnan(a) || std::isnan(b)) ? NAN : fmax_nan(a, b); break;
              case OP_ABS: r = std::fabs(a); break;
              case OP_NEG: r = -a; break;
              case OP_RCP: r = single ? (double)(1.0f / (float)a) : 1.0 / a; break;
              case OP_SQRT: r = single ? (double)std::sqrt((float)a) : std::sqrt(a); break;
              case OP_RSQRT: r = single ? (double)(1.0f / std::sqrt((float)a)) : 1.0 / std::sqrt(a); break;
              case OP_EX2: r = single ? (double)std::exp2((float)a) : std::exp2(a); break;
              case OP_LG2: r = single ? (double)std::log2((float)a) : std::log2(a); break;
              case OP_SIN: r = single ? (double)std::sin((float)a) : std::sin(a); break;
              case OP_COS: r = single ? (double)std::cos((float)a) : std::cos(a); break;
              case OP_TANH: r = single ? (double)std::tanh((float)a) : std::tanh(a); break;
              case OP_COPYSIGN: r = std::copysign(b, a); break;
              default:
                fault("unsupported", "this floating-point form is not run by the CPU emulator yet", in, w, lane);
            }
            if (in.flags & F_SAT) r = std::isnan(r) ? 0.0 : std::min(r > 0.0 ? r : 0.0, 1.0);  // [+0.0, 1.0]
            if ((in.flags & F_RELU) && !(r >= 0)) r = std::isnan(r) ? r : 0.0;
            out = f.put(r, h, out, in.rnd == R_RZ);
          }
          D(out);
        } else {
          uint64_t a = S(1), b = n > 2 ? S(2) : 0, c = n > 3 ? S(3) : 0;
          int64_t sa = sext(a, width), sb = sext(b, width), sc = sext(c, width);
          uint64_t ua = a & mask_of(width), ub = b & mask_of(width), uc = c & mask_of(width);
          bool s = is_signed(type);
          uint64_t r = 0;
          int out_type = type;
          bool wide = in.flags & F_WIDE, hi = in.flags & F_HI;
          switch (in.op) {
            case OP_ADD: case OP_ADDC: {
              unsigned __int128 full = (unsigned __int128)ua + ub + (in.op == OP_ADDC ? ((w.carry >> lane) & 1) : 0);
              if ((in.flags & F_SAT) && s) {
                __int128 x = (__int128)sa + sb;
                __int128 lo = -((__int128)1 << (8 * width - 1)), top = ((__int128)1 << (8 * width - 1)) - 1;
                r = (uint64_t)(int64_t)std::min(std::max(x, lo), top);
              } else {
                r = (uint64_t)full;
              }
              if (in.flags & F_CC) {
                bool carry = width >= 8 ? (full >> 64) != 0 : ((full >> (8 * width)) & 1);
                w.carry = (w.carry & ~(1u << lane)) | ((uint32_t)carry << lane);
              }
              break;
            }
            case OP_SUB: case OP_SUBC: {
              uint64_t borrow = in.op == OP_SUBC ? ((w.carry >> lane) & 1) : 0;
              if ((in.flags & F_SAT) && s) {
                __int128 x = (__int128)sa - sb;
                __int128 lo = -((__int128)1 << (8 * width - 1)), top = ((__int128)1 << (8 * width - 1)) - 1;
                r = (uint64_t)(int64_t)std::min(std::max(x, lo), top);
              } else {
                r = ua - ub - borrow;
              }
              if (in.flags & F_CC) {
                bool b2 = ua < ub + borrow || (borrow && ub == mask_of(width));
                w.carry = (w.carry & ~(1u << lane)) | ((uint32_t)b2 << lane);
              }
              break;
            }
            case OP_MUL: case OP_MAD: case OP_MUL24: case OP_MAD24: case OP_MADC: {
              if (in.op == OP_MUL24 || in.op == OP_MAD24) {
                sa = sext(ua & 0xFFFFFF, 3); sb = sext(ub & 0xFFFFFF, 3);
                ua &= 0xFFFFFF; ub &= 0xFFFFFF;
                __int128 p = s ? (__int128)sa * sb : (__int128)(ua * ub);
                r = hi ? (uint64_t)(p >> 16) : (uint64_t)p;
              } else if (wide) {
                r = s ? (uint64_t)(sa * sb) : ua * ub;
                out_type = s ? (width == 2 ? T_S32 : T_S64) : (width == 2 ? T_U32 : T_U64);
              } else if (hi) {
                __int128 p = s ? (__int128)sa * sb : (__int128)((unsigned __int128)ua * ub);
                r = (uint64_t)(p >> (8 * width));
              } else {
                r = ua * ub;
              }
              if (in.op == OP_MAD || in.op == OP_MAD24 || in.op == OP_MADC) {
                if (wide) r += (uint64_t)(s ? (int64_t)sext(c, width * 2) : (int64_t)c);
                else r += uc + (in.op == OP_MADC ? ((w.carry >> lane) & 1) : 0);
                if ((in.flags & F_SAT) && s && hi) {
                  __int128 x = ((__int128)sa * sb >> 32) + sc;
                  r = (uint64_t)(int64_t)std::min<__int128>(std::max<__int128>(x, INT32_MIN), INT32_MAX);
                }
              }
              break;
            }
            case OP_DIV:
              if (ub == 0) r = s ? (uint64_t)-1 : mask_of(width);
              else if (s) r = (sb == -1) ? (uint64_t)(-sa) : (uint64_t)(sa / sb);
              else r = ua / ub;
              break;
            case OP_REM:
              if (ub == 0) r = ua;
              else if (s) r = (sb == -1) ? 0 : (uint64_t)(sa % sb);
              else r = ua % ub;
              break;
            case OP_ABS: r = (uint64_t)(sa < 0 ? -sa : sa); break;
            case OP_NEG: r = (uint64_t)(-sa); break;
            case OP_MIN: r = s ? (uint64_t)std::min(sa, sb) : std::min(ua, ub); break;
            case OP_MAX: r = s ? (uint64_t)std::max(sa, sb) : std::max(ua, ub); break;
            case OP_AND: r = a & b; break;
            case OP_OR: r = a | b; break;
            case OP_XOR: r = a ^ b; break;
            case OP_NOT: r = ~a; break;
            case OP_CNOT: r = ua == 0 ? 1 : 0; break;
            case OP_SHL: { uint32_t k = (uint32_t)src(w, op(in, 2), lane, T_U32); r = k >= (uint32_t)(8 * width) ? 0 : ua << k; break; }
            case OP_SHR: {
              uint32_t k = (uint32_t)src(w, op(in, 2), lane, T_U32);
              if (s) r = (uint64_t)(k >= (uint32_t)(8 * width) ? (sa < 0 ? -1 : 0) : sa >> k);
              else r = k >= (uint32_t)(8 * width) ? 0 : ua >> k;
              break;
            }
            case OP_POPC: r = (uint64_t)__builtin_popcountll(ua); out_type = T_U32; break;
            case OP_CLZ: r = ua == 0 ? (uint64_t)(8 * width) : (uint64_t)(__builtin_clzll(ua) - (64 - 8 * width)); out_type = T_U32; break;
            case OP_BREV: {
              uint64_t x = 0;
              for (int k = 0; k < 8 * width; k++) if ((ua >> k) & 1) x |= 1ull << (8 * width - 1 - k);
              r = x;
              break;
            }
            case OP_BFIND: {
              int pos = -1;
              uint64_t x = s && sa < 0 ? ~ua & mask_of(width) : ua;
              for (int k = 8 * width - 1; k >= 0; k--) if ((x >> k) & 1) { pos = k; break; }
              r = pos < 0 ? 0xFFFFFFFFull : ((in.flags & F_SHIFTAMT) ? (uint64_t)(8 * width - 1 - pos) : (uint64_t)pos);
              out_type = T_U32;
              break;
            }
            case OP_BFE: {
              uint32_t pos = (uint32_t)(src(w, op(in, 2), lane, T_U32) & 0xFF), len = (uint32_t)(src(w, op(in, 3), lane, T_U32) & 0xFF);
              int bits = 8 * width;
              uint64_t x = 0;
              bool sbit = s ? (len == 0 ? false : ((ua >> std::min<uint32_t>(pos + len - 1, bits - 1)) & 1)) : false;
              for (int k = 0; k < bits; k++) {
                bool bit = (uint32_t)k < len ? ((pos + k < (uint32_t)bits) ? ((ua >> (pos + k)) & 1) : (s ? ((ua >> (bits - 1)) & 1) : 0)) : sbit;
                if (bit) x |= 1ull << k;
              }
              r = x;
              break;
            }
            case OP_BFI: {  // bfi d, f, b, pos, len: insert f into b
              uint32_t pos = (uint32_t)(src(w, op(in, 3), lane, T_U32) & 0xFF), len = (uint32_t)(src(w, op(in, 4), lane, T_U32) & 0xFF);
              uint64_t x = ub;
              for (uint32_t k = 0; k < len && pos + k < (uint32_t)(8 * width); k++) {
                x &= ~(1ull << (pos + k));
                x |= ((ua >> k) & 1) << (pos + k);
              }
              r = x;
              break;
            }
            case OP_PRMT: {
              if (in.sub) fault("unsupported", "prmt with a mode is not run by the CPU emulator yet", in, w, lane);
              uint64_t bytes = (ua & 0xFFFFFFFF) | ((ub & 0xFFFFFFFF) << 32);
              uint32_t sel = (uint32_t)uc;
              uint32_t x = 0;
              for (int k = 0; k < 4; k++) {
                uint32_t sk = (sel >> (4 * k)) & 0xF;
                uint32_t byte = (uint32_t)(bytes >> (8 * (sk & 7))) & 0xFF;
                if (sk & 8) byte = (byte & 0x80) ? 0xFF : 0;
                x |= byte << (8 * k);
              }
              r = x;
              break;
            }
            case OP_LOP3: {
              uint32_t lut = (uint32_t)src(w, op(in, 4), lane, T_U32) & 0xFF;
              uint64_t x = 0;
              for (int k = 0; k < 8 * width; k++) {
                int idx = (int)(((ua >> k) & 1) << 2 | ((ub >> k) & 1) << 1 | ((uc >> k) & 1));
                x |= (uint64_t)((lut >> idx) & 1) << k;
              }
              r = x;
              break;
            }
            case OP_SHF: {
              uint32_t k = (uint32_t)uc;
              k = (in.flags & F_CLAMP) ? std::min<uint32_t>(k, 32) : (k & 31);
              uint64_t both = (ub << 32) | (ua & 0xFFFFFFFF);
              r = in.sub == S_L ? (uint64_t)((both << k) >> 32) : (uint64_t)(both >> k);
              break;
            }
            case OP_DP4A: case OP_DP2A: {
              bool as = is_signed(in.t[0]), bs = is_signed(in.t[1]);
              int64_t acc = sext(c, 4);
              if (in.op == OP_DP4A) {
                for (int k = 0; k < 4; k++) {
                  int64_t x = as ? (int8_t)(ua >> (8 * k)) : (uint8_t)(ua >> (8 * k));
                  int64_t y = bs ? (int8_t)(ub >> (8 * k)) : (uint8_t)(ub >> (8 * k));
                  acc += x * y;
                }
              } else {
                for (int k = 0; k < 2; k++) {
                  int64_t x = as ? (int16_t)(ua >> (16 * k)) : (uint16_t)(ua >> (16 * k));
                  int sel = (in.flags & F_HI) ? 2 : 0;
                  int64_t y = bs ? (int8_t)(ub >> (8 * (sel + k))) : (uint8_t)(ub >> (8 * (sel + k)));
                  acc += x * y;
                }
              }
              r = (uint64_t)acc;
              out_type = T_B32;
              break;
            }
            case OP_SAD: r = (s ? (uint64_t)(sa > sb ? sa - sb : sb - sa) : (ua > ub ? ua - ub : ub - ua)) + uc; break;
            case OP_FNS: fault("unsupported", "fns is not run by the CPU emulator yet", in, w, lane);
            case OP_BMSK: {
              uint32_t pos = (uint32_t)ua, len = (uint32_t)ub;
              uint64_t mk = len >= 32 ? 0xFFFFFFFFull : ((1ull << len) - 1);
              r = pos >= 32 ? 0 : (mk << pos) & 0xFFFFFFFFull;
              break;
            }
            case OP_SZEXT: {
              uint32_t k = (uint32_t)ub & 0xFF;
              if (k >= 32) r = ua;
              else if (k == 0) r = 0;
              else if (s) r = (uint64_t)(int64_t)((int32_t)((uint32_t)ua << (32 - k)) >> (32 - k));
              else r = ua & ((1ull << k) - 1);
              break;
            }
            default:
              fault("unsupported", "this instruction is not run by the CPU emulator yet", in, w, lane);
          }
          D(r, out_type);
        }
      }
    }
  }
}

void Machine::exec(Warp& w, Entry& e, const Insn& in, uint32_t active, uint32_t m) {
  (void)e;
  switch (in.op) {
    case OP_LD: case OP_LDU: do_ld_st(w, in, m, false); return;
    case OP_ST: do_ld_st(w, in, m, true); return;
    case OP_ATOM: case OP_RED: do_atom(w, in, m); return;
    case OP_MEMBAR: case OP_FENCE: {
      bool grid_scope = (in.flags & (F_GL | F_GPU | F_SYS)) || in.op == OP_FENCE;
      if (in.flags & F_CTA) grid_scope = false;
      if (in.flags & F_PROXY) return;
      for (int lane = 0; lane < WARP; lane++)
        if ((m >> lane) & 1 && grid_scope) fence_count[block_linear * tpb + (uint64_t)(w.id * WARP + lane)]++;
      return;
    }
    case OP_SHFL: case OP_VOTE: case OP_ACTIVEMASK: case OP_MATCH: case OP_REDUX: case OP_ELECT:
      do_warp_collective(w, in, active, m);
      return;
    case OP_CP: do_cp_async(w, in, m); return;
    case OP_LDMATRIX: do_ldmatrix(w, in, m, false); return;
    case OP_STMATRIX: do_ldmatrix(w, in, m, true); return;
    case OP_MMA: do_mma(w, in, m); return;
    case OP_NANOSLEEP: case OP_PREFETCH: case OP_PREFETCHU: case OP_PMEVENT: case OP_GRIDDEPCONTROL:
    case OP_DISCARD: case OP_APPLYPRIORITY:
      return;
    case OP_CREATEPOLICY:
      for (int lane = 0; lane < WARP; lane++) if ((m >> lane) & 1) dst(w, op(in, 0), lane, 0, T_B64);
      return;
    default: do_alu(w, in, m); return;
  }
}

}  // namespace vm
