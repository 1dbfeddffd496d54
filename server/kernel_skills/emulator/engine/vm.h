// The PTX engine's data: the pre-decoded program (written by kernel_skills/emulator/ptx/program.py),
// the launch's memories and the per-warp state. Every index that comes from a file is checked once at
// load (load.cpp); execution then uses only checked indices and bounds-checked memory accessors.
#pragma once
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "ptx_tables.h"

namespace vm {

struct Insn {
  uint16_t op;
  uint8_t t[4];
  uint8_t cmp, rnd, space, vec, sub, guard_neg, nops;
  int32_t guard;
  uint64_t flags;
  uint32_t opb;
  int32_t line, file, target, reconv, aux, aux2, extra;
  uint8_t lidx[8];  // logical operand k -> its offset from opb (vectors and pairs take 1 + n)
  uint8_t nlog;
  uint8_t fast;  // a specialised lane loop (fast.cpp), 0: the general path
};

struct Opnd {
  uint8_t kind, n;
  int32_t reg;
  int64_t imm;
};

struct Copy {
  int32_t src, dst, size;
};

struct Call {
  int32_t entry;  // instruction index, or -1 vprintf, -2 __assertfail
  std::vector<Copy> args;
  Copy ret;
};

struct Memory {  // a module-level __device__ / __constant__ variable
  uint32_t region;
  bool readonly;
  std::string name;
  std::vector<uint8_t> init;
};

struct SharedVar {
  uint32_t offset, size;
  std::string name;
};

struct Program {
  uint32_t entry = 0, nregs = 0, static_shared = 0, dyn_base = 0, local_size = 0;
  uint32_t kparam_size = 0, tparam_size = 0;
  std::vector<Insn> insns;
  std::vector<Opnd> ops;
  std::vector<uint8_t> regw;
  std::vector<Call> calls;
  std::vector<Memory> memories;
  std::vector<SharedVar> shared_vars;
  std::vector<std::string> files;  // index -> client file name
};

struct Buffer {
  std::string name;
  uint64_t base = 0;
  std::vector<uint8_t> data;
  uint32_t elem = 1;
  bool readonly = false;
  bool abi = false;
  bool present = false;
};

struct Job {
  uint32_t grid[3], block[3], dyn_shared;
  uint32_t schedule;  // 1: blocks, warps and atomics' lanes in reverse order
  bool count = false;  // compute the counters (counters.h)
  uint64_t budget;
  uint32_t printf_limit;
  std::vector<uint8_t> params;  // the kernel's parameter bytes
  std::vector<int> abi_buffers; // region index of each ABI pointer buffer, in ABI order
};

// A finding that stops the launch (exit 3 with a JSON report).
struct Fault {
  std::string kind, message, buffer;
  static constexpr int64_t NONE = INT64_MIN;
  int64_t index = NONE, offset = NONE;
  int line = 0, other_line = 0, file = 0;
  std::vector<std::vector<int>> threads;
};

struct FaultError {
  Fault fault;
};

[[noreturn]] inline void fail(Fault f) { throw FaultError{std::move(f)}; }

}  // namespace vm
