// Scheduling, control flow, barriers, memory and its checks. Arithmetic is in alu.cpp, warp
// collectives, cp.async, ldmatrix and mma in warp.cpp, printf in printf.cpp.
#include <algorithm>
#include <sstream>

#include "engine.h"
#include "numeric.h"

namespace vm {

static int popc(uint32_t m) { return __builtin_popcount(m); }
static int first_lane(uint32_t m) { return m ? __builtin_ctz(m) : -1; }


Machine::Machine(const Program& prog, Job& job, std::vector<Buffer>& buffers) : P(prog), J(job), B(buffers) {
  tpb = J.block[0] * J.block[1] * J.block[2];
  nwarps = (tpb + WARP - 1) / WARP;
  shared_size = P.dyn_base + J.dyn_shared;
  if (J.dyn_shared > 0 && shared_size > 227 * 1024)
    fail({"launch", "the launch asks for " + std::to_string(shared_size) +
                        " bytes of shared memory per block (static + dynamic); the H100 allows 227 KB"});
  total_threads = (uint64_t)tpb * J.grid[0] * J.grid[1] * J.grid[2];
  if (total_threads > (1ull << 26))
    fail({"launch", "the launch has " + std::to_string(total_threads) +
                        " threads; the CPU emulator runs at most 2^26 (use the problem's emulator shapes)"});
  if ((uint64_t)P.local_size * tpb > (1ull << 31))
    fail({"launch", "local memory of " + std::to_string(P.local_size) + " bytes per thread times " +
                        std::to_string(tpb) + " threads is more than the CPU emulator holds"});
  for (const auto& m : P.memories) {
    Buffer& b = B[m.region];
    b.name = m.name;
    b.data = m.init;
    b.readonly = m.readonly;
    b.present = true;
    b.elem = 1;
  }
  for (size_t i = 0; i < B.size(); i++)
    B[i].base = BUFFER_BASE + ((uint64_t)i << REGION_SHIFT) + (1ull << (REGION_SHIFT - 1));
  gshadow.resize(B.size());
  fence_count.assign(total_threads, 0);
  released_upto.assign(total_threads, 0);
  budget_left = J.budget;
  if (J.count) counters = std::make_unique<Counters>(B);
}

void Machine::run() {
  uint64_t nblocks = (uint64_t)J.grid[0] * J.grid[1] * J.grid[2];
  for (uint64_t k = 0; k < nblocks; k++) {
    uint64_t b = J.schedule ? nblocks - 1 - k : k;
    block_linear = b;
    bx = (uint32_t)(b % J.grid[0]);
    by = (uint32_t)((b / J.grid[0]) % J.grid[1]);
    bz = (uint32_t)(b / ((uint64_t)J.grid[0] * J.grid[1]));
    run_block();
  }
}

void Machine::init_block() {
  // warps and their register files are reused block after block (allocating them anew would fault
  // in fresh pages every time); registers start at zero in every block, so no value leaks across
  if (warps.size() != nwarps) warps.resize(nwarps);
  for (uint32_t i = 0; i < nwarps; i++) {
    Warp& w = warps[i];
    std::vector<uint64_t> regs = std::move(w.regs);
    w = Warp();
    w.id = (int)i;
    uint32_t lanes = std::min<uint32_t>(WARP, tpb - i * WARP);
    w.live = lanes == 32 ? FULL : ((1u << lanes) - 1);
    w.stack.push_back({(int32_t)P.entry, -2, w.live, 0});
    if (regs.size() != (size_t)P.nregs * WARP) regs.assign((size_t)P.nregs * WARP, 0);
    else std::fill(regs.begin(), regs.end(), 0);
    w.regs = std::move(regs);
  }
  shared.assign(shared_size, 0);
  sshadow.assign(shared_size, SharedShadow());
  local.clear();
  local.resize(tpb);
  tparams.clear();
  tparams.resize(tpb);
  pending.assign(tpb, {});
  next_group.assign(tpb, 0);
  committed_groups.assign(tpb, 0);
  for (auto& row : vc) row.fill(0);
  for (uint32_t i = 0; i < 32; i++) vc[i][i] = 1;
  block_acquired = false;
  for (auto& a : arrivals) a.clear();
}

void Machine::run_block() {
  init_block();
  const int quantum = 512;
  while (true) {
    bool any_running = false;
    for (uint32_t k = 0; k < nwarps; k++) {
      Warp& w = warps[J.schedule ? nwarps - 1 - k : k];
      if (w.state != WarpState::Run) continue;
      any_running = true;
      running_warp = w.id;
      step_warp(w, quantum);
    }
    if (!any_running) {
      bool any_waiting = false;
      for (auto& w : warps) any_waiting |= w.state == WarpState::Barrier;
      if (!any_waiting) break;
      barrier_stuck();
    }
  }
  // copies never waited for still land (the hardware completes them)
  for (auto& w : warps)
    for (int lane = 0; lane < WARP; lane++)
      if ((w.live >> lane) & 1) complete_copies(w, lane, 0);
}

// ------------------------------------------------------------------------------------------- warps
void Machine::step_warp(Warp& w, int quantum) {
  for (int n = 0; n < quantum; n++) {
    if (w.stack.empty()) {
      w.state = WarpState::Done;
      return;
    }
    Entry& e = w.stack.back();
    if (e.mask == 0 || e.pc == e.rpc) {
      w.stack.pop_back();
      continue;
    }
    if (e.pc < 0 || e.pc >= (int32_t)P.insns.size()) {
      Fault f{"engine", "control reached an instruction outside the program"};
      fail(f);
    }
    const Insn& in = P.insns[e.pc];
    uint32_t active = e.mask;
    uint32_t m = active;
    if (in.guard >= 0) {
      uint32_t g = 0;
      const uint64_t* r = &w.regs[(size_t)in.guard * WARP];
      for (int lane = 0; lane < WARP; lane++)
        if (((active >> lane) & 1) && ((r[lane] & 1) != in.guard_neg)) g |= 1u << lane;
      m = g;
    }
    uint64_t cost = (uint64_t)popc(active);
    executed += cost;
    if (cost > budget_left) {
      Fault f = located("hang", "", in);
      const Warp* parked = nullptr;  // a warp whose lanes wait at a reconvergence point for others
      for (const auto& x : warps)
        if (x.state != WarpState::Done && x.stack.size() > 1 &&
            x.stack[x.stack.size() - 2].depth == x.stack.back().depth &&
            (x.stack[x.stack.size() - 2].mask & ~x.stack.back().mask)) { parked = &x; break; }
      if (parked != nullptr) {
        const Entry& other = parked->stack[parked->stack.size() - 2];
        f.kind = "unsupported";
        f.message = "the kernel did not finish within the emulator's budget of " + std::to_string(J.budget) +
                    " thread-instructions: warp " + std::to_string(w.id) + " keeps looping at line " +
                    std::to_string(in.line) + " while lanes of warp " + std::to_string(parked->id) +
                    " wait at line " + std::to_string(line_of_pc(other.pc)) + " for other lanes of their warp" +
                    ". If they spin-wait on those lanes (a lock, a flag another lane sets), the kernel needs "
                    "independent thread scheduling, which the emulator does not run: it runs each warp in "
                    "lockstep, so it cannot judge this kernel (otherwise this is an endless loop)";
      } else {
        f.message = "the kernel did not finish within the emulator's budget of " + std::to_string(J.budget) +
                    " thread-instructions (an endless loop, or a wait for something that never happens); last "
                    "at line " + std::to_string(in.line);
      }
      f.threads.push_back(thread_of(w.id, first_lane(active)));
      fail(f);
    }
    budget_left -= cost;
    if (counters) counters->insn(in);
    int pc = e.pc;
    switch (in.op) {
      case OP_BRA: do_branch(w, e, in, active, m, pc); continue;
      case OP_RET:
      case OP_EXIT: {
        size_t idx = w.stack.size() - 1;
        if (in.op == OP_EXIT || e.depth == 0) do_exit(w, m, in.line);
        else do_ret(w, in, m);
        if (m != active && idx < w.stack.size()) w.stack[idx].pc = pc + 1;
        continue;
      }
      case OP_CALL:
        do_call(w, e, in, m, pc);
        if (counters) counters->discard();
        continue;
      case OP_BAR:
      case OP_BARRIER:
        if (in.flags & F_WARP) {
          check_mask(w, in, active, m, (uint32_t)src(w, op(in, 0), first_lane(m), T_B32), "__syncwarp");
          w.wsync++;
          e.pc++;
          continue;
        }
        do_barrier(w, e, in, active, m, pc);
        if (w.state == WarpState::Barrier) return;
        continue;
      case OP_TRAP: {
        if (!m) { e.pc++; continue; }
        fault("trap", "the kernel executed trap (__trap() or a failed check)", in, w, first_lane(m));
      }
      default:
        if (!fast_exec(w, in, m)) exec(w, e, in, active, m);
        if (counters && counters->pending()) counters->flush(in);
        w.stack.back().pc = pc + 1;  // `e` may have moved if exec touched the stack
        continue;
    }
  }
}

void Machine::do_branch(Warp& w, Entry& e, const Insn& in, uint32_t active, uint32_t taken, int pc) {
  uint32_t not_taken = active & ~taken;
  if (taken == active) { e.pc = in.target; return; }
  if (taken == 0) { e.pc = pc + 1; return; }
  // The entry below keeps every lane and resumes at the reconvergence point; where the paths meet
  // only at the exit (reconv -1) it is never resumed by pc (-3): it empties as its lanes exit or return.
  e.pc = in.reconv >= 0 ? in.reconv : -3;
  int32_t depth = e.depth;  // read before the pushes: they may move `e`
  w.stack.push_back({pc + 1, in.reconv, not_taken, depth});
  w.stack.push_back({in.target, in.reconv, taken, depth});
}

void Machine::do_exit(Warp& w, uint32_t m, int line) {
  if (!m) return;
  w.exited |= m;
  w.exit_line = line;
  for (auto& s : w.stack) s.mask &= ~m;
  while (!w.stack.empty() && w.stack.back().mask == 0) w.stack.pop_back();
  if (w.stack.empty()) w.state = WarpState::Done;
  // a thread that exits while others of its block wait at a barrier: the barrier can never complete
}

void Machine::do_call(Warp& w, Entry& e, const Insn& in, uint32_t m, int pc) {
  const Call& c = P.calls[(size_t)in.aux];
  if (!m) { e.pc = pc + 1; return; }
  if (c.entry < 0) {
    for (int lane = 0; lane < WARP; lane++) {
      if (!((m >> lane) & 1)) continue;
      if (c.entry == -1) do_printf(w, lane, c, in);
      else do_assert(w, lane, c, in);
    }
    e.pc = pc + 1;
    return;
  }
  if (w.calls.size() >= 64) fault("unsupported", "calls nested more than 64 deep", in, w, first_lane(m));
  for (int lane = 0; lane < WARP; lane++) {
    if (!((m >> lane) & 1)) continue;
    uint8_t* tp = tparam(w.id * WARP + lane);
    for (const Copy& a : c.args) std::memmove(tp + a.dst, tp + a.src, (size_t)a.size);
  }
  int32_t depth = e.depth + 1;
  e.pc = pc + 1;  // every lane of the entry resumes here: the callers once they return
  w.calls.push_back(pc);
  w.stack.push_back({c.entry, -2, m, depth});
}

void Machine::do_ret(Warp& w, const Insn& in, uint32_t m) {
  (void)in;
  if (!m) return;
  int32_t depth = w.stack.back().depth;
  const Call& c = P.calls[(size_t)P.insns[(size_t)w.calls.back()].aux];
  if (c.ret.size > 0) {
    for (int lane = 0; lane < WARP; lane++) {
      if (!((m >> lane) & 1)) continue;
      uint8_t* tp = tparam(w.id * WARP + lane);
      std::memmove(tp + c.ret.dst, tp + c.ret.src, (size_t)c.ret.size);
    }
  }
  for (auto& s : w.stack)
    if (s.depth == depth) s.mask &= ~m;
  while (!w.stack.empty() && w.stack.back().mask == 0 && w.stack.back().depth == depth) w.stack.pop_back();
  bool frame_left = false;
  for (auto& s : w.stack) frame_left |= s.depth == depth;
  if (!frame_left) w.calls.pop_back();
}

// ---------------------------------------------------------------------------------------- barriers
void Machine::do_barrier(Warp& w, Entry& e, const Insn& in, uint32_t active, uint32_t m, int pc) {
  // bar.sync / barrier.sync a{, b};  bar.arrive a, b;  bar.red.op.pred d, a{, b}, {!}c
  int k = in.flags & F_RED ? 1 : 0;
  int lane0 = first_lane(m ? m : active);
  int id = in.nlog > k ? (int)src(w, op(in, k), lane0, T_U32) : 0;
  uint32_t count = 0;
  bool has_count = (in.flags & F_RED) ? in.nlog == 4 : in.nlog > k + 1;
  if (has_count) count = (uint32_t)src(w, op(in, k + 1), lane0, T_U32);
  if (id < 0 || id > 15) fault("unsupported", "barrier id " + std::to_string(id) + " (0-15 allowed)", in, w, lane0);
  if (m == 0) { e.pc = pc + 1; return; }
  uint32_t expected_lanes = w.live & ~w.exited;
  if (m != expected_lanes) {
    Fault f = located("barrier_divergence", "", in);
    int other_lane = first_lane(expected_lanes & ~m);
    int other_line = 0;
    for (auto it = w.stack.rbegin(); it != w.stack.rend(); ++it)
      if ((it->mask >> other_lane) & 1 && it->pc >= 0) { other_line = line_of_pc(it->pc); break; }
    if (in.guard >= 0 && (active & ~m)) other_line = in.line;
    f.message = "the barrier at line " + std::to_string(in.line) + " is reached by only part of warp " +
                std::to_string(w.id) + " (lanes " + std::to_string(popc(m)) + " of " +
                std::to_string(popc(expected_lanes)) + "); the others are at line " + std::to_string(other_line) +
                ". A block barrier must be reached by every thread of the block (or of the count it names): "
                "this is undefined behaviour, a hang or a wrong result on a GPU";
    f.other_line = other_line;
    f.threads.push_back(thread_of(w.id, first_lane(m)));
    f.threads.push_back(thread_of(w.id, other_lane));
    fail(f);
  }
  if (in.flags & F_RED) {
    uint32_t pred = 0;
    for (int lane = 0; lane < WARP; lane++)
      if ((m >> lane) & 1 && (src(w, op(in, in.nlog - 1), lane, T_PRED) & 1)) pred |= 1u << lane;
    w.bar_pred = pred;
  }
  if (has_count && (count == 0 || count % 32 != 0))
    fault("unsupported", "a named barrier's thread count must be a non-zero multiple of 32 (got " +
          std::to_string(count) + ")", in, w, lane0);
  w.state = WarpState::Barrier;
  w.bar_id = id;
  w.bar_pc = pc;
  w.bar_count = has_count ? count : 0;
  w.bar_arrive_only = (in.flags & F_ARRIVE) != 0;
  arrivals[id].push_back(w.id);
  try_release(id);
  if (w.bar_arrive_only && w.state == WarpState::Barrier) {
    // bar.arrive: counted toward the barrier, and the warp goes on at once
    w.state = WarpState::Run;
    e.pc = pc + 1;
  }
}

void Machine::try_release(int id) {
  auto& list = arrivals[id];
  if (list.empty()) return;
  uint32_t count = warps[(size_t)list[0]].bar_count;
  size_t needed = count ? count / 32 : nwarps;
  if (list.size() < needed) return;
  if (count == 0)
    for (auto& w : warps)
      if (w.exited) return;  // threads that exited never arrive: the block is stuck (reported as such)
  std::vector<Warp*> group;
  for (size_t k = 0; k < needed; k++) group.push_back(&warps[(size_t)list[k]]);
  list.erase(list.begin(), list.begin() + (long)needed);
  Warp* first_sync = nullptr;
  for (Warp* w : group)
    if (!w->bar_arrive_only) { first_sync = w; break; }
  for (Warp* w : group) {
    if (w->bar_arrive_only || first_sync == nullptr || w->bar_pc == first_sync->bar_pc) continue;
    const Insn& a = P.insns[(size_t)first_sync->bar_pc];
    const Insn& b = P.insns[(size_t)w->bar_pc];
    if (count == 0 && a.line != b.line) {
      Fault f{"barrier_divergence", ""};
      f.line = b.line;
      f.other_line = a.line;
      f.file = b.file;
      f.message = "warps of one block met at two different barrier instructions (lines " + std::to_string(b.line) +
                  " and " + std::to_string(a.line) + "): each __syncthreads() must be reached by every thread of "
                  "the block at the same barrier; barriers in divergent code are undefined behaviour";
      f.threads.push_back(thread_of(w->id, first_lane(w->live)));
      f.threads.push_back(thread_of(first_sync->id, first_lane(first_sync->live)));
      fail(f);
    }
  }
  // bar.red: the reduction over every participating thread's predicate
  uint32_t total = 0;
  bool all = true, any = false;
  for (Warp* w : group) {
    total += (uint32_t)popc(w->bar_pred);
    uint32_t lanes = w->live & ~w->exited;
    all = all && (w->bar_pred & lanes) == lanes;
    any = any || w->bar_pred != 0;
  }
  std::array<uint32_t, 32> joined{};
  for (Warp* w : group)
    for (int x = 0; x < 32; x++) joined[x] = std::max(joined[x], vc[w->id][x]);
  for (Warp* w : group) {
    if (w->bar_arrive_only) {  // an arriver releases what it wrote; it does not wait and learns nothing
      vc[w->id][w->id] = std::max(vc[w->id][w->id], joined[w->id]) + 1;
      continue;
    }
    vc[w->id] = joined;
    w->wsync++;
    if (w->state == WarpState::Barrier) {
      w->state = WarpState::Run;
      w->stack.back().pc = w->bar_pc + 1;
    }
    const Insn& in = P.insns[(size_t)w->bar_pc];
    if (in.flags & F_RED) {
      uint64_t value = in.sub == S_POPC ? total : in.sub == S_AND ? (all ? 1 : 0) : (any ? 1 : 0);
      int t = in.sub == S_POPC ? T_U32 : T_PRED;
      for (int lane = 0; lane < WARP; lane++)
        if (((w->live & ~w->exited) >> lane) & 1) dst(*w, op(in, 0), lane, value, t);
    }
    w->bar_id = -1;
  }
  for (Warp* w : group)
    if (!w->bar_arrive_only) vc[w->id][w->id] = joined[w->id] + 1;
}

void Machine::barrier_stuck() {
  Warp* waiter = nullptr;
  for (auto& w : warps)
    if (w.state == WarpState::Barrier) { waiter = &w; break; }
  Fault f{"barrier_divergence", ""};
  const Insn& bar = P.insns[(size_t)waiter->bar_pc];
  f.line = bar.line;
  f.file = bar.file;
  f.threads.push_back(thread_of(waiter->id, first_lane(waiter->live & ~waiter->exited)));
  Warp* gone = nullptr;
  for (auto& w : warps)
    if (w.exited) { gone = &w; break; }
  if (gone != nullptr) {
    f.other_line = gone->exit_line;
    f.threads.push_back(thread_of(gone->id, first_lane(gone->exited)));
    f.message = "threads of the block returned (line " + std::to_string(gone->exit_line) +
                ") while others wait at the barrier at line " + std::to_string(bar.line) +
                ": a block barrier must be reached by every thread that has not exited... on the GPU this is "
                "undefined behaviour (a hang or a barrier that does not wait); keep every thread to the barrier, "
                "or guard only the work, not the barrier";
  } else {
    f.kind = "deadlock";
    f.message = "warps wait at the barrier at line " + std::to_string(bar.line) +
                " that never completes (its thread count is never reached)";
  }
  fail(f);
}

// ------------------------------------------------------------------------------------------ memory
uint64_t Machine::address(Warp& w, const Opnd& o, int lane) {
  uint64_t base = o.reg >= 0 ? w.regs[(size_t)o.reg * WARP + lane] : 0;
  return base + (uint64_t)o.imm;
}

uint8_t* Machine::tparam(int tid) {
  auto& p = tparams[(size_t)tid];
  if (!p) p = std::make_unique<std::vector<uint8_t>>(P.tparam_size + 8, 0);
  return p->data();
}

void Machine::mem_access(Warp& w, int lane, int space, uint64_t addr, uint32_t size, bool write, bool atomic,
                         uint8_t* data, const Insn& in) {
  if (size > 1 && (addr % size) != 0 && space != SP_PARAM) {
    Fault f = located("misaligned", "a " + std::to_string(size) + "-byte " + (write ? "store" : "load") + " at an address " +
                              "that is not a multiple of " + std::to_string(size) +
                              " (vector and wide accesses must be aligned to their size)", in);
    f.threads.push_back(thread_of(w.id, lane));
    // name the buffer when it is one
    if (space == SP_GLOBAL || space == SP_GENERIC) {
      if (addr >= BUFFER_BASE && addr < SHARED_WINDOW) {
        uint64_t region = (addr - BUFFER_BASE) >> REGION_SHIFT;
        if (region < B.size() && B[region].present) {
          f.buffer = B[region].name;
          f.offset = (int64_t)(addr - B[region].base);
          f.index = f.offset >= 0 ? f.offset / B[region].elem : f.offset;
        }
      }
    }
    fail(f);
  }
  switch (space) {
    case SP_SHARED:
      return shared_access(w, lane, addr, size, write, atomic, data, in);
    case SP_LOCAL:
      return local_access(w, lane, addr, size, write, data, in);
    case SP_PARAM:
      return param_access(w, lane, addr, size, write, data, in);
    case SP_GLOBAL:
    case SP_CONST:
      return global_access(w, lane, addr, size, write, atomic, data, in);
    default:
      if (addr >= SHARED_WINDOW && addr < SHARED_WINDOW + (1ull << 32))
        return shared_access(w, lane, addr - SHARED_WINDOW, size, write, atomic, data, in);
      if (addr >= LOCAL_WINDOW && addr < LOCAL_WINDOW + (1ull << 32))
        return local_access(w, lane, addr - LOCAL_WINDOW, size, write, data, in);
      return global_access(w, lane, addr, size, write, atomic, data, in);
  }
}

void Machine::global_access(Warp& w, int lane, uint64_t addr, uint32_t size, bool write, bool atomic, uint8_t* data,
                            const Insn& in) {
  Buffer* buf = nullptr;
  uint64_t region = 0;
  if (addr >= BUFFER_BASE && addr < SHARED_WINDOW) {
    region = (addr - BUFFER_BASE) >> REGION_SHIFT;
    if (region < B.size() && B[region].present) buf = &B[region];
  }
  if (buf == nullptr || addr < buf->base || addr - buf->base + size > buf->data.size()) {
    Fault f = located("out_of_bounds", "", in);
    f.threads.push_back(thread_of(w.id, lane));
    if (buf != nullptr) {
      int64_t off = (int64_t)(addr - buf->base);
      f.buffer = buf->name;
      f.offset = off;
      f.index = off >= 0 ? off / buf->elem : -((-off + buf->elem - 1) / buf->elem);
      int64_t n = (int64_t)(buf->data.size() / buf->elem);
      f.message = std::string(write ? "write" : "read") + " of " + std::to_string(size) + " bytes at element " +
                  std::to_string(f.index) + " of '" + buf->name + "', which has " + std::to_string(n) + " elements" +
                  (f.index == n ? " (one past the end)" : "");
    } else {
      std::ostringstream s;
      s << (write ? "write" : "read") << " of " << size << " bytes at address 0x" << std::hex << addr
        << ", which is in no buffer (a null or wild pointer, or a shared/local address used as global)";
      f.message = s.str();
    }
    fail(f);
  }
  if (write && buf->readonly) fault("out_of_bounds", "write to the __constant__ variable '" + buf->name + "'", in, w, lane);
  uint64_t off = addr - buf->base;
  uint32_t tid = (uint32_t)(w.id * WARP + lane);
  uint32_t gtid = (uint32_t)(block_linear * tpb + tid);
  auto& sh = gshadow[region];
  if (write && sh.empty()) sh.assign(buf->data.size(), GlobalShadow());
  if (!sh.empty()) {
    for (uint32_t k = 0; k < size; k++) {
      GlobalShadow& s = sh[off + k];
      if (s.w_gtid == 0 || s.w_gtid == gtid + 1) continue;
      uint32_t wblock = (s.w_gtid - 1) / tpb;
      bool ordered;
      if (wblock == block_linear) {
        ordered = ordered_in_block((s.w_gtid - 1) % tpb + 1, s.w_clk, s.w_ws, tid);
      } else {
        ordered = released_upto[s.w_gtid - 1] > s.w_fence && block_acquired;
      }
      if (ordered) continue;
      if (atomic && s.w_atomic) continue;
      if (!write && s.w_atomic && !atomic) {
        note_plain_read_of_atomics("'" + buf->name + "'", in, s.w_pc);
        break;
      }
      Fault f = located("race", "", in);
      f.other_line = line_of_pc(s.w_pc);
      f.buffer = buf->name;
      f.offset = (int64_t)(off + k);
      f.index = (int64_t)((off + k) / buf->elem);
      f.threads.push_back(thread_of_gtid(gtid));
      f.threads.push_back(thread_of_gtid(s.w_gtid - 1));
      f.message = std::string("data race on global memory: ") + (write ? "write" : "read") + " of element " +
                  std::to_string(f.index) + " of '" +
                  buf->name + "' races with a write by another thread (" +
                  (wblock == block_linear ? "same block, no barrier between them"
                                          : "another block: nothing orders blocks except a __threadfence() and an "
                                            "atomic flag or counter, or a second kernel launch") + ")";
      fail(f);
    }
    if (write) {
      for (uint32_t k = 0; k < size; k++) {
        GlobalShadow& s = sh[off + k];
        s.w_gtid = gtid + 1;
        s.w_clk = vc[w.id][w.id];
        s.w_ws = w.wsync;
        s.w_fence = fence_count[gtid];
        s.w_pc = (int32_t)(&in - P.insns.data());
        s.w_atomic = atomic ? 1 : 0;
      }
    }
  }
  if (counters) counters->global(region, off, size, write, atomic);
  if (write) std::memcpy(buf->data.data() + off, data, size);
  else std::memcpy(data, buf->data.data() + off, size);
}

void Machine::note_plain_read_of_atomics(const std::string& where, const Insn& in, int other_pc) {
  if (findings.size() >= 8) return;
  std::string message = "a plain access to " + where + " at line " + std::to_string(in.line) +
                        " is not ordered with an atomic of another thread (line " + std::to_string(line_of_pc(other_pc)) +
                        "): harmless in an atomicCAS retry loop's seed read; elsewhere use an atomic or order them";
  for (const auto& f : findings)
    if (f.message == message) return;
  findings.push_back({"read_racing_atomics", message, in.line});
}

bool Machine::ordered_in_block(uint32_t prev_tid1, uint32_t prev_clk, uint32_t prev_ws, uint32_t cur_tid) const {
  uint32_t prev = prev_tid1 - 1;
  if (prev == cur_tid) return true;
  uint32_t pw = prev / WARP, cw = cur_tid / WARP;
  if (pw == cw) return warps[cw].wsync > prev_ws || vc[cw][pw] > prev_clk;
  return vc[cw][pw] >= prev_clk;
}

std::string Machine::shared_name(uint64_t off) const {
  for (const auto& v : P.shared_vars)
    if (off >= v.offset && off < (uint64_t)v.offset + v.size)
      return "__shared__ " + v.name + " (byte " + std::to_string(off - v.offset) + ")";
  if (off >= P.dyn_base) return "extern __shared__ (byte " + std::to_string(off - P.dyn_base) + ")";
  return "__shared__";
}

void Machine::shared_access(Warp& w, int lane, uint64_t off, uint32_t size, bool write, bool atomic, uint8_t* data,
                            const Insn& in, bool async_landing) {
  uint32_t tid = (uint32_t)(w.id * WARP + lane);
  if (off + size > shared.size() || off + size < off) {
    Fault f = located("out_of_bounds", "", in);
    f.offset = (int64_t)off;
    f.buffer = off >= P.dyn_base ? "extern __shared__" : "__shared__";
    f.threads.push_back(thread_of(w.id, lane));
    f.message = std::string(write ? "write" : "read") + " of " + std::to_string(size) + " bytes at shared memory offset " +
                std::to_string(off) + ", past the block's " + std::to_string(shared.size()) + " bytes (" +
                std::to_string(P.static_shared) + " static + " + std::to_string(J.dyn_shared) + " dynamic)";
    fail(f);
  }
  int32_t pc = (int32_t)(&in - P.insns.data());
  for (uint32_t k = 0; k < size; k++) {
    SharedShadow& s = sshadow[off + k];
    // the bytes of one access usually share their history: check each distinct one once
    if (k > 0 && std::memcmp(&s, &sshadow[off + k - 1], sizeof(SharedShadow)) == 0) continue;
    auto report = [&](const std::string& kind, const std::string& msg, uint32_t other_tid1, int other_pc) {
      Fault f = located(kind, msg, in);
      f.offset = (int64_t)(off + k);
      f.buffer = shared_name(off + k);
      f.threads.push_back(thread_of(w.id, lane));
      if (other_tid1) f.threads.push_back(thread_of_tid(other_tid1 - 1));
      if (other_pc >= 0) f.other_line = line_of_pc(other_pc);
      fail(f);
    };
    if (s.pending && !async_landing)
      report("async_copy_in_flight",
             std::string(write ? "write to" : "read of") +
                 " shared memory that a cp.async is still copying into: wait for it first "
                 "(cp.async.wait_group / __pipeline_wait_prior / cp.async.wait_all), then __syncthreads() if other "
                 "threads read it",
             0, -1);
    if (!write && !atomic && s.w_tid == 0)
      report("uninitialized_shared_read", "read of shared memory that no thread of the block has written", 0, -1);
    bool unordered_write = s.w_tid && s.w_tid != tid + 1 && !ordered_in_block(s.w_tid, s.w_clk, s.w_ws, tid);
    if (unordered_write && !write && !atomic && s.w_atomic) {
      note_plain_read_of_atomics(shared_name(off + k), in, s.w_pc);  // e.g. an atomicCAS loop's seed read
    } else if (unordered_write && !(atomic && s.w_atomic)) {
      report("race",
             std::string("data race on shared memory: ") + (write ? "write" : "read") +
                 " races with a write by another thread (no __syncthreads() or __syncwarp() between them)",
             s.w_tid, s.w_pc);
    }
    bool unordered_read = write && s.r_tid && s.r_tid != tid + 1 && !ordered_in_block(s.r_tid, s.r_clk, s.r_ws, tid);
    if (unordered_read && atomic) {
      note_plain_read_of_atomics(shared_name(off + k), in, s.r_pc);
    } else if (unordered_read) {
      report("race",
             "data race on shared memory: write races with a read by another thread (no __syncthreads() or "
             "__syncwarp() between them)",
             s.r_tid, s.r_pc);
    }
  }
  for (uint32_t k = 0; k < size; k++) {
    SharedShadow& s = sshadow[off + k];
    if (write) {
      s.w_tid = tid + 1;
      s.w_clk = vc[w.id][w.id];
      s.w_ws = w.wsync;
      s.w_pc = pc;
      s.w_atomic = atomic ? 1 : 0;
      s.r_tid = 0;
      if (async_landing) s.pending = 0;
    } else if (!atomic && (s.r_tid == 0 || ordered_in_block(s.r_tid, s.r_clk, s.r_ws, tid))) {
      s.r_tid = tid + 1;
      s.r_clk = vc[w.id][w.id];
      s.r_ws = w.wsync;
      s.r_pc = pc;
    }
  }
  if (counters && !async_landing) counters->shared(lane, off, size, atomic);
  if (write) std::memcpy(shared.data() + off, data, size);
  else std::memcpy(data, shared.data() + off, size);
}

void Machine::local_access(Warp& w, int lane, uint64_t off, uint32_t size, bool write, uint8_t* data, const Insn& in) {
  if (off + size > P.local_size || off + size < off) {
    Fault f = located("out_of_bounds", "access of " + std::to_string(size) + " bytes at local-memory (stack) offset " +
                                 std::to_string(off) + ", past the thread's " + std::to_string(P.local_size) +
                                 " bytes: a local array indexed out of its bounds", in);
    f.buffer = "local array";
    f.offset = (int64_t)off;
    f.threads.push_back(thread_of(w.id, lane));
    fail(f);
  }
  auto& mem = local[(size_t)(w.id * WARP + lane)];
  if (!mem) mem = std::make_unique<std::vector<uint8_t>>(P.local_size, 0);
  if (write) std::memcpy(mem->data() + off, data, size);
  else std::memcpy(data, mem->data() + off, size);
}

void Machine::param_access(Warp& w, int lane, uint64_t off, uint32_t size, bool write, uint8_t* data, const Insn& in) {
  if (off < PARAM_THREAD_BASE) {
    if (write || off + size > J.params.size()) fault("out_of_bounds", "a kernel parameter access out of range", in, w, lane);
    std::memcpy(data, J.params.data() + off, size);
    return;
  }
  off -= PARAM_THREAD_BASE;
  if (off + size > P.tparam_size + 8) fault("out_of_bounds", "a call parameter access out of range", in, w, lane);
  uint8_t* tp = tparam(w.id * WARP + lane);
  if (write) std::memcpy(tp + off, data, size);
  else std::memcpy(data, tp + off, size);
}

// ----------------------------------------------------------------------------------- load / store
void Machine::do_ld_st(Warp& w, const Insn& in, uint32_t m, bool store) {
  int type = in.t[0];
  uint32_t width = (uint32_t)type_width(type);
  int n = in.vec ? in.vec : 1;
  const Opnd& a = store ? op(in, 0) : op(in, 1);
  if (width * n > 64) fault("unsupported", "a vector access wider than 64 bytes", in, w, first_lane(m));
  if (items(in, store ? 1 : 0) != n) fault("engine", "a vector access with the wrong number of registers", in, w, first_lane(m));
  bool sign = type == T_S8 || type == T_S16 || type == T_S32;
  for (int lane = 0; lane < WARP; lane++) {
    if (!((m >> lane) & 1)) continue;
    uint64_t addr = address(w, a, lane);
    uint8_t buf[64] = {0};
    uint32_t total = width * (uint32_t)n;
    if (store) {
      for (int k = 0; k < n; k++) {
        uint64_t val = src(w, item(in, store ? 1 : 0, k), lane, type);
        std::memcpy(buf + k * width, &val, width);
      }
      mem_access(w, lane, in.space, addr, total, true, false, buf, in);
    } else {
      mem_access(w, lane, in.space, addr, total, false, false, buf, in);
      for (int k = 0; k < n; k++) {
        uint64_t val = 0;
        std::memcpy(&val, buf + k * width, width);
        dst(w, item(in, store ? 1 : 0, k), lane, val, type, sign);
      }
    }
  }
}

// ------------------------------------------------------------------------------------- reporting
std::vector<int> Machine::thread_of_tid(uint32_t tid) const {
  return {(int)bx, (int)by, (int)bz, (int)(tid % J.block[0]), (int)((tid / J.block[0]) % J.block[1]),
          (int)(tid / (J.block[0] * J.block[1]))};
}

std::vector<int> Machine::thread_of(int warp, int lane) const {
  return thread_of_tid((uint32_t)(warp * WARP + std::max(lane, 0)));
}

std::vector<int> Machine::thread_of_gtid(uint32_t gtid) const {
  uint64_t b = gtid / tpb, t = gtid % tpb;
  uint32_t x = (uint32_t)(b % J.grid[0]), y = (uint32_t)((b / J.grid[0]) % J.grid[1]),
           z = (uint32_t)(b / ((uint64_t)J.grid[0] * J.grid[1]));
  return {(int)x, (int)y, (int)z, (int)(t % J.block[0]), (int)((t / J.block[0]) % J.block[1]),
          (int)(t / (J.block[0] * J.block[1]))};
}

Fault Machine::located(const std::string& kind, const std::string& msg, const Insn& in) const {
  Fault f{kind, msg};
  f.line = in.line;
  f.file = in.file;
  return f;
}

void Machine::fault(const std::string& kind, const std::string& msg, const Insn& in, Warp& w, int lane) {
  Fault f = located(kind, msg, in);
  f.threads.push_back(thread_of(w.id, lane));
  fail(f);
}

void Machine::check_mask(Warp& w, const Insn& in, uint32_t active, uint32_t m, uint32_t membermask, const char* what) {
  (void)active;
  uint32_t missing = membermask & ~m;
  uint32_t outside = m & ~membermask;
  if (!missing && !outside) return;
  std::ostringstream s;
  s << what << " with member mask 0x" << std::hex << membermask << std::dec;
  if (missing)
    s << " names lanes that do not execute it here (lane " << first_lane(missing)
      << (((w.exited >> first_lane(missing)) & 1) ? ", which has exited" : ", which is inactive on this path")
      << "); every lane in the mask must execute the same collective: use __activemask() or the mask of the "
         "lanes that take this branch";
  else
    s << " is executed by lane " << first_lane(outside) << ", which the mask does not name";
  Fault f = located("warp_misuse", s.str(), in);
  f.threads.push_back(thread_of(w.id, first_lane(m ? m : active)));
  fail(f);
}

}  // namespace vm
