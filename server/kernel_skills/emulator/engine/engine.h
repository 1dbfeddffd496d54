// The machine: one launch of one kernel, block after block, warps in lockstep with SIMT stacks.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "counters.h"
#include "vm.h"

namespace vm {

std::vector<uint8_t> read_file(const char* path);
Program load_program(const std::vector<uint8_t>& data);
Job load_job(const std::vector<uint8_t>& data, std::vector<Buffer>& buffers);
uint8_t classify_fast(const Program& p, const Insn& in);

constexpr int WARP = 32;
constexpr uint32_t FULL = 0xFFFFFFFFu;

struct Entry {
  int32_t pc, rpc;  // rpc: reconvergence pc (-1: at exit; -2: never, the frame's bottom)
  uint32_t mask;
  int32_t depth;    // call depth this entry runs at
};

enum class WarpState { Run, Barrier, Done };

struct PendingCopy {  // one cp.async: its bytes land in shared memory at the wait
  uint32_t group;
  uint32_t dst;
  int pc;
  std::vector<uint8_t> bytes;
};

struct Warp {
  int id = 0;
  uint32_t live = 0;     // lanes that exist (the last warp of a block may be partial)
  uint32_t exited = 0;
  std::vector<Entry> stack;
  std::vector<int32_t> calls;  // per depth > 0: the call instruction that entered it
  WarpState state = WarpState::Run;
  int bar_id = -1, bar_pc = -1;
  uint32_t bar_pred = 0;
  bool bar_arrive_only = false;
  uint32_t bar_count = 0;
  uint32_t wsync = 1;  // advanced by __syncwarp and barriers: orders this warp's lanes
  int exit_line = 0;
  uint32_t carry = 0;  // add.cc carry per lane
  std::vector<uint64_t> regs;  // [slot * 32 + lane]
};

struct SharedShadow {
  uint32_t w_tid = 0, w_clk = 0, w_ws = 0;  // w_tid: thread in block + 1 (0: never written)
  int32_t w_pc = -1;
  uint32_t r_tid = 0, r_clk = 0, r_ws = 0;
  int32_t r_pc = -1;
  uint8_t w_atomic = 0, pending = 0;
};

struct GlobalShadow {
  uint32_t w_gtid = 0;  // global thread + 1
  uint32_t w_clk = 0, w_ws = 0, w_fence = 0;
  int32_t w_pc = -1;
  uint8_t w_atomic = 0;
};

struct Finding {
  std::string kind, message;
  int line = 0;
};

class Machine {
 public:
  Machine(const Program& prog, Job& job, std::vector<Buffer>& buffers);
  void run();
  std::string printf_out;
  bool printf_truncated = false;
  std::vector<Finding> findings;
  uint64_t executed = 0;
  std::unique_ptr<Counters> counters;  // only when the job asks (Job::count)

 private:
  const Program& P;
  Job& J;
  std::vector<Buffer>& B;
  uint32_t tpb = 0, nwarps = 0;
  uint32_t shared_size = 0;
  uint64_t total_threads = 0;
  // block state
  uint32_t bx = 0, by = 0, bz = 0;
  uint64_t block_linear = 0;
  std::vector<Warp> warps;
  std::vector<uint8_t> shared;
  std::vector<SharedShadow> sshadow;
  std::vector<std::unique_ptr<std::vector<uint8_t>>> local;   // per thread, lazily
  std::vector<std::unique_ptr<std::vector<uint8_t>>> tparams; // per thread, lazily
  std::vector<std::vector<PendingCopy>> pending;              // per thread
  std::vector<uint32_t> next_group, committed_groups;         // per thread
  std::array<std::array<uint32_t, 32>, 32> vc{};
  bool block_acquired = false;
  // grid-wide state for the fence + atomic ordering rule
  std::vector<uint32_t> fence_count, released_upto;
  std::vector<std::vector<GlobalShadow>> gshadow;  // per buffer region, lazily
  uint64_t budget_left = 0;
  int running_warp = -1;

  void run_block();
  void init_block();
  void step_warp(Warp& w, int quantum);
  void try_release(int id);
  std::array<std::vector<int>, 16> arrivals;
  [[noreturn]] void barrier_stuck();
  void exec(Warp& w, Entry& e, const Insn& in, uint32_t active, uint32_t exec_mask);
  // operand access
  uint64_t src(Warp& w, const Opnd& o, int lane, int type);
  void dst(Warp& w, const Opnd& o, int lane, uint64_t v, int type, bool sign_extend = false);
  uint64_t sreg(Warp& w, int id, int lane);
  const Opnd& op(const Insn& in, int k) const {
    if (k < 0 || k >= in.nlog) fail({"engine", "an instruction has fewer operands than it needs"});
    return P.ops[in.opb + in.lidx[k]];
  }
  const Opnd& item(const Insn& in, int k, int j) const {  // item j of vector operand k
    const Opnd& v = op(in, k);
    if (v.kind != K_VEC && v.kind != K_PAIR) return v;
    if (j >= v.n) fail({"engine", "a vector operand has fewer items than the instruction needs"});
    return P.ops[in.opb + in.lidx[k] + 1 + j];
  }
  int items(const Insn& in, int k) const { const Opnd& v = op(in, k); return (v.kind == K_VEC || v.kind == K_PAIR) ? v.n : 1; }
  uint64_t address(Warp& w, const Opnd& o, int lane);
  // memory
  void mem_access(Warp& w, int lane, int space, uint64_t addr, uint32_t size, bool write, bool atomic,
                  uint8_t* data, const Insn& in);
  void global_access(Warp& w, int lane, uint64_t addr, uint32_t size, bool write, bool atomic, uint8_t* data,
                     const Insn& in);
  void shared_access(Warp& w, int lane, uint64_t off, uint32_t size, bool write, bool atomic, uint8_t* data,
                     const Insn& in, bool async_landing = false);
  void local_access(Warp& w, int lane, uint64_t off, uint32_t size, bool write, uint8_t* data, const Insn& in);
  void param_access(Warp& w, int lane, uint64_t off, uint32_t size, bool write, uint8_t* data, const Insn& in);
  uint8_t* tparam(int tid);
  // instruction families
  void do_ld_st(Warp& w, const Insn& in, uint32_t m, bool store);
  void do_atom(Warp& w, const Insn& in, uint32_t m);
  void do_branch(Warp& w, Entry& e, const Insn& in, uint32_t active, uint32_t m, int pc);
  void do_exit(Warp& w, uint32_t m, int line);
  void do_call(Warp& w, Entry& e, const Insn& in, uint32_t m, int pc);
  void do_ret(Warp& w, const Insn& in, uint32_t m);
  void do_barrier(Warp& w, Entry& e, const Insn& in, uint32_t active, uint32_t m, int pc);
  void do_warp_collective(Warp& w, const Insn& in, uint32_t active, uint32_t m);
  void do_cp_async(Warp& w, const Insn& in, uint32_t m);
  void do_ldmatrix(Warp& w, const Insn& in, uint32_t m, bool store);
  void do_mma(Warp& w, const Insn& in, uint32_t m);
  void do_printf(Warp& w, int lane, const Call& c, const Insn& in);
  void do_assert(Warp& w, int lane, const Call& c, const Insn& in);
  std::string c_string(Warp& w, int lane, uint64_t addr, size_t limit, const Insn& in);  // checked reads
  void do_alu(Warp& w, const Insn& in, uint32_t m);
  bool fast_exec(Warp& w, const Insn& in, uint32_t m);
  void complete_copies(Warp& w, int lane, uint32_t keep);
  // reporting
  std::vector<int> thread_of(int warp, int lane) const;
  std::vector<int> thread_of_tid(uint32_t tid) const;
  std::vector<int> thread_of_gtid(uint32_t gtid) const;
  Fault located(const std::string& kind, const std::string& msg, const Insn& in) const;  // at in's line
  [[noreturn]] void fault(const std::string& kind, const std::string& msg, const Insn& in, Warp& w, int lane);
  int line_of_pc(int pc) const { return pc >= 0 && pc < (int)P.insns.size() ? P.insns[pc].line : 0; }
  void check_mask(Warp& w, const Insn& in, uint32_t active, uint32_t exec_mask, uint32_t membermask, const char* what);
  std::string shared_name(uint64_t off) const;
  void note_plain_read_of_atomics(const std::string& where, const Insn& in, int other_pc);
  bool ordered_in_block(uint32_t prev_tid1, uint32_t prev_clk, uint32_t prev_ws, uint32_t cur_tid) const;
};

std::string json_escape(const std::string& s);

}  // namespace vm
