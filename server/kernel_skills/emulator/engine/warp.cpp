// Warp collectives (shfl, vote, match, redux, activemask, elect), atomics, cp.async, ldmatrix/stmatrix
// and mma.sync: the instructions whose lanes see each other.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine.h"
#include "numeric.h"

namespace vm {

static int first_lane(uint32_t m) { return m ? __builtin_ctz(m) : -1; }

void Machine::do_warp_collective(Warp& w, const Insn& in, uint32_t active, uint32_t m) {
  if (in.op == OP_ACTIVEMASK) {
    for (int lane = 0; lane < WARP; lane++)
      if ((m >> lane) & 1) dst(w, op(in, 0), lane, active, T_B32);
    return;
  }
  if (!m) return;
  int last = in.nlog - 1;
  int lane0 = first_lane(m);
  // Each lane names the lanes it works with (its member mask): disjoint groups in one warp are legal.
  // A lane must name itself, and every lane it names must execute this collective here.
  uint32_t mk[WARP] = {0};
  const char* names[] = {"__shfl_sync", "__vote/__ballot_sync", "__match_sync", "__reduce_*_sync", "elect.sync"};
  int which = in.op == OP_SHFL ? 0 : in.op == OP_VOTE ? 1 : in.op == OP_MATCH ? 2 : in.op == OP_REDUX ? 3 : 4;
  for (int lane = 0; lane < WARP; lane++) {
    if (!((m >> lane) & 1)) continue;
    mk[lane] = (uint32_t)src(w, op(in, last), lane, T_B32);
    if (!((mk[lane] >> lane) & 1)) {
      char text[160];
      std::snprintf(text, sizeof text, "%s is executed by lane %d, which its member mask 0x%x does not name",
                    names[which], lane, mk[lane]);
      fault("warp_misuse", text, in, w, lane);
    }
    if (mk[lane] & ~m) check_mask(w, in, active, m & mk[lane], mk[lane], names[which]);
  }
  uint32_t member = mk[lane0];
  switch (in.op) {
    case OP_SHFL: {
      uint64_t srcv[WARP];
      for (int lane = 0; lane < WARP; lane++) srcv[lane] = ((m >> lane) & 1) ? src(w, op(in, 1), lane, T_B32) : 0;
      for (int lane = 0; lane < WARP; lane++) {
        if (!((m >> lane) & 1)) continue;
        uint32_t b = (uint32_t)src(w, op(in, 2), lane, T_B32) & 31;
        uint32_t c = (uint32_t)src(w, op(in, 3), lane, T_B32);
        uint32_t cval = c & 31, seg = (c >> 8) & 31;
        int max_lane = (int)((lane & seg) | (cval & ~seg)), min_lane = (int)(lane & seg);
        int j = lane;
        bool p = false;
        switch (in.sub) {
          case S_UP: j = lane - (int)b; p = j >= max_lane; break;
          case S_DOWN: j = lane + (int)b; p = j <= max_lane; break;
          case S_BFLY: j = lane ^ (int)b; p = j <= max_lane; break;
          default: j = min_lane | (int)(b & ~seg); p = j <= max_lane; break;
        }
        if (!p) j = lane;
        if (j < 0 || j > 31 || !((m >> j) & 1) || !((mk[lane] >> j) & 1))
          fault("warp_misuse", "__shfl_sync reads lane " + std::to_string(j) + ", which does not take part in it", in, w, lane);
        const Opnd& d = op(in, 0);
        if (d.kind == K_PAIR) {
          dst(w, item(in, 0, 0), lane, srcv[j], T_B32);
          dst(w, item(in, 0, 1), lane, p ? 1 : 0, T_PRED);
        } else {
          dst(w, d, lane, srcv[j], T_B32);
        }
      }
      return;
    }
    case OP_VOTE: {
      uint32_t ballot = 0;
      for (int lane = 0; lane < WARP; lane++)
        if ((m >> lane) & 1 && (src(w, op(in, 1), lane, T_PRED) & 1)) ballot |= 1u << lane;
      for (int lane = 0; lane < WARP; lane++) {
        if (!((m >> lane) & 1)) continue;
        uint32_t group = mk[lane], b = ballot & group;
        switch (in.sub) {
          case S_BALLOT: dst(w, op(in, 0), lane, b, T_B32); break;
          case S_ALL: dst(w, op(in, 0), lane, b == group, T_PRED); break;
          case S_ANY: dst(w, op(in, 0), lane, b != 0, T_PRED); break;
          default: dst(w, op(in, 0), lane, b == 0 || b == group, T_PRED); break;  // uni
        }
      }
      return;
    }
    case OP_MATCH: {
      int t = in.t[0];
      uint64_t vals[WARP];
      for (int lane = 0; lane < WARP; lane++) vals[lane] = ((m >> lane) & 1) ? src(w, op(in, 1), lane, t) : 0;
      for (int lane = 0; lane < WARP; lane++) {
        if (!((m >> lane) & 1)) continue;
        uint32_t group = mk[lane], same = 0;
        bool all_same = true;
        for (int k = 0; k < WARP; k++) {
          if (!((group >> k) & 1)) continue;
          if (vals[k] == vals[lane]) same |= 1u << k;
          else all_same = false;
        }
        const Opnd& d = op(in, 0);
        if (in.sub == S_ALL) {
          uint32_t r = all_same ? group : 0;
          if (d.kind == K_PAIR) {
            dst(w, item(in, 0, 0), lane, r, T_B32);
            dst(w, item(in, 0, 1), lane, all_same, T_PRED);
          } else {
            dst(w, d, lane, r, T_B32);
          }
        } else {
          dst(w, d, lane, same, T_B32);
        }
      }
      return;
    }
    case OP_REDUX: {
      int t = in.t[0];
      bool s = t == T_S32;
      for (int lane = 0; lane < WARP; lane++) {
        if (!((m >> lane) & 1)) continue;
        int64_t acc = 0;
        bool first = true;
        for (int k = 0; k < WARP; k++) {
          if (!((mk[lane] >> k) & 1)) continue;
          uint64_t v = src(w, op(in, 1), k, t) & 0xFFFFFFFFull;
          int64_t x = s ? (int64_t)(int32_t)v : (int64_t)v;
          if (first) { acc = x; first = false; continue; }
          switch (in.sub) {
            case S_ADD: acc += x; break;
            case S_MIN: acc = std::min(acc, x); break;
            case S_MAX: acc = std::max(acc, x); break;
            case S_AND: acc &= x; break;
            case S_OR: acc |= x; break;
            case S_XOR: acc ^= x; break;
            default: fault("unsupported", "this redux.sync form is not run by the CPU emulator yet", in, w, lane);
          }
        }
        dst(w, op(in, 0), lane, (uint64_t)acc, T_B32);
      }
      return;
    }
    default: {  // elect.sync d|p, membermask
      int leader = first_lane(member);
      for (int lane = 0; lane < WARP; lane++) {
        if (!((m >> lane) & 1)) continue;
        const Opnd& d = op(in, 0);
        if (d.kind == K_PAIR) {
          dst(w, item(in, 0, 0), lane, (uint64_t)leader, T_B32);
          dst(w, item(in, 0, 1), lane, lane == leader, T_PRED);
        } else {
          dst(w, d, lane, lane == leader, T_PRED);
        }
      }
      return;
    }
  }
}

// ------------------------------------------------------------------------------------- atomics
void Machine::do_atom(Warp& w, const Insn& in, uint32_t m) {
  bool is_red = in.op == OP_RED;
  int t = in.t[0];
  int width = type_width(t);
  if (in.vec) fault("unsupported", "vector atomics are not run by the CPU emulator yet", in, w, first_lane(m));
  if (width > 8) fault("unsupported", "128-bit atomics are not run by the CPU emulator yet", in, w, first_lane(m));
  int a_idx = is_red ? 0 : 1;
  for (int k = 0; k < WARP; k++) {
    int lane = J.schedule ? WARP - 1 - k : k;
    if (!((m >> lane) & 1)) continue;
    uint64_t addr = address(w, op(in, a_idx), lane);
    uint8_t buf[8] = {0};
    int space = in.space;
    mem_access(w, lane, space, addr, (uint32_t)width, false, true, buf, in);
    uint64_t old = 0;
    std::memcpy(&old, buf, (size_t)width);
    uint64_t b = src(w, op(in, a_idx + 1), lane, t);
    uint64_t nv = old;
    auto fl = [&](uint64_t v) -> double {
      switch (t) {
        case T_F32: return as_f32(v);
        case T_F64: return as_f64(v);
        case T_F16: return f16_to_f32((uint16_t)v);
        case T_BF16: return bf16_to_f32((uint16_t)v);
        default: return 0;
      }
    };
    auto fput = [&](double d) -> uint64_t {
      switch (t) {
        case T_F32: return bits_f32((float)d);
        case T_F64: return bits_f64(d);
        case T_F16: return f64_to_f16(d);
        default: return f64_to_bf16(d);
      }
    };
    bool isf = t == T_F32 || t == T_F64 || t == T_F16 || t == T_BF16;
    bool sgn = t == T_S32 || t == T_S64;
    uint64_t mk = width >= 8 ? ~0ull : ((1ull << (8 * width)) - 1);
    switch (in.sub) {
      case S_ADD:
        if (t == T_F16X2 || t == T_BF16X2) {
          uint64_t r = 0;
          for (int h = 0; h < 2; h++) {
            uint16_t x = (uint16_t)(old >> (16 * h)), y = (uint16_t)(b >> (16 * h));
            double s = t == T_F16X2 ? (double)f16_to_f32(x) + f16_to_f32(y) : (double)bf16_to_f32(x) + bf16_to_f32(y);
            r |= (uint64_t)(t == T_F16X2 ? f64_to_f16(s) : f64_to_bf16(s)) << (16 * h);
          }
          nv = r;
        } else if (isf) {
          nv = t == T_F32 ? bits_f32(as_f32(old) + as_f32(b)) : fput(fl(old) + fl(b));
        } else {
          nv = old + b;
        }
        break;
      case S_MIN:
        nv = isf ? fput(std::fmin(fl(old), fl(b)))
             : sgn ? (uint64_t)std::min((int64_t)(width == 4 ? (int32_t)old : (int64_t)old), (int64_t)(width == 4 ? (int32_t)b : (int64_t)b))
                   : std::min(old & mk, b & mk);
        break;
      case S_MAX:
        nv = isf ? fput(std::fmax(fl(old), fl(b)))
             : sgn ? (uint64_t)std::max((int64_t)(width == 4 ? (int32_t)old : (int64_t)old), (int64_t)(width == 4 ? (int32_t)b : (int64_t)b))
                   : std::max(old & mk, b & mk);
        break;
      case S_INC: nv = (old & mk) >= (b & mk) ? 0 : old + 1; break;
      case S_DEC: nv = ((old & mk) == 0 || (old & mk) > (b & mk)) ? b : old - 1; break;
      case S_AND: nv = old & b; break;
      case S_OR: nv = old | b; break;
      case S_XOR: nv = old ^ b; break;
      case S_EXCH: nv = b; break;
      case S_CAS: {
        uint64_t c = src(w, op(in, a_idx + 2), lane, t);
        nv = (old & mk) == (b & mk) ? c : old;
        break;
      }
      default: fault("unsupported", "this atomic operation is not run by the CPU emulator yet", in, w, lane);
    }
    nv &= mk;
    std::memcpy(buf, &nv, (size_t)width);
    mem_access(w, lane, space, addr, (uint32_t)width, true, true, buf, in);
    if (!is_red) dst(w, op(in, 0), lane, old & mk, t);
    uint64_t gtid = block_linear * tpb + (uint64_t)(w.id * WARP + lane);
    if (fence_count[gtid] > 0 || (in.flags & (F_RELEASE | F_ACQ_REL))) {
      if (in.flags & (F_RELEASE | F_ACQ_REL)) fence_count[gtid]++;
      released_upto[gtid] = fence_count[gtid];
    }
    block_acquired = true;
  }
}

// ------------------------------------------------------------------------------------ cp.async
void Machine::complete_copies(Warp& w, int lane, uint32_t keep) {
  uint32_t tid = (uint32_t)(w.id * WARP + lane);
  auto& list = pending[tid];
  if (list.empty()) return;
  uint32_t committed = committed_groups[tid];
  std::vector<PendingCopy> rest;
  for (auto& c : list) {
    // groups numbered from 0; keep the `keep` most recent committed groups (and uncommitted copies
    // unless keep == 0 means wait_all, handled by the caller passing committed = next_group)
    bool done = c.group + keep < committed;
    if (!done) { rest.push_back(std::move(c)); continue; }
    const Insn& in = P.insns[(size_t)c.pc];
    shared_access(w, lane, c.dst, (uint32_t)c.bytes.size(), true, false, c.bytes.data(), in, true);
  }
  list.swap(rest);
}

void Machine::do_cp_async(Warp& w, const Insn& in, uint32_t m) {
  if (!(in.flags & F_ASYNC)) fault("unsupported", "this cp form is not run by the CPU emulator yet", in, w, first_lane(m));
  for (int lane = 0; lane < WARP; lane++) {
    if (!((m >> lane) & 1)) continue;
    uint32_t tid = (uint32_t)(w.id * WARP + lane);
    if (in.sub == S_COMMIT_GROUP) {
      next_group[tid]++;
      committed_groups[tid] = next_group[tid];
      continue;
    }
    if (in.sub == S_WAIT_GROUP || in.sub == S_WAIT_ALL) {
      uint32_t keep = 0;
      if (in.sub == S_WAIT_GROUP) keep = (uint32_t)src(w, op(in, 0), lane, T_U32);
      else committed_groups[tid] = next_group[tid] + 1;  // wait_all: uncommitted copies too
      complete_copies(w, lane, keep);
      if (in.sub == S_WAIT_ALL) committed_groups[tid] = next_group[tid];
      continue;
    }
    // cp.async.ca|cg.shared.global [dst], [src], cp-size{, src-size}
    uint64_t d = address(w, op(in, 0), lane);
    uint64_t s = address(w, op(in, 1), lane);
    uint32_t size = (uint32_t)src(w, op(in, 2), lane, T_U32);
    if (size != 4 && size != 8 && size != 16) fault("unsupported", "cp.async size must be 4, 8 or 16", in, w, lane);
    uint32_t src_size = in.nlog > 3 && op(in, 3).kind != K_IMM ? size : size;
    if (in.nlog > 3) src_size = (uint32_t)src(w, op(in, 3), lane, T_U32);
    if (d >= SHARED_WINDOW) d -= SHARED_WINDOW;
    PendingCopy c;
    c.group = next_group[tid];
    c.dst = (uint32_t)d;
    c.pc = (int)(&in - P.insns.data());
    c.bytes.assign(size, 0);
    if (src_size > size) src_size = size;
    if (src_size == size || s % size) {
      if (src_size > 0) mem_access(w, lane, SP_GLOBAL, s, size, false, false, c.bytes.data(), in);
      if (src_size < size) std::memset(c.bytes.data() + src_size, 0, size - src_size);
    } else {  // src-size < cp-size: only those bytes are read (the source is aligned to cp-size), the rest zero
      for (uint32_t k = 0; k < src_size; k++) mem_access(w, lane, SP_GLOBAL, s + k, 1, false, false, &c.bytes[k], in);
    }
    if (d + size > shared.size() || d % size) {
      uint8_t tmp[16];
      mem_access(w, lane, SP_SHARED, d, size, true, false, tmp, in);  // reports the bad destination
    }
    for (uint32_t k = 0; k < size; k++) sshadow[d + k].pending = 1;
    pending[tid].push_back(std::move(c));
  }
}

// ---------------------------------------------------------------------------- ldmatrix / stmatrix
void Machine::do_ldmatrix(Warp& w, const Insn& in, uint32_t m, bool store) {
  if (m != (w.live & ~w.exited) || m != FULL)
    fault("warp_misuse", std::string(store ? "stmatrix" : "ldmatrix") + " must be executed by all 32 lanes of the warp", in, w, first_lane(m));
  int nmat = (in.flags & F_X4) ? 4 : (in.flags & F_X2) ? 2 : 1;
  bool trans = in.flags & F_TRANS;
  int vk = store ? 1 : 0, ak = store ? 0 : 1;
  if (items(in, vk) != nmat) fault("engine", "ldmatrix with the wrong number of registers", in, w, 0);
  uint64_t rows[32];
  for (int lane = 0; lane < WARP; lane++) rows[lane] = address(w, op(in, ak), lane);
  for (int j = 0; j < nmat; j++) {
    for (int lane = 0; lane < WARP; lane++) {
      uint16_t h[2];
      for (int e = 0; e < 2; e++) {
        int r, c;  // row and column (b16 elements) of the 8x8 matrix j this lane holds
        if (!trans) { r = lane / 4; c = 2 * (lane % 4) + e; }
        else { r = 2 * (lane % 4) + e; c = lane / 4; }
        uint64_t addr = rows[j * 8 + r] + (uint64_t)(2 * c);
        int space = in.space ? in.space : SP_GENERIC;
        if (store) {
          uint32_t v = (uint32_t)src(w, item(in, vk, j), lane, T_B32);
          uint16_t x = (uint16_t)(v >> (16 * e));
          uint8_t b[2];
          std::memcpy(b, &x, 2);
          mem_access(w, j * 8 + r, space, addr, 2, true, false, b, in);
        } else {
          uint8_t b[2];
          mem_access(w, j * 8 + r, space, addr, 2, false, false, b, in);
          std::memcpy(&h[e], b, 2);
        }
      }
      if (!store) dst(w, item(in, vk, j), lane, (uint64_t)h[0] | ((uint64_t)h[1] << 16), T_B32);
    }
  }
}

// --------------------------------------------------------------------------------------- mma.sync
void Machine::do_mma(Warp& w, const Insn& in, uint32_t m) {
  if (m != FULL) fault("warp_misuse", "mma.sync must be executed by all 32 lanes of the warp", in, w, first_lane(m));
  bool k16 = in.flags & F_M16N8K16, k8 = in.flags & F_M16N8K8;
  int dt = in.t[0], at = in.t[1], ct = in.t[3];
  if ((!k16 && !k8) || !(in.flags & F_ROW) || !(in.flags & F_COL) ||
      !((at == T_BF16 || at == T_F16) && in.t[2] == at) || !((dt == T_F32 && ct == T_F32) || (dt == T_F16 && ct == T_F16)))
    fault("unsupported", "this mma.sync shape or type is not run by the CPU emulator yet (supported: m16n8k16 and "
          "m16n8k8, .row.col, bf16 or f16 inputs, f32 or f16 accumulators)", in, w, 0);
  int K = k16 ? 16 : 8;
  float A[16][16] = {}, Bm[16][8] = {}, C[16][8] = {};
  auto half = [&](uint32_t v, int e) -> float {
    uint16_t x = (uint16_t)(v >> (16 * e));
    return at == T_BF16 ? bf16_to_f32(x) : f16_to_f32(x);
  };
  for (int lane = 0; lane < WARP; lane++) {
    int g = lane >> 2, t4 = lane % 4;
    int na = K == 16 ? 4 : 2;
    for (int i = 0; i < na * 2; i++) {
      uint32_t v = (uint32_t)src(w, item(in, 1, i / 2), lane, T_B32);
      int row = g + ((i / 2) % 2 == 1 ? 8 : 0);
      int col = t4 * 2 + (i & 1) + (i >= 4 ? 8 : 0);
      A[row][col] = half(v, i & 1);
    }
    int nb = K == 16 ? 2 : 1;
    for (int i = 0; i < nb * 2; i++) {
      uint32_t v = (uint32_t)src(w, item(in, 2, i / 2), lane, T_B32);
      int krow = t4 * 2 + (i & 1) + (i >= 2 ? 8 : 0);
      Bm[krow][g] = half(v, i & 1);
    }
    for (int i = 0; i < 4; i++) {
      int row = g + (i >= 2 ? 8 : 0), col = t4 * 2 + (i & 1);
      if (ct == T_F32) C[row][col] = as_f32(src(w, item(in, 3, i), lane, T_F32));
      else C[row][col] = f16_to_f32((uint16_t)(src(w, item(in, 3, i / 2), lane, T_B32) >> (16 * (i & 1))));
    }
  }
  // Products of bf16/f16 values are exact in double; the sum is rounded once to f32 (the tensor core's
  // internal order and precision are unspecified: results agree to within the last bits of f32).
  float D[16][8];
  for (int r = 0; r < 16; r++)
    for (int c = 0; c < 8; c++) {
      double acc = C[r][c];
      for (int k = 0; k < K; k++) acc += (double)A[r][k] * (double)Bm[k][c];
      D[r][c] = (float)acc;
    }
  for (int lane = 0; lane < WARP; lane++) {
    int g = lane >> 2, t4 = lane % 4;
    if (dt == T_F32) {
      for (int i = 0; i < 4; i++) {
        int row = g + (i >= 2 ? 8 : 0), col = t4 * 2 + (i & 1);
        dst(w, item(in, 0, i), lane, bits_f32(D[row][col]), T_F32);
      }
    } else {
      for (int r = 0; r < 2; r++) {
        int row = g + (r ? 8 : 0), col = t4 * 2;
        uint64_t v = (uint64_t)f64_to_f16(D[row][col]) | ((uint64_t)f64_to_f16(D[row][col + 1]) << 16);
        dst(w, item(in, 0, r), lane, v, T_B32);
      }
    }
  }
}

}  // namespace vm
