// Fast paths for the instructions that dominate NVRTC's output (moves, f32 arithmetic, 32/64-bit
// integer arithmetic and logic, comparisons, selects, bf16 conversions): one specialised lane loop
// each, operands read straight from the register file. Anything unusual (a guard-free check is not
// needed: the caller passes the lanes to run) falls back to the general ALU in alu.cpp, which defines
// the semantics; these paths must give bit-identical results.
#include <cmath>

#include "engine.h"
#include "numeric.h"

namespace vm {

namespace {

enum Fast : uint8_t {
  F_NONE = 0, F_MOV, F_ADD_F32, F_SUB_F32, F_MUL_F32, F_FMA_F32, F_ADD_I32, F_SUB_I32, F_MUL_LO_I32,
  F_MAD_LO_I32, F_ADD_I64, F_SUB_I64, F_MUL_LO_I64, F_SHL_32, F_SHR_U32, F_SHR_S32, F_SHL_64, F_AND_32,
  F_OR_32, F_XOR_32, F_AND_64, F_MUL_WIDE_S32, F_MUL_WIDE_U32, F_SETP_S32, F_SETP_U32, F_SETP_F32,
  F_SETP_S64, F_SELP_32, F_CVT_F32_BF16, F_CVT_BF16X2_F32, F_CVT_S64_S32, F_CVT_U64_U32,
  F_MAX_F32, F_MIN_F32, F_NEG_F32, F_ABS_F32,
};

// fmaf through the hardware instruction where the CPU has it (libm's fmaf is a call through an
// ifunc on every lane); both give the single-rounded fused result.
__attribute__((target("fma"))) void fma_lanes_hw(uint64_t* D, const uint64_t* a, uint64_t ai, const uint64_t* b,
                                                 uint64_t bi, const uint64_t* c, uint64_t ci, uint32_t m) {
  for (uint32_t mm = m; mm; mm &= mm - 1) {
    int l = __builtin_ctz(mm);
    float x = as_f32(a ? a[l] : ai), y = as_f32(b ? b[l] : bi), z = as_f32(c ? c[l] : ci);
    D[l] = bits_f32(__builtin_fmaf(x, y, z));
  }
}
const bool have_fma = __builtin_cpu_supports("fma");

bool plain(const Opnd& o) { return o.kind == K_REG || (o.kind == K_IMM && o.n == 0); }
bool plainf(const Opnd& o) { return o.kind == K_REG || (o.kind == K_IMM && o.n == 4); }

}  // namespace

uint8_t classify_fast(const Program& p, const Insn& in) {
  if (in.nlog < 2 || in.rnd > R_RN || (in.flags & (F_SAT | F_FTZ | F_CC | F_RELU | F_SATFINITE | F_NAN | F_XORSIGN | F_ABS))) return F_NONE;
  const Opnd* o[4] = {nullptr, nullptr, nullptr, nullptr};
  for (int k = 0; k < in.nlog && k < 4; k++) o[k] = &p.ops[in.opb + in.lidx[k]];
  if (o[0]->kind != K_REG || (o[0]->n != 0)) return F_NONE;
  int t = in.t[0];
  bool i32 = t == T_S32 || t == T_U32 || t == T_B32;
  bool i64 = t == T_S64 || t == T_U64 || t == T_B64;
  int n = in.nlog;
  auto all_plain = [&](int from, bool f) {
    for (int k = from; k < n; k++)
      if (!(f ? plainf(*o[k]) : plain(*o[k])) || o[k]->n == 1) return false;
    return true;
  };
  int regw = p.regw[(size_t)o[0]->reg];
  // the lane loops write values of the instruction's width: the destination must hold them whole
  int need = in.op == OP_SETP ? 1 : (i64 || (in.op == OP_MUL && (in.flags & F_WIDE)) ||
                                     (in.op == OP_CVT && (in.t[0] == T_S64 || in.t[0] == T_U64))) ? 8 : 4;
  if (regw < need) return F_NONE;
  switch (in.op) {
    case OP_MOV:
      if (n == 2 && (i32 || i64 || t == T_F32) && (o[1]->kind == K_REG || (o[1]->kind == K_IMM && o[1]->n != 8)) &&
          regw >= (i64 ? 8 : 4) && (o[1]->kind != K_REG || p.regw[(size_t)o[1]->reg] >= (i64 ? 8 : 4)))
        return F_MOV;
      return F_NONE;
    case OP_ADD: case OP_SUB: case OP_MUL:
      if (n != 3) return F_NONE;
      if (t == T_F32 && all_plain(1, true) && !(in.flags & (F_HI | F_WIDE)))
        return in.op == OP_ADD ? F_ADD_F32 : in.op == OP_SUB ? F_SUB_F32 : F_MUL_F32;
      if (i32 && all_plain(1, false) && !(in.flags & (F_HI | F_WIDE)))
        return in.op == OP_ADD ? F_ADD_I32 : in.op == OP_SUB ? F_SUB_I32 : F_MUL_LO_I32;
      if (i64 && all_plain(1, false) && !(in.flags & (F_HI | F_WIDE)))
        return in.op == OP_ADD ? F_ADD_I64 : in.op == OP_SUB ? F_SUB_I64 : F_MUL_LO_I64;
      if (in.op == OP_MUL && (in.flags & F_WIDE) && all_plain(1, false))
        return t == T_S32 ? F_MUL_WIDE_S32 : t == T_U32 ? F_MUL_WIDE_U32 : F_NONE;
      return F_NONE;
    case OP_FMA: case OP_MAD:
      if (n != 4) return F_NONE;
      if (t == T_F32 && all_plain(1, true)) return F_FMA_F32;
      if (in.op == OP_MAD && i32 && all_plain(1, false) && (in.flags & F_LO)) return F_MAD_LO_I32;
      return F_NONE;
    case OP_SHL: case OP_SHR:
      if (n != 3 || !all_plain(1, false)) return F_NONE;
      if (i32) return in.op == OP_SHL ? F_SHL_32 : (t == T_S32 ? F_SHR_S32 : F_SHR_U32);
      if (i64 && in.op == OP_SHL) return F_SHL_64;
      return F_NONE;
    case OP_AND: case OP_OR: case OP_XOR:
      if (n != 3 || !all_plain(1, false)) return F_NONE;
      if (i32) return in.op == OP_AND ? F_AND_32 : in.op == OP_OR ? F_OR_32 : F_XOR_32;
      if (i64 && in.op == OP_AND) return F_AND_64;
      return F_NONE;
    case OP_SETP:
      if (n != 3 || in.sub) return F_NONE;
      if (t == T_S32 && all_plain(1, false)) return F_SETP_S32;
      if ((t == T_U32 || t == T_B32) && all_plain(1, false)) return F_SETP_U32;
      if (t == T_S64 && all_plain(1, false)) return F_SETP_S64;
      if (t == T_F32 && all_plain(1, true)) return F_SETP_F32;
      return F_NONE;
    case OP_SELP:
      if (n != 4 || o[3]->kind != K_REG || o[3]->n) return F_NONE;
      if (i32 && plain(*o[1]) && plain(*o[2])) return F_SELP_32;
      if (t == T_F32 && plainf(*o[1]) && plainf(*o[2])) return F_SELP_32;  // bits either way
      return F_NONE;
    case OP_CVT:
      if (in.t[0] == T_F32 && in.t[1] == T_BF16 && n == 2 && o[1]->kind == K_REG) return F_CVT_F32_BF16;
      if (in.t[0] == T_BF16X2 && in.t[1] == T_F32 && n == 3 && in.rnd == R_RN && o[1]->kind == K_REG && o[2]->kind == K_REG)
        return F_CVT_BF16X2_F32;
      if (in.t[0] == T_S64 && in.t[1] == T_S32 && n == 2 && o[1]->kind == K_REG && regw == 8) return F_CVT_S64_S32;
      if (in.t[0] == T_U64 && in.t[1] == T_U32 && n == 2 && o[1]->kind == K_REG && regw == 8) return F_CVT_U64_U32;
      return F_NONE;
    case OP_MAX: case OP_MIN:
      if (t == T_F32 && n == 3 && all_plain(1, true)) return in.op == OP_MAX ? F_MAX_F32 : F_MIN_F32;
      return F_NONE;
    case OP_NEG: case OP_ABS:
      if (t == T_F32 && n == 2 && o[1]->kind == K_REG) return in.op == OP_NEG ? F_NEG_F32 : F_ABS_F32;
      return F_NONE;
    default:
      return F_NONE;
  }
}

bool Machine::fast_exec(Warp& w, const Insn& in, uint32_t m) {
  if (in.fast == F_NONE) return false;
  uint64_t* R = w.regs.data();
  const Opnd& d = P.ops[in.opb + in.lidx[0]];
  uint64_t* D = R + (size_t)d.reg * WARP;
  auto opnd = [&](int k) -> const Opnd& { return P.ops[in.opb + in.lidx[k]]; };
  // a register operand's lanes, or an immediate broadcast
  struct Src {
    const uint64_t* r;
    uint64_t imm;
    uint64_t operator[](int lane) const { return r ? r[lane] : imm; }
  };
  auto S = [&](int k) -> Src {
    const Opnd& o = opnd(k);
    return o.kind == K_REG ? Src{R + (size_t)o.reg * WARP, 0} : Src{nullptr, (uint64_t)o.imm};
  };
  auto f = [](uint64_t v) { return as_f32(v); };
  auto fb = [](float x) { return bits_f32(x); };
  auto s32 = [](uint64_t v) { return (int32_t)(uint32_t)v; };
  constexpr uint64_t M32 = 0xFFFFFFFFull;
#define LANES for (uint32_t mm = m; mm; mm &= mm - 1) { int l = __builtin_ctz(mm);
#define END }
  switch (in.fast) {
    case F_MOV: { Src a = S(1); uint64_t mask = (in.t[0] == T_S64 || in.t[0] == T_U64 || in.t[0] == T_B64) ? ~0ull : M32;
      LANES D[l] = a[l] & mask; END break; }
    case F_ADD_F32: { Src a = S(1), b = S(2); LANES D[l] = fb(f(a[l]) + f(b[l])); END break; }
    case F_SUB_F32: { Src a = S(1), b = S(2); LANES D[l] = fb(f(a[l]) - f(b[l])); END break; }
    case F_MUL_F32: { Src a = S(1), b = S(2); LANES D[l] = fb(f(a[l]) * f(b[l])); END break; }
    case F_FMA_F32: {
      Src a = S(1), b = S(2), c = S(3);
      if (have_fma) { fma_lanes_hw(D, a.r, a.imm, b.r, b.imm, c.r, c.imm, m); break; }
      LANES D[l] = fb(std::fma(f(a[l]), f(b[l]), f(c[l]))); END break;
    }
    case F_MAX_F32: { Src a = S(1), b = S(2); LANES D[l] = fb((float)fmax_nan(f(a[l]), f(b[l]))); END break; }
    case F_MIN_F32: { Src a = S(1), b = S(2); LANES D[l] = fb((float)fmin_nan(f(a[l]), f(b[l]))); END break; }
    case F_NEG_F32: { Src a = S(1); LANES D[l] = (a[l] ^ 0x80000000ull) & M32; END break; }
    case F_ABS_F32: { Src a = S(1); LANES D[l] = a[l] & 0x7FFFFFFFull; END break; }
    case F_ADD_I32: { Src a = S(1), b = S(2); LANES D[l] = (a[l] + b[l]) & M32; END break; }
    case F_SUB_I32: { Src a = S(1), b = S(2); LANES D[l] = (a[l] - b[l]) & M32; END break; }
    case F_MUL_LO_I32: { Src a = S(1), b = S(2); LANES D[l] = (a[l] * b[l]) & M32; END break; }
    case F_MAD_LO_I32: { Src a = S(1), b = S(2), c = S(3); LANES D[l] = (a[l] * b[l] + c[l]) & M32; END break; }
    case F_ADD_I64: { Src a = S(1), b = S(2); LANES D[l] = a[l] + b[l]; END break; }
    case F_SUB_I64: { Src a = S(1), b = S(2); LANES D[l] = a[l] - b[l]; END break; }
    case F_MUL_LO_I64: { Src a = S(1), b = S(2); LANES D[l] = a[l] * b[l]; END break; }
    case F_SHL_32: { Src a = S(1), b = S(2); LANES uint32_t k = (uint32_t)b[l]; D[l] = k >= 32 ? 0 : ((a[l] << k) & M32); END break; }
    case F_SHR_U32: { Src a = S(1), b = S(2); LANES uint32_t k = (uint32_t)b[l]; D[l] = k >= 32 ? 0 : ((a[l] & M32) >> k); END break; }
    case F_SHR_S32: { Src a = S(1), b = S(2); LANES uint32_t k = (uint32_t)b[l]; int32_t x = s32(a[l]);
      D[l] = (uint64_t)(uint32_t)(k >= 32 ? (x < 0 ? -1 : 0) : (x >> k)); END break; }
    case F_SHL_64: { Src a = S(1), b = S(2); LANES uint32_t k = (uint32_t)b[l]; D[l] = k >= 64 ? 0 : (a[l] << k); END break; }
    case F_AND_32: { Src a = S(1), b = S(2); LANES D[l] = (a[l] & b[l]) & M32; END break; }
    case F_OR_32: { Src a = S(1), b = S(2); LANES D[l] = (a[l] | b[l]) & M32; END break; }
    case F_XOR_32: { Src a = S(1), b = S(2); LANES D[l] = (a[l] ^ b[l]) & M32; END break; }
    case F_AND_64: { Src a = S(1), b = S(2); LANES D[l] = a[l] & b[l]; END break; }
    case F_MUL_WIDE_S32: { Src a = S(1), b = S(2); LANES D[l] = (uint64_t)((int64_t)s32(a[l]) * (int64_t)s32(b[l])); END break; }
    case F_MUL_WIDE_U32: { Src a = S(1), b = S(2); LANES D[l] = (a[l] & M32) * (b[l] & M32); END break; }
    case F_SETP_S32: case F_SETP_U32: case F_SETP_S64: {
      Src a = S(1), b = S(2);
      LANES D[l] = compare_int(in.cmp, a[l], b[l], in.t[0]) ? 1 : 0; END
      break;
    }
    case F_SETP_F32: {
      Src a = S(1), b = S(2);
      LANES D[l] = compare_float(in.cmp, f(a[l]), f(b[l])) ? 1 : 0; END
      break;
    }
    case F_SELP_32: { Src a = S(1), b = S(2), c = S(3); LANES D[l] = ((c[l] & 1) ? a[l] : b[l]) & M32; END break; }
    case F_CVT_F32_BF16: { Src a = S(1); LANES D[l] = (a[l] & 0xFFFFull) << 16; END break; }
    case F_CVT_BF16X2_F32: { Src a = S(1), b = S(2);
      LANES D[l] = ((uint64_t)f32_to_bf16(f(a[l])) << 16) | f32_to_bf16(f(b[l])); END break; }
    case F_CVT_S64_S32: { Src a = S(1); LANES D[l] = (uint64_t)(int64_t)s32(a[l]); END break; }
    case F_CVT_U64_U32: { Src a = S(1); LANES D[l] = a[l] & M32; END break; }
    default: return false;
  }
#undef LANES
#undef END
  return true;
}

}  // namespace vm
