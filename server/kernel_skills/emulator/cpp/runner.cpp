// The SIMT emulator's engine: runs one kernel launch described by a job file.
//
//   runner JOB_IN JOB_OUT REPORT_OUT
//
// Built by kernel_skills.emulator.build: this file is compiled WITHOUT instrumentation and linked with
// the kernel's translation unit (simt.h + kernel + entry.h, compiled with -fsanitize=thread, no
// libtsan), whose every load and store calls the __tsan_* hooks defined here.
//
// JOB_IN "SIMT2" (little-endian): grid[3] u32, block[3] u32, dynamic shared bytes u32, nargs u32, then
//   per argument a kind byte: 0 pointer (u16 name length, the name's utf-8 bytes, u64 byte count, the
//   bytes), 1 int32, 2 float32; then optionally a u32 schedule (0: threads and blocks in order, the
//   default; 1: both in reverse order, so a re-run exposes results that depend on the order).
// JOB_OUT: every pointer argument's bytes after the launch, in order.
// Exit 0: ran. Exit 3: the engine found a fault and wrote REPORT_OUT (one JSON object, see report()).
// Exit 2: malformed job or bad usage. Exit 4: the engine could not confine itself (seccomp).
//
// printf: the first 64 KiB of a run's output go to stdout, then one truncation note; the run goes on.
// Confinement: after the job is read and the output and report files are open, every other file
// descriptor is closed and a seccomp filter allows only read/write, memory management, signals
// return/mask, futex, clocks, getpid/gettid, getrandom and exit; any other system call (openat,
// socket, connect, execve, clone, ...) traps to a handler that reports "forbidden_syscall".
//
// What a run is: blocks one after another; the threads of a block are fibers on this one OS thread,
// resumed in thread order; a fiber runs until it reaches a collective operation (__syncthreads, a
// warp op: shuffle/vote/__syncwarp/mma.sync), or exits. A collective completes when every thread it
// needs has arrived; when no fiber can run and some have not exited, that is a deadlock. Memory is
// sequentially consistent, so races do not change values here: they are detected from the shadow.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "simt.h"

dim3 threadIdx, blockIdx, blockDim, gridDim;

extern "C" {
extern char __start_simt_shared[];  // the linker's: the section always exists (shared_guard)
void* __real_memcpy(void* d, const void* s, size_t n);
void* __real_memmove(void* d, const void* s, size_t n);
void* __real_memset(void* d, int c, size_t n);
}

namespace simt {

constexpr size_t kDynamicSharedCap = 227 * 1024;  // H100: the most dynamic shared memory a block may use
constexpr size_t kDynamicRedzone = 16 * 1024;
alignas(256) unsigned char dynamic_shared[kDynamicSharedCap + kDynamicRedzone];

// Linked after the kernel's unit, so it lands right after the kernel's static shared variables in
// the simt_shared section: an access past the end of the last one is out of bounds.
constexpr size_t kSharedGuard = 1024;
__attribute__((section(".bss.simt_shared"), aligned(16))) unsigned char shared_guard[kSharedGuard];

namespace {

constexpr size_t kRedzone = 64 * 1024;  // before and after every global buffer
constexpr size_t kStack = 128 * 1024;   // per CUDA thread, plus a guard page
constexpr size_t kPrintfLimit = 64 * 1024;
constexpr unsigned kMaxThreads = 1024;
constexpr uint16_t kMany = 0xffff;

// ----------------------------------------------------------------------------- the report
int g_report_fd = -1;
int g_out_fd = -1;

struct Fault {
  const char* kind = "trap";
  char message[1024] = {};
  char buffer[160] = {};
  bool has_index = false;
  long long index = 0, offset = 0;
  int nthreads = 0;
  unsigned threads[2][6] = {};
  uintptr_t pc = 0, other_pc = 0;
};

class Json {
 public:
  void raw(const char* s) {
    while (*s && n_ < sizeof buf_ - 1) buf_[n_++] = *s++;
  }
  void str(const char* s) {
    raw("\"");
    for (; *s; ++s) {
      const unsigned char c = static_cast<unsigned char>(*s);
      char esc[8];
      if (c == '"' || c == '\\') {
        esc[0] = '\\', esc[1] = static_cast<char>(c), esc[2] = 0;
      } else if (c < 0x20) {
        std::snprintf(esc, sizeof esc, "\\u%04x", c);
      } else {
        esc[0] = static_cast<char>(c), esc[1] = 0;
      }
      raw(esc);
    }
    raw("\"");
  }
  void num(long long v) {
    char t[32];
    std::snprintf(t, sizeof t, "%lld", v);
    raw(t);
  }
  void hex(uintptr_t v) {
    char t[32];
    std::snprintf(t, sizeof t, "\"0x%lx\"", static_cast<unsigned long>(v));
    raw(t);
  }
  const char* data() const { return buf_; }
  size_t size() const { return n_; }

 private:
  char buf_[4096] = {};
  size_t n_ = 0;
};

void write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t k = ::write(fd, p, n);
    if (k <= 0) return;
    p += k;
    n -= static_cast<size_t>(k);
  }
}

[[noreturn]] void emit(const Fault& f) {
  Json j;
  j.raw("{\"kind\": ");
  j.str(f.kind);
  j.raw(", \"message\": ");
  j.str(f.message);
  j.raw(", \"line\": null, \"file\": null, \"buffer\": ");
  if (f.buffer[0]) {
    j.str(f.buffer);
  } else {
    j.raw("null");
  }
  j.raw(", \"index\": ");
  if (f.has_index) {
    j.num(f.index);
  } else {
    j.raw("null");
  }
  j.raw(", \"offset\": ");
  if (f.has_index) {
    j.num(f.offset);
  } else {
    j.raw("null");
  }
  j.raw(", \"threads\": [");
  for (int t = 0; t < f.nthreads; ++t) {
    j.raw(t ? ", [" : "[");
    for (int k = 0; k < 6; ++k) {
      if (k) j.raw(", ");
      j.num(f.threads[t][k]);
    }
    j.raw("]");
  }
  j.raw("], \"pc\": ");
  if (f.pc) {
    j.hex(f.pc);
  } else {
    j.raw("null");
  }
  j.raw(", \"other_pc\": ");
  if (f.other_pc) {
    j.hex(f.other_pc);
  } else {
    j.raw("null");
  }
  j.raw("}\n");
  if (g_report_fd >= 0) write_all(g_report_fd, j.data(), j.size());
  write_all(2, j.data(), j.size());
  _exit(3);
}

// ----------------------------------------------------------------------------- job and buffers
struct Buffer {
  char name[128];
  unsigned char* data;
  size_t bytes;
  unsigned elem = 1;
};

struct Job {
  dim3 grid, block;
  unsigned shared_bytes = 0;
  unsigned nargs = 0;
  unsigned char kinds[64];
  void* values[64];
  unsigned elem_size[64];
  int buffer_of_arg[64];
  Buffer buffers[64];
  unsigned nbuffers = 0;
  unsigned char scalars[64][4];
  unsigned schedule = 0;  // 0: threads and blocks in order; 1: both in reverse order
};

Job g_job;
uintptr_t g_arena_lo = 0, g_arena_len = 0;

[[noreturn]] void fail_job(const char* why) {
  std::fprintf(stderr, "simt runner: %s\n", why);
  _exit(2);
}

class Reader {
 public:
  Reader(const unsigned char* p, size_t n) : p_(p), n_(n) {}
  void take(void* out, size_t n) {
    if (pos_ + n > n_ || pos_ + n < pos_) fail_job("job file is truncated");
    __real_memcpy(out, p_ + pos_, n);
    pos_ += n;
  }
  template <class T>
  T get() {
    T v;
    take(&v, sizeof v);
    return v;
  }
  const unsigned char* here() const { return p_ + pos_; }
  void skip(size_t n) {
    if (pos_ + n > n_ || pos_ + n < pos_) fail_job("job file is truncated");
    pos_ += n;
  }
  bool done() const { return pos_ == n_; }

 private:
  const unsigned char* p_;
  size_t n_;
  size_t pos_ = 0;
};

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

void read_job(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_job("cannot open the job file");
  struct stat st;
  if (fstat(fd, &st) != 0) fail_job("cannot stat the job file");
  const size_t size = static_cast<size_t>(st.st_size);
  void* map = size ? mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : nullptr;
  if (size && map == MAP_FAILED) fail_job("cannot map the job file");
  ::close(fd);
  Reader r(static_cast<const unsigned char*>(map), size);
  char magic[5];
  r.take(magic, 5);
  if (std::memcmp(magic, "SIMT2", 5) != 0) fail_job("not a SIMT2 job file");
  Job& job = g_job;
  job.grid = {r.get<unsigned>(), r.get<unsigned>(), r.get<unsigned>()};
  job.block = {r.get<unsigned>(), r.get<unsigned>(), r.get<unsigned>()};
  job.shared_bytes = r.get<unsigned>();
  job.nargs = r.get<unsigned>();
  if (job.nargs > 64) fail_job("more than 64 arguments");
  // First pass: sizes, to lay out the arena; second: copy.
  struct Span {
    size_t at, bytes;
    const unsigned char* src;
  } spans[64];
  size_t arena = kRedzone;
  for (unsigned i = 0; i < job.nargs; ++i) {
    const auto kind = r.get<unsigned char>();
    job.kinds[i] = kind;
    job.buffer_of_arg[i] = -1;
    if (kind == 0) {
      Buffer& b = job.buffers[job.nbuffers];
      const auto len = r.get<uint16_t>();
      if (len >= sizeof b.name) fail_job("a buffer name is longer than 127 bytes");
      r.take(b.name, len);
      b.name[len] = 0;
      b.bytes = r.get<uint64_t>();
      if (b.bytes > (size_t{1} << 36)) fail_job("a buffer is larger than 64 GiB");
      spans[job.nbuffers] = {arena, b.bytes, r.here()};
      r.skip(b.bytes);
      arena = round_up(arena + b.bytes, 4096) + kRedzone;
      job.buffer_of_arg[i] = static_cast<int>(job.nbuffers++);
    } else if (kind == 1 || kind == 2) {
      r.take(job.scalars[i], 4);
      job.values[i] = job.scalars[i];
    } else {
      fail_job("unknown argument kind");
    }
  }
  if (!r.done()) job.schedule = r.get<unsigned>();  // optional trailing field
  if (!r.done()) fail_job("trailing bytes after the last argument");
  if (job.schedule > 1) fail_job("unknown schedule (accepted: 0 in order, 1 reversed)");
  void* base = mmap(nullptr, arena, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) fail_job("out of memory for the buffers");
  auto* lo = static_cast<unsigned char*>(base);
  __real_memset(lo, 0xa5, arena);  // redzones: a recognisable pattern (never legitimately read)
  for (unsigned b = 0; b < job.nbuffers; ++b) {
    job.buffers[b].data = lo + spans[b].at;
    __real_memcpy(job.buffers[b].data, spans[b].src, spans[b].bytes);
  }
  for (unsigned i = 0; i < job.nargs; ++i) {
    if (job.buffer_of_arg[i] >= 0) job.values[i] = job.buffers[job.buffer_of_arg[i]].data;
  }
  g_arena_lo = reinterpret_cast<uintptr_t>(lo);
  g_arena_len = arena;
  if (size) munmap(map, size);
}

// ----------------------------------------------------------------------------- fibers
enum State : int { kRunnable, kAtBarrier, kAtWarpOp, kExited };

struct Fiber {
  void* sp = nullptr;
  int state = kRunnable;
  uintptr_t wait_pc = 0;
  int result = 0;
};

struct LaneOp {
  int op;
  unsigned mask;
  unsigned long long value;
  int arg, width;
  unsigned in[6];
  float acc[4];
  unsigned long long result;
  uintptr_t pc;
};

struct WarpState {
  unsigned existing = 0, exited = 0, arrived = 0;
  LaneOp lane[32];
};

constexpr int kMma = 100;

Fiber g_fibers[kMaxThreads];
WarpState g_warps[kMaxThreads / 32];
uint32_t g_wsync[kMaxThreads / 32];  // completed __syncwarp()s per warp (never reset)
unsigned g_threads = 0, g_live = 0, g_bar_arrived = 0;
int g_bar_votes = 0;
unsigned g_cur = 0;
void* g_sched_sp = nullptr;
unsigned char* g_stacks = nullptr;
bool g_running = false;  // a kernel thread is executing: the hooks check accesses
size_t g_printed = 0;

extern "C" void simt_switch(void** save, void* to);
#if defined(__x86_64__)
asm(R"(
  .text
  .globl simt_switch
  .type simt_switch, @function
simt_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size simt_switch, .-simt_switch
)");
#else
#error "the SIMT emulator's fibers are written for x86-64"
#endif

[[noreturn]] void fiber_start();

void* fresh_stack(unsigned i) {
  unsigned char* top = g_stacks + (i + 1) * (kStack + 4096);
  auto* sp = reinterpret_cast<uint64_t*>(top);
  *--sp = 0;                                              // keeps the entry alignment of a call
  *--sp = reinterpret_cast<uint64_t>(&fiber_start);       // simt_switch's ret lands here
  for (int r = 0; r < 6; ++r) *--sp = 0;                  // rbp rbx r12 r13 r14 r15
  *--sp = 0x1f80ull | (0x037full << 32);                  // mxcsr, x87 control word
  return sp;
}

void set_thread_index(unsigned t) {
  const dim3 b = g_job.block;
  threadIdx = {t % b.x, (t / b.x) % b.y, t / (b.x * b.y)};
}

void fill_thread(unsigned (&out)[6], unsigned t) {
  const dim3 b = g_job.block;
  out[0] = blockIdx.x, out[1] = blockIdx.y, out[2] = blockIdx.z;
  out[3] = t % b.x, out[4] = (t / b.x) % b.y, out[5] = t / (b.x * b.y);
}

void describe_thread(char* out, size_t n, unsigned t) {
  unsigned v[6];
  fill_thread(v, t);
  std::snprintf(out, n, "thread (%u,%u,%u) of block (%u,%u,%u)", v[3], v[4], v[5], v[0], v[1], v[2]);
}

Fault fault_here(const char* kind, uintptr_t pc) {
  Fault f;
  f.kind = kind;
  f.pc = pc;
  if (g_threads) {
    f.nthreads = 1;
    fill_thread(f.threads[0], g_cur);
  }
  return f;
}

void yield() { simt_switch(&g_fibers[g_cur].sp, g_sched_sp); }

// ----------------------------------------------------------------------------- shared-memory shadow
// Per shared byte: the last write (barrier epoch, thread, the writer's warp's __syncwarp count, pc)
// and the reads since (epoch, one reader or kMany, their warp or kMany, the highest __syncwarp count
// among them, the last reader's pc). Epochs increase at every block start and every barrier, so a
// record from an earlier epoch (or block) never conflicts, and "written in this block" is
// w_epoch >= the block's first epoch.
struct Shadow {
  uint32_t w_epoch, w_wsync, r_epoch, r_wsync;
  uint16_t w_tid, r_tid, r_warp, r_last;
  uintptr_t w_pc, r_pc;
};

uintptr_t g_shared_lo = 0, g_shared_len = 0;
uintptr_t g_dyn_lo = 0;
Shadow* g_shadow = nullptr;  // static shared bytes, then dynamic shared bytes
uint32_t g_epoch = 0, g_block_epoch0 = 0;

bool ordered(unsigned prev_tid, uint32_t prev_wsync, unsigned tid) {
  return prev_tid == tid || ((prev_tid >> 5) == (tid >> 5) && prev_wsync != g_wsync[tid >> 5]);
}

[[noreturn]] void shared_fault(const char* kind, bool dynamic, size_t offset, bool write, unsigned other,
                               uintptr_t pc, uintptr_t other_pc, const char* what) {
  Fault f = fault_here(kind, pc);
  std::snprintf(f.buffer, sizeof f.buffer, "%s", dynamic ? "extern __shared__" : "__shared__");
  f.has_index = true;
  f.offset = static_cast<long long>(offset);
  f.index = static_cast<long long>(offset);
  char me[96], them[96];
  describe_thread(me, sizeof me, g_cur);
  if (other != kMany && other < g_threads && other != g_cur) {
    describe_thread(them, sizeof them, other);
    f.nthreads = 2;
    fill_thread(f.threads[1], other);
  } else {
    std::snprintf(them, sizeof them, "several threads");
  }
  f.other_pc = other_pc;
  if (std::strcmp(kind, "race") == 0) {
    std::snprintf(f.message, sizeof f.message,
                  "data race on %s memory at byte offset %zu: %s %s it, and %s %s it since the last "
                  "__syncthreads() with no barrier in between",
                  dynamic ? "dynamic shared" : "shared", offset, me, write ? "writes" : "reads", them, what);
  } else {
    std::snprintf(f.message, sizeof f.message,
                  "%s reads %s memory at byte offset %zu, which no thread of the block has written "
                  "(shared memory is uninitialised at the start of a block)",
                  me, dynamic ? "dynamic shared" : "shared", offset);
  }
  emit(f);
}

void shared_access(size_t first, size_t count, bool dynamic, size_t base, bool write, bool atomic, uintptr_t pc) {
  const unsigned tid = g_cur, warp = tid >> 5;
  const uint32_t wsync = g_wsync[warp];
  for (size_t k = 0; k < count; ++k) {
    Shadow& s = g_shadow[base + first + k];
    const size_t offset = first + k;
    if (!write || atomic) {
      if (s.w_epoch < g_block_epoch0) shared_fault("uninitialized_shared_read", dynamic, offset, false, kMany, pc, 0, "");
    }
    if (atomic) {  // atomics do not race with each other; they count as a write for initialisation
      s.w_epoch = g_epoch, s.w_tid = static_cast<uint16_t>(tid), s.w_wsync = wsync, s.w_pc = pc;
      continue;
    }
    if (s.w_epoch == g_epoch && !ordered(s.w_tid, s.w_wsync, tid)) {
      shared_fault("race", dynamic, offset, write, s.w_tid, pc, s.w_pc, "wrote");
    }
    if (write) {
      if (s.r_epoch == g_epoch) {
        const bool fine = s.r_tid == tid || (s.r_tid != kMany && ordered(s.r_tid, s.r_wsync, tid)) ||
                          (s.r_tid == kMany && s.r_warp == warp && s.r_wsync != wsync);
        if (!fine) shared_fault("race", dynamic, offset, true, s.r_tid == kMany ? s.r_last : s.r_tid, pc, s.r_pc, "read");
      }
      s.w_epoch = g_epoch, s.w_tid = static_cast<uint16_t>(tid), s.w_wsync = wsync, s.w_pc = pc;
    } else {
      if (s.r_epoch != g_epoch) {
        s.r_epoch = g_epoch, s.r_tid = static_cast<uint16_t>(tid), s.r_warp = static_cast<uint16_t>(warp);
        s.r_wsync = wsync;
      } else if (s.r_tid != tid) {
        s.r_tid = kMany;
        if (s.r_warp != warp) s.r_warp = kMany;
        if (wsync > s.r_wsync) s.r_wsync = wsync;
      }
      s.r_last = static_cast<uint16_t>(tid);
      s.r_pc = pc;
    }
  }
}

// ----------------------------------------------------------------------------- access checks
const Buffer* g_last_buffer = nullptr;

[[noreturn]] void global_fault(uintptr_t a, size_t size, bool write, uintptr_t pc) {
  // The buffer whose redzone holds the address: the nearest start before or end after it.
  const Buffer* best = nullptr;
  long long best_dist = 0;
  for (unsigned b = 0; b < g_job.nbuffers; ++b) {
    const Buffer& buf = g_job.buffers[b];
    const auto lo = reinterpret_cast<uintptr_t>(buf.data);
    const long long dist = a < lo ? static_cast<long long>(lo - a)
                                  : static_cast<long long>(a - (lo + buf.bytes));
    if (!best || dist < best_dist) best = &buf, best_dist = dist;
  }
  Fault f = fault_here("out_of_bounds", pc);
  if (!best) {
    std::snprintf(f.message, sizeof f.message, "a %zu-byte %s outside every buffer", size, write ? "write" : "read");
    emit(f);
  }
  const long long off = static_cast<long long>(a) - static_cast<long long>(reinterpret_cast<uintptr_t>(best->data));
  const long long elem = best->elem ? best->elem : 1;
  const long long index = off >= 0 ? off / elem : -((-off + elem - 1) / elem);
  const long long count = static_cast<long long>(best->bytes) / elem;
  std::snprintf(f.buffer, sizeof f.buffer, "%s", best->name);
  f.has_index = true;
  f.index = index;
  f.offset = off;
  char me[96];
  describe_thread(me, sizeof me, g_cur);
  std::snprintf(f.message, sizeof f.message,
                "out-of-bounds %s of %zu bytes: '%s' has %lld elements of %lld bytes (%zu bytes), and %s "
                "accesses element %lld (byte offset %lld)",
                write ? "write" : "read", size, best->name, count, elem, best->bytes, me, index, off);
  emit(f);
}

[[noreturn]] void misaligned_fault(uintptr_t a, size_t align, uintptr_t pc) {
  Fault f = fault_here("misaligned", pc);
  char me[96];
  describe_thread(me, sizeof me, g_cur);
  for (unsigned b = 0; b < g_job.nbuffers; ++b) {
    const Buffer& buf = g_job.buffers[b];
    const auto lo = reinterpret_cast<uintptr_t>(buf.data);
    if (a >= lo && a < lo + buf.bytes) {
      std::snprintf(f.buffer, sizeof f.buffer, "%s", buf.name);
      f.has_index = true;
      f.offset = static_cast<long long>(a - lo);
      f.index = f.offset / (buf.elem ? buf.elem : 1);
    }
  }
  std::snprintf(f.message, sizeof f.message,
                "misaligned vector access: %s makes a %zu-byte access at an address that is not %zu-byte "
                "aligned%s%s (a misaligned address fault on a GPU)",
                me, align, align, f.buffer[0] ? " in " : "", f.buffer);
  emit(f);
}

// Global memory: per byte, the last plain write of this launch (block + 1, barrier epoch, thread,
// its warp's __syncwarp count, pc). Two threads writing the same byte are a race unless the writes
// are ordered: the same thread, the same block across a barrier, or lanes of one warp across a
// __syncwarp. Two blocks are never ordered within a launch. Reads are not checked (a block may
// legitimately read what another published with a fence and an atomic flag).
struct GlobalWrite {
  uint32_t block, epoch, wsync, pc;  // pc: the runner is linked -no-pie, so kernel code is below 4 GiB
  uint16_t tid;
};
GlobalWrite* g_global_shadow = nullptr;  // one record per arena byte
uint32_t g_block_linear = 0;

void global_write(uintptr_t a, size_t size, uintptr_t pc) {
  const unsigned tid = g_cur;
  const uint32_t wsync = g_wsync[tid >> 5];
  for (size_t k = 0; k < size; ++k) {
    GlobalWrite& w = g_global_shadow[a - g_arena_lo + k];
    if (w.block != 0) {
      const bool other_block = w.block != g_block_linear + 1;
      if (other_block || (w.epoch == g_epoch && !ordered(w.tid, w.wsync, tid))) {
        Fault f = fault_here("race", pc);
        const Buffer* buf = g_last_buffer;
        const long long off = static_cast<long long>(a + k - reinterpret_cast<uintptr_t>(buf->data));
        std::snprintf(f.buffer, sizeof f.buffer, "%s", buf->name);
        f.has_index = true;
        f.offset = off;
        f.index = off / (buf->elem ? buf->elem : 1);
        f.other_pc = static_cast<uintptr_t>(w.pc);
        char me[96];
        describe_thread(me, sizeof me, tid);
        char them[128];
        if (other_block) {
          const dim3 g = g_job.grid;
          const uint32_t ob = w.block - 1;
          const unsigned obx = ob % g.x, oby = (ob / g.x) % g.y, obz = ob / (g.x * g.y);
          const dim3 bd = g_job.block;
          std::snprintf(them, sizeof them, "thread (%u,%u,%u) of block (%u,%u,%u)", w.tid % bd.x,
                        (w.tid / bd.x) % bd.y, w.tid / (bd.x * bd.y), obx, oby, obz);
          f.nthreads = 2;
          const unsigned other[6] = {obx, oby, obz, w.tid % bd.x, (w.tid / bd.x) % bd.y,
                                     w.tid / (bd.x * bd.y)};
          for (int j = 0; j < 6; ++j) f.threads[1][j] = other[j];
        } else {
          describe_thread(them, sizeof them, w.tid);
          f.nthreads = 2;
          fill_thread(f.threads[1], w.tid);
        }
        std::snprintf(f.message, sizeof f.message,
                      "data race on global memory: %s writes element %lld of '%s', which %s also wrote in "
                      "this launch with nothing ordering the two writes (%s)",
                      me, f.index, buf->name, them,
                      other_block ? "blocks run in any order on a GPU" : "no barrier in between");
        emit(f);
      }
    }
    w.block = g_block_linear + 1, w.epoch = g_epoch, w.wsync = wsync, w.pc = static_cast<uint32_t>(pc);
    w.tid = static_cast<uint16_t>(tid);
  }
}

inline void access(uintptr_t a, size_t size, bool write, bool aligned, uintptr_t pc, bool atomic = false) {
  if (!g_running) return;
  if (aligned && size > 1 && (a & (size - 1)) != 0 &&
      (a - g_arena_lo < g_arena_len || a - g_shared_lo < g_shared_len ||
       a - g_dyn_lo < kDynamicSharedCap + kDynamicRedzone)) {
    misaligned_fault(a, size, pc);
  }
  if (a - reinterpret_cast<uintptr_t>(shared_guard) < kSharedGuard) {
    Fault f = fault_here("out_of_bounds", pc);
    std::snprintf(f.buffer, sizeof f.buffer, "__shared__ (past the last variable)");
    f.has_index = true;
    f.offset = f.index = static_cast<long long>(a - g_shared_lo);
    char me[96];
    describe_thread(me, sizeof me, g_cur);
    std::snprintf(f.message, sizeof f.message,
                  "out-of-bounds %s of static shared memory: %s accesses byte offset %lld, past the end of the "
                  "last __shared__ variable (%zu bytes of static shared memory in all)",
                  write ? "write" : "read", me, f.offset, static_cast<size_t>(g_shared_len));
    emit(f);
  }
  if (a - g_shared_lo < g_shared_len) {
    const size_t first = a - g_shared_lo;
    const size_t count = first + size <= g_shared_len ? size : g_shared_len - first;
    shared_access(first, count, false, 0, write, atomic, pc);
    return;
  }
  if (a - g_dyn_lo < kDynamicSharedCap + kDynamicRedzone) {
    const size_t first = a - g_dyn_lo;
    if (first + size > g_job.shared_bytes) {
      Fault f = fault_here("out_of_bounds", pc);
      std::snprintf(f.buffer, sizeof f.buffer, "extern __shared__");
      f.has_index = true;
      f.offset = f.index = static_cast<long long>(first);
      char me[96];
      describe_thread(me, sizeof me, g_cur);
      std::snprintf(f.message, sizeof f.message,
                    "out-of-bounds %s of dynamic shared memory: the launch gives %u bytes, and %s accesses "
                    "bytes %zu..%zu",
                    write ? "write" : "read", g_job.shared_bytes, me, first, first + size - 1);
      emit(f);
    }
    shared_access(first, size, true, g_shared_len, write, atomic, pc);
    return;
  }
  if (a - g_arena_lo < g_arena_len) {
    const Buffer* b = g_last_buffer;
    bool inside = false;
    if (b) {
      const auto lo = reinterpret_cast<uintptr_t>(b->data);
      inside = a >= lo && a + size <= lo + b->bytes;
    }
    for (unsigned i = 0; !inside && i < g_job.nbuffers; ++i) {
      const Buffer& buf = g_job.buffers[i];
      const auto lo = reinterpret_cast<uintptr_t>(buf.data);
      if (a >= lo && a + size <= lo + buf.bytes) {
        g_last_buffer = &buf;
        inside = true;
      }
    }
    if (!inside) global_fault(a, size, write, pc);
    if (write && !atomic) global_write(a, size, pc);
  }
}

inline uintptr_t caller(void* ret) { return reinterpret_cast<uintptr_t>(ret) - 1; }

// ----------------------------------------------------------------------------- the block's scheduler
[[noreturn]] void warp_misuse(uintptr_t pc, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
[[noreturn]] void warp_misuse(uintptr_t pc, const char* fmt, ...) {
  Fault f = fault_here("warp_misuse", pc);
  char me[96];
  describe_thread(me, sizeof me, g_cur);
  const int n = std::snprintf(f.message, sizeof f.message, "%s: ", me);
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(f.message + n, sizeof f.message - static_cast<size_t>(n), fmt, ap);
  va_end(ap);
  emit(f);
}

void release_barrier_if_complete() {
  if (g_bar_arrived == 0 || g_bar_arrived != g_live) return;
  ++g_epoch;
  for (unsigned t = 0; t < g_threads; ++t) {
    if (g_fibers[t].state == kAtBarrier) {
      g_fibers[t].state = kRunnable;
      g_fibers[t].result = g_bar_votes;
    }
  }
  g_bar_arrived = 0;
  g_bar_votes = 0;
}

int barrier(int kind, int predicate, uintptr_t pc) {
  Fiber& f = g_fibers[g_cur];
  f.state = kAtBarrier;
  f.wait_pc = pc;
  ++g_bar_arrived;
  if (kind == 1 || kind == 3) g_bar_votes += predicate != 0;
  if (kind == 2) g_bar_votes += predicate == 0;  // counts the threads that fail the predicate
  release_barrier_if_complete();
  if (f.state == kAtBarrier) yield();
  if (kind == 2) return f.result == 0;
  if (kind == 3) return f.result != 0;
  return f.result;
}

float bf16_to_float(unsigned bits16) {
  const unsigned u = bits16 << 16;
  float v;
  __real_memcpy(&v, &u, 4);
  return v;
}

void complete_mma(WarpState& w) {
  // Fragment layouts from the PTX ISA ("Matrix Fragments for mma.m16n8k16 with floating point type"):
  // g = lane >> 2, t = lane % 4; A element i (two per register, low half first): row g for i in
  // {0,1,4,5}, else g + 8; col 2t + (i & 1), plus 8 for i >= 4. B element i: row 2t + (i & 1), plus 8
  // for i >= 2; col g. C/D element i: row g for i < 2, else g + 8; col 2t + (i & 1).
  float A[16][16], B[16][8];
  for (unsigned src = 0; src < 32; ++src) {
    const unsigned g = src >> 2, t = src & 3;
    for (int i = 0; i < 8; ++i) {
      const unsigned word = w.lane[src].in[i / 2];
      const unsigned bits = (i & 1) ? (word >> 16) : (word & 0xffffu);
      const unsigned row = (i == 0 || i == 1 || i == 4 || i == 5) ? g : g + 8;
      const unsigned col = 2 * t + (i & 1) + (i >= 4 ? 8 : 0);
      A[row][col] = bf16_to_float(bits);
    }
    for (int i = 0; i < 4; ++i) {
      const unsigned word = w.lane[src].in[4 + i / 2];
      const unsigned bits = (i & 1) ? (word >> 16) : (word & 0xffffu);
      const unsigned row = 2 * t + (i & 1) + (i >= 2 ? 8 : 0);
      B[row][g] = bf16_to_float(bits);
    }
  }
  for (unsigned l = 0; l < 32; ++l) {
    const unsigned g = l >> 2, t = l & 3;
    for (int i = 0; i < 4; ++i) {
      const unsigned row = i < 2 ? g : g + 8;
      const unsigned col = 2 * t + (i & 1);
      float acc = w.lane[l].acc[i];
      for (int k = 0; k < 16; ++k) acc = std::fma(A[row][k], B[k][col], acc);
      w.lane[l].acc[i] = acc;
    }
  }
}

const char* op_name(int op) {
  switch (op) {
    case kShflIdx: return "__shfl_sync";
    case kShflUp: return "__shfl_up_sync";
    case kShflDown: return "__shfl_down_sync";
    case kShflXor: return "__shfl_xor_sync";
    case kBallot: return "__ballot_sync";
    case kAny: return "__any_sync";
    case kAll: return "__all_sync";
    case kSyncwarp: return "__syncwarp";
    case kMatchAny: return "__match_any_sync";
    case kMma: return "mma.sync";
    default: return "a warp operation";
  }
}

void complete_warp_op(WarpState& w, unsigned warp, unsigned eff) {
  const LaneOp& first = w.lane[__builtin_ctz(eff)];
  const int op = first.op;
  if (op == kMma) {
    complete_mma(w);
  } else if (op == kSyncwarp) {
    ++g_wsync[warp];
  } else if (op == kBallot || op == kAny || op == kAll) {
    unsigned ballot = 0;
    for (unsigned l = 0; l < 32; ++l) {
      if ((eff >> l & 1) && w.lane[l].value) ballot |= 1u << l;
    }
    const unsigned long long r = op == kBallot ? ballot : op == kAny ? ballot != 0 : ballot == eff;
    for (unsigned l = 0; l < 32; ++l) {
      if (eff >> l & 1) w.lane[l].result = r;
    }
  } else if (op == kMatchAny) {
    for (unsigned l = 0; l < 32; ++l) {
      if (!(eff >> l & 1)) continue;
      unsigned m = 0;
      for (unsigned k = 0; k < 32; ++k) {
        if ((eff >> k & 1) && w.lane[k].value == w.lane[l].value) m |= 1u << k;
      }
      w.lane[l].result = m;
    }
  } else {  // shuffles
    for (unsigned l = 0; l < 32; ++l) {
      if (!(eff >> l & 1)) continue;
      const LaneOp& me = w.lane[l];
      const unsigned width = static_cast<unsigned>(me.width);
      const unsigned base = l & ~(width - 1);
      const unsigned arg = static_cast<unsigned>(me.arg);
      unsigned src = l;
      if (op == kShflIdx) {
        src = base + (arg & (width - 1));
      } else if (op == kShflUp) {
        src = (l - base) >= arg ? l - arg : l;
      } else if (op == kShflDown) {
        src = (l - base) + arg < width ? l + arg : l;
      } else {
        src = (l ^ (arg & 31u));
        if (src >= base + width) src = l;
      }
      if (!(eff >> src & 1)) {
        g_cur = warp * 32 + l;
        set_thread_index(g_cur);
        warp_misuse(me.pc,
                    "%s reads lane %u, which does not take part (mask 0x%08x, lanes present 0x%08x): the "
                    "value is undefined on a GPU",
                    op_name(op), src, me.mask, w.existing & ~w.exited);
      }
      w.lane[l].result = w.lane[src].value;
    }
  }
  for (unsigned l = 0; l < 32; ++l) {
    if (eff >> l & 1) g_fibers[warp * 32 + l].state = kRunnable;
  }
  w.arrived &= ~eff;
}

LaneOp& arrive(int op, unsigned mask, int width, uintptr_t pc) {
  const unsigned warp = g_cur >> 5, l = g_cur & 31;
  WarpState& w = g_warps[warp];
  if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
    warp_misuse(pc, "%s with width %d: the width must be a power of two from 1 to 32", op_name(op), width);
  }
  if (!(mask >> l & 1)) {
    warp_misuse(pc, "%s with mask 0x%08x, which does not include the calling lane %u", op_name(op), mask, l);
  }
  const unsigned eff = mask & w.existing;
  if (eff & w.exited) {
    warp_misuse(pc,
                "%s after lanes of the warp exited (mask 0x%08x, exited lanes 0x%08x): undefined on a GPU",
                op_name(op), mask, eff & w.exited);
  }
  LaneOp& me = w.lane[l];
  me.op = op, me.mask = mask, me.width = width, me.pc = pc;
  g_fibers[g_cur].state = kAtWarpOp;
  g_fibers[g_cur].wait_pc = pc;
  return me;
}

void finish_arrival(unsigned mask) {
  const unsigned warp = g_cur >> 5, l = g_cur & 31;
  WarpState& w = g_warps[warp];
  w.arrived |= 1u << l;
  const unsigned eff = mask & w.existing;
  const unsigned me = g_cur;
  // Lanes of the mask still in another collective (a different mask or operation) may reach this
  // one later; if they never do, no fiber can run and deadlock() says which lanes disagree.
  bool ready = (w.arrived & eff) == eff;
  for (unsigned k = 0; ready && k < 32; ++k) {
    if ((eff >> k & 1) && (w.lane[k].op != w.lane[l].op || w.lane[k].mask != mask)) ready = false;
  }
  if (ready) complete_warp_op(w, warp, eff);
  g_cur = me;
  if (g_fibers[g_cur].state == kAtWarpOp) yield();
}

void thread_exit() {
  const unsigned warp = g_cur >> 5, l = g_cur & 31;
  WarpState& w = g_warps[warp];
  for (unsigned k = 0; k < 32; ++k) {
    if ((w.arrived >> k & 1) && (w.lane[k].mask >> l & 1)) {
      const LaneOp& o = w.lane[k];
      const uintptr_t pc = o.pc;
      warp_misuse(pc,
                  "exits while lane %u waits for it in %s (mask 0x%08x): every lane of the mask must reach "
                  "the operation (undefined on a GPU)",
                  k, op_name(o.op), o.mask);
    }
  }
  w.exited |= 1u << l;
  g_fibers[g_cur].state = kExited;
  --g_live;
  release_barrier_if_complete();
  simt_switch(&g_fibers[g_cur].sp, g_sched_sp);
  __builtin_unreachable();
}

[[noreturn]] void fiber_start() {
  kernel_body();
  thread_exit();
  __builtin_unreachable();
}

[[noreturn]] void deadlock() {
  unsigned at_barrier = 0, at_warp = 0, first_bar = kMaxThreads, first_warp = kMaxThreads;
  for (unsigned t = 0; t < g_threads; ++t) {
    if (g_fibers[t].state == kAtBarrier) {
      ++at_barrier;
      if (first_bar == kMaxThreads) first_bar = t;
    } else if (g_fibers[t].state == kAtWarpOp) {
      ++at_warp;
      if (first_warp == kMaxThreads) first_warp = t;
    }
  }
  g_cur = first_warp != kMaxThreads ? first_warp : first_bar;
  set_thread_index(g_cur);
  Fault f = fault_here("deadlock", g_fibers[g_cur].wait_pc);
  const unsigned other = first_warp != kMaxThreads ? first_bar : kMaxThreads;
  if (other != kMaxThreads) {
    f.nthreads = 2;
    fill_thread(f.threads[1], other);
    f.other_pc = g_fibers[other].wait_pc;
  }
  char me[96];
  describe_thread(me, sizeof me, g_cur);
  for (unsigned w = 0; w < (g_threads + 31) / 32; ++w) {  // lanes that wait in different collectives
    const WarpState& ws = g_warps[w];
    for (unsigned a = 0; a < 32; ++a) {
      if (!(ws.arrived >> a & 1)) continue;
      for (unsigned b = 0; b < 32; ++b) {
        if (!(ws.arrived >> b & 1) || !(ws.lane[a].mask >> b & 1)) continue;
        if (ws.lane[a].op == ws.lane[b].op && ws.lane[a].mask == ws.lane[b].mask) continue;
        g_cur = w * 32 + a;
        set_thread_index(g_cur);
        warp_misuse(ws.lane[a].pc,
                    "waits in %s (mask 0x%08x) while lane %u of its mask waits in %s (mask 0x%08x): the "
                    "lanes of a warp-collective operation must call the same operation with the same mask",
                    op_name(ws.lane[a].op), ws.lane[a].mask, b, op_name(ws.lane[b].op), ws.lane[b].mask);
      }
    }
  }
  if (at_warp) {
    const LaneOp& op = g_warps[g_cur >> 5].lane[g_cur & 31];
    std::snprintf(f.message, sizeof f.message,
                  "deadlock: no thread can make progress. %u thread(s) wait in a warp-collective operation "
                  "(%s waits in %s, mask 0x%08x, for lanes that never reach it) and %u wait at "
                  "__syncthreads()",
                  at_warp, me, op_name(op.op), op.mask, at_barrier);
  } else {
    std::snprintf(f.message, sizeof f.message,
                  "deadlock: %u thread(s) wait at __syncthreads() (%s first) for threads of the block that "
                  "never reach it",
                  at_barrier, me);
  }
  emit(f);
}

void run_block() {
  g_block_epoch0 = ++g_epoch;
  g_live = g_threads;
  g_bar_arrived = 0;
  g_bar_votes = 0;
  for (unsigned t = 0; t < g_threads; ++t) g_fibers[t] = Fiber{fresh_stack(t), kRunnable, 0, 0};
  for (unsigned w = 0; w < (g_threads + 31) / 32; ++w) {
    const unsigned lanes = g_threads - 32 * w >= 32 ? 32 : g_threads - 32 * w;
    g_warps[w].existing = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1;
    g_warps[w].exited = 0;
    g_warps[w].arrived = 0;
  }
  // Poison: shared memory starts as NaN bytes (reads before writes are reported anyway).
  if (g_shared_len) __real_memset(reinterpret_cast<void*>(g_shared_lo), 0xff, g_shared_len);
  if (g_job.shared_bytes) __real_memset(dynamic_shared, 0xff, g_job.shared_bytes);
  while (g_live > 0) {
    bool ran = false;
    for (unsigned k = 0; k < g_threads; ++k) {
      const unsigned t = g_job.schedule ? g_threads - 1 - k : k;
      if (g_fibers[t].state != kRunnable) continue;
      g_cur = t;
      set_thread_index(t);
      g_running = true;
      simt_switch(&g_sched_sp, g_fibers[t].sp);
      g_running = false;
      ran = true;
    }
    if (!ran) deadlock();
  }
}

// ----------------------------------------------------------------------------- confinement
const char* syscall_name(long nr) {
  switch (nr) {
    case SYS_open: return "open";
    case SYS_openat: return "openat";
    case SYS_socket: return "socket";
    case SYS_connect: return "connect";
    case SYS_execve: return "execve";
    case SYS_execveat: return "execveat";
    case SYS_clone: return "clone";
    case SYS_clone3: return "clone3";
    case SYS_fork: return "fork";
    case SYS_vfork: return "vfork";
    case SYS_kill: return "kill";
    case SYS_tgkill: return "tgkill";
    case SYS_unlink: return "unlink";
    case SYS_unlinkat: return "unlinkat";
    case SYS_rt_sigaction: return "rt_sigaction";
    case SYS_ptrace: return "ptrace";
    case SYS_stat: return "stat";
    case SYS_newfstatat: return "newfstatat";
    case SYS_fstat: return "fstat";
    case SYS_ioctl: return "ioctl";
    case SYS_bind: return "bind";
    case SYS_sendto: return "sendto";
    case SYS_getdents64: return "getdents64";
    default: return nullptr;
  }
}

void on_fatal_signal(int sig, siginfo_t* info, void* uctx) {
  const auto* uc = static_cast<const ucontext_t*>(uctx);
  const auto pc = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  Fault f = fault_here("trap", pc);
  char me[96];
  describe_thread(me, sizeof me, g_cur);
  if (sig == SIGSYS) {
    f.kind = "forbidden_syscall";
    const char* name = syscall_name(info->si_syscall);
    char number[32];
    std::snprintf(number, sizeof number, "syscall %d", info->si_syscall);
    std::snprintf(f.message, sizeof f.message,
                  "the kernel made a forbidden system call (%s) in %s: a kernel may not open files, "
                  "start processes or use the network; the run was stopped",
                  name ? name : number, me);
  } else if (sig == SIGSEGV || sig == SIGBUS) {
    const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
    const auto stacks = reinterpret_cast<uintptr_t>(g_stacks);
    if (g_stacks && addr >= stacks && addr < stacks + g_threads * (kStack + 4096) &&
        (addr - stacks) % (kStack + 4096) < 4096) {
      f.kind = "unsupported";
      std::snprintf(f.message, sizeof f.message,
                    "%s overflowed its stack (the emulator gives each thread %zu KiB): deep recursion or a "
                    "large local array",
                    me, kStack / 1024);
    } else {
      f.kind = "out_of_bounds";
      std::snprintf(f.message, sizeof f.message,
                    "invalid memory access at address 0x%lx by %s, outside every buffer, the shared memory "
                    "and the thread's stack (a wild pointer)",
                    static_cast<unsigned long>(addr), me);
    }
  } else if (sig == SIGFPE) {
    std::snprintf(f.message, sizeof f.message, "arithmetic fault (integer division by zero?) in %s", me);
  } else {
    std::snprintf(f.message, sizeof f.message, "signal %d in %s", sig, me);
  }
  emit(f);
}

void install_signal_handlers() {
  static unsigned char alt[64 * 1024];
  stack_t ss{};
  ss.ss_sp = alt;
  ss.ss_size = sizeof alt;
  sigaltstack(&ss, nullptr);
  struct sigaction sa{};
  sa.sa_sigaction = on_fatal_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGSYS, SIGABRT, SIGTRAP}) sigaction(sig, &sa, nullptr);
}

bool install_seccomp() {
  static const long allowed[] = {
      SYS_read, SYS_write, SYS_writev, SYS_mmap, SYS_munmap, SYS_mprotect, SYS_brk, SYS_mremap,
      SYS_madvise, SYS_exit, SYS_exit_group, SYS_rt_sigreturn, SYS_rt_sigprocmask, SYS_futex,
      SYS_clock_gettime, SYS_gettimeofday, SYS_getpid, SYS_gettid, SYS_sched_yield, SYS_getrandom,
  };
  constexpr size_t n = sizeof allowed / sizeof allowed[0];
  struct sock_filter filter[5 + 2 * n + 1];
  size_t k = 0;
  filter[k++] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  filter[k++] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  filter[k++] = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  filter[k++] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  filter[k++] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 2 * n, 0);  // x32 ABI: trapped
  for (size_t i = 0; i < n; ++i) {
    filter[k++] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(allowed[i]), 0, 1);
    filter[k++] = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  }
  filter[k++] = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
  struct sock_fprog prog{static_cast<unsigned short>(k), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

void close_other_fds() {
  for (int fd = 3; fd < 1024; ++fd) {
    if (fd != g_out_fd && fd != g_report_fd) ::close(fd);
  }
}

}  // namespace

// ----------------------------------------------------------------------------- the kernel's calls
void syncthreads(int kind) { barrier(kind, 0, caller(__builtin_return_address(0))); }
int syncthreads_vote(int kind, int predicate) {
  return barrier(kind, predicate, caller(__builtin_return_address(0)));
}

unsigned long long warp_op(int op, unsigned int mask, unsigned long long value, int arg, int width) {
  const uintptr_t pc = caller(__builtin_return_address(0));
  LaneOp& me = arrive(op, mask, width, pc);
  me.value = value;
  me.arg = arg;
  finish_arrival(mask);
  return g_warps[g_cur >> 5].lane[g_cur & 31].result;
}

unsigned int activemask() {
  const WarpState& w = g_warps[g_cur >> 5];
  return w.existing & ~w.exited;  // converged execution is not modelled: every live lane
}

void mma_m16n8k16_bf16(float (&c)[4], const unsigned int (&a)[4], unsigned int b0, unsigned int b1) {
  const uintptr_t pc = caller(__builtin_return_address(0));
  LaneOp& me = arrive(kMma, 0xffffffffu, 32, pc);
  if (g_warps[g_cur >> 5].existing != 0xffffffffu) {
    warp_misuse(pc, "mma.sync needs all 32 lanes of the warp, and this warp has fewer (a partial last warp)");
  }
  for (int i = 0; i < 4; ++i) me.in[i] = a[i], me.acc[i] = c[i];
  me.in[4] = b0, me.in[5] = b1;
  finish_arrival(0xffffffffu);
  const LaneOp& done = g_warps[g_cur >> 5].lane[g_cur & 31];
  for (int i = 0; i < 4; ++i) c[i] = done.acc[i];
}

void trap(const char* kind, const char* message) {
  Fault f = fault_here(kind, caller(__builtin_return_address(0)));
  char me[96];
  describe_thread(me, sizeof me, g_cur);
  std::snprintf(f.message, sizeof f.message, "%s in %s", message, me);
  emit(f);
}

void check_aligned(const void* p, unsigned long align) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  if (align > 1 && (a & (align - 1)) != 0) misaligned_fault(a, align, caller(__builtin_return_address(0)));
}

int device_printf(const char* format, ...) {
  char line[2048];
  va_list ap;
  va_start(ap, format);
  const int n = std::vsnprintf(line, sizeof line, format, ap);
  va_end(ap);
  if (n < 0) return n;
  const size_t len = static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1;
  if (g_printed < kPrintfLimit) {
    const size_t room = kPrintfLimit - g_printed;
    write_all(1, line, len < room ? len : room);
    g_printed += len;
    if (g_printed >= kPrintfLimit) {
      static const char note[] = "\n[simt: printf output truncated at 65536 bytes]\n";
      write_all(1, note, sizeof note - 1);
    }
  }
  return n;
}

}  // namespace simt

// ----------------------------------------------------------------------------- atomics
namespace {
template <class T, class F>
T rmw(T* p, uintptr_t pc, F f) {
  simt::access(reinterpret_cast<uintptr_t>(p), sizeof(T), true, true, pc, true);
  const T old = *p;
  *p = f(old);
  return old;
}
}  // namespace
#define SIMT_ATOMIC(name, T, expr)                                             \
  T name(T* p, T v) {                                                          \
    return rmw(p, simt::caller(__builtin_return_address(0)), [&](T o) { return static_cast<T>(expr); }); \
  }
SIMT_ATOMIC(atomicAdd, int, o + v)
SIMT_ATOMIC(atomicAdd, unsigned int, o + v)
SIMT_ATOMIC(atomicAdd, unsigned long long, o + v)
SIMT_ATOMIC(atomicAdd, float, o + v)
SIMT_ATOMIC(atomicAdd, double, o + v)
SIMT_ATOMIC(atomicAdd, __nv_bfloat16, __float2bfloat16_rn(__bfloat162float(o) + __bfloat162float(v)))
SIMT_ATOMIC(atomicAdd, __nv_bfloat162, __hadd2(o, v))
SIMT_ATOMIC(atomicAdd, __half, __float2half_rn(__half2float(o) + __half2float(v)))
SIMT_ATOMIC(atomicAdd, __half2, __hadd2(o, v))
SIMT_ATOMIC(atomicSub, int, o - v)
SIMT_ATOMIC(atomicSub, unsigned int, o - v)
SIMT_ATOMIC(atomicMax, int, o > v ? o : v)
SIMT_ATOMIC(atomicMax, unsigned int, o > v ? o : v)
SIMT_ATOMIC(atomicMax, long long, o > v ? o : v)
SIMT_ATOMIC(atomicMax, unsigned long long, o > v ? o : v)
SIMT_ATOMIC(atomicMin, int, o < v ? o : v)
SIMT_ATOMIC(atomicMin, unsigned int, o < v ? o : v)
SIMT_ATOMIC(atomicMin, long long, o < v ? o : v)
SIMT_ATOMIC(atomicMin, unsigned long long, o < v ? o : v)
SIMT_ATOMIC(atomicExch, int, v)
SIMT_ATOMIC(atomicExch, unsigned int, v)
SIMT_ATOMIC(atomicExch, unsigned long long, v)
SIMT_ATOMIC(atomicExch, float, v)
SIMT_ATOMIC(atomicAnd, int, o & v)
SIMT_ATOMIC(atomicAnd, unsigned int, o & v)
SIMT_ATOMIC(atomicOr, int, o | v)
SIMT_ATOMIC(atomicOr, unsigned int, o | v)
SIMT_ATOMIC(atomicXor, int, o ^ v)
SIMT_ATOMIC(atomicXor, unsigned int, o ^ v)
SIMT_ATOMIC(atomicInc, unsigned int, o >= v ? 0u : o + 1)
SIMT_ATOMIC(atomicDec, unsigned int, (o == 0 || o > v) ? v : o - 1)
#undef SIMT_ATOMIC
#define SIMT_CAS(T)                                                                        \
  T atomicCAS(T* p, T compare, T v) {                                                      \
    return rmw(p, simt::caller(__builtin_return_address(0)), [&](T o) { return o == compare ? v : o; }); \
  }
SIMT_CAS(int)
SIMT_CAS(unsigned int)
SIMT_CAS(unsigned long long)
#undef SIMT_CAS

// ----------------------------------------------------------------------------- instrumentation hooks
// GCC's -fsanitize=thread calls these for every memory access of the kernel's translation unit.
#define SIMT_HOOK(n)                                                                                     \
  extern "C" void __tsan_read##n(void* p) {                                                              \
    simt::access(reinterpret_cast<uintptr_t>(p), n, false, true, simt::caller(__builtin_return_address(0))); \
  }                                                                                                      \
  extern "C" void __tsan_write##n(void* p) {                                                             \
    simt::access(reinterpret_cast<uintptr_t>(p), n, true, true, simt::caller(__builtin_return_address(0)));  \
  }                                                                                                      \
  extern "C" void __tsan_volatile_read##n(void* p) {                                                     \
    simt::access(reinterpret_cast<uintptr_t>(p), n, false, true, simt::caller(__builtin_return_address(0))); \
  }                                                                                                      \
  extern "C" void __tsan_volatile_write##n(void* p) {                                                    \
    simt::access(reinterpret_cast<uintptr_t>(p), n, true, true, simt::caller(__builtin_return_address(0)));  \
  }                                                                                                      \
  extern "C" void __tsan_unaligned_read##n(void* p) {                                                    \
    simt::access(reinterpret_cast<uintptr_t>(p), n, false, false, simt::caller(__builtin_return_address(0))); \
  }                                                                                                      \
  extern "C" void __tsan_unaligned_write##n(void* p) {                                                   \
    simt::access(reinterpret_cast<uintptr_t>(p), n, true, false, simt::caller(__builtin_return_address(0))); \
  }                                                                                                      \
  extern "C" void __tsan_unaligned_volatile_read##n(void* p) {                                           \
    simt::access(reinterpret_cast<uintptr_t>(p), n, false, false, simt::caller(__builtin_return_address(0))); \
  }                                                                                                      \
  extern "C" void __tsan_unaligned_volatile_write##n(void* p) {                                          \
    simt::access(reinterpret_cast<uintptr_t>(p), n, true, false, simt::caller(__builtin_return_address(0))); \
  }
SIMT_HOOK(1)
SIMT_HOOK(2)
SIMT_HOOK(4)
SIMT_HOOK(8)
SIMT_HOOK(16)
#undef SIMT_HOOK

extern "C" {
void __tsan_init() {}
void __tsan_func_entry(void*) {}
void __tsan_func_exit() {}
void __tsan_read_range(void* p, unsigned long n) {
  if (n) simt::access(reinterpret_cast<uintptr_t>(p), n, false, false, simt::caller(__builtin_return_address(0)));
}
void __tsan_write_range(void* p, unsigned long n) {
  if (n) simt::access(reinterpret_cast<uintptr_t>(p), n, true, false, simt::caller(__builtin_return_address(0)));
}
void __tsan_vptr_update(void**, void*) {}
void __tsan_vptr_read(void**) {}
void __tsan_atomic_thread_fence(int) {}
void __tsan_atomic_signal_fence(int) {}

// Memory functions the kernel calls (the link wraps memcpy/memmove/memset to these).
void* __wrap_memcpy(void* d, const void* s, size_t n) {
  const uintptr_t pc = simt::caller(__builtin_return_address(0));
  if (n) {
    simt::access(reinterpret_cast<uintptr_t>(s), n, false, false, pc);
    simt::access(reinterpret_cast<uintptr_t>(d), n, true, false, pc);
  }
  return __real_memcpy(d, s, n);
}
void* __wrap_memmove(void* d, const void* s, size_t n) {
  const uintptr_t pc = simt::caller(__builtin_return_address(0));
  if (n) {
    simt::access(reinterpret_cast<uintptr_t>(s), n, false, false, pc);
    simt::access(reinterpret_cast<uintptr_t>(d), n, true, false, pc);
  }
  return __real_memmove(d, s, n);
}
void* __wrap_memset(void* d, int c, size_t n) {
  if (n) simt::access(reinterpret_cast<uintptr_t>(d), n, true, false, simt::caller(__builtin_return_address(0)));
  return __real_memset(d, c, n);
}
}

// std::atomic / __atomic builtins in the kernel: one OS thread, so plain operations, checked as
// atomic accesses.
#define SIMT_TSAN_ATOMICS(bits, T)                                                                       \
  extern "C" T __tsan_atomic##bits##_load(const volatile T* p, int) {                                    \
    simt::access(reinterpret_cast<uintptr_t>(p), sizeof(T), false, true, simt::caller(__builtin_return_address(0))); \
    return *p;                                                                                           \
  }                                                                                                      \
  extern "C" void __tsan_atomic##bits##_store(volatile T* p, T v, int) {                                 \
    simt::access(reinterpret_cast<uintptr_t>(p), sizeof(T), true, true, simt::caller(__builtin_return_address(0)), true); \
    *p = v;                                                                                              \
  }                                                                                                      \
  extern "C" T __tsan_atomic##bits##_exchange(volatile T* p, T v, int) {                                 \
    return rmw(const_cast<T*>(p), simt::caller(__builtin_return_address(0)), [&](T) { return v; });    \
  }                                                                                                      \
  extern "C" T __tsan_atomic##bits##_fetch_add(volatile T* p, T v, int) {                                \
    return rmw(const_cast<T*>(p), simt::caller(__builtin_return_address(0)), [&](T o) { return static_cast<T>(o + v); }); \
  }                                                                                                      \
  extern "C" T __tsan_atomic##bits##_fetch_sub(volatile T* p, T v, int) {                                \
    return rmw(const_cast<T*>(p), simt::caller(__builtin_return_address(0)), [&](T o) { return static_cast<T>(o - v); }); \
  }                                                                                                      \
  extern "C" T __tsan_atomic##bits##_fetch_and(volatile T* p, T v, int) {                                \
    return rmw(const_cast<T*>(p), simt::caller(__builtin_return_address(0)), [&](T o) { return static_cast<T>(o & v); }); \
  }                                                                                                      \
  extern "C" T __tsan_atomic##bits##_fetch_or(volatile T* p, T v, int) {                                 \
    return rmw(const_cast<T*>(p), simt::caller(__builtin_return_address(0)), [&](T o) { return static_cast<T>(o | v); }); \
  }                                                                                                      \
  extern "C" T __tsan_atomic##bits##_fetch_xor(volatile T* p, T v, int) {                                \
    return rmw(const_cast<T*>(p), simt::caller(__builtin_return_address(0)), [&](T o) { return static_cast<T>(o ^ v); }); \
  }                                                                                                      \
  extern "C" int __tsan_atomic##bits##_compare_exchange_strong(volatile T* p, T* expected, T v, int, int) { \
    T* q = const_cast<T*>(p);                                                                            \
    const T old = rmw(q, simt::caller(__builtin_return_address(0)), [&](T o) { return o == *expected ? v : o; }); \
    if (old == *expected) return 1;                                                                      \
    *expected = old;                                                                                     \
    return 0;                                                                                            \
  }                                                                                                      \
  extern "C" int __tsan_atomic##bits##_compare_exchange_weak(volatile T* p, T* expected, T v, int, int) { \
    return __tsan_atomic##bits##_compare_exchange_strong(p, expected, v, 0, 0);                          \
  }                                                                                                      \
  extern "C" T __tsan_atomic##bits##_compare_exchange_val(volatile T* p, T expected, T v, int, int) {    \
    return rmw(const_cast<T*>(p), simt::caller(__builtin_return_address(0)), [&](T o) { return o == expected ? v : o; }); \
  }
SIMT_TSAN_ATOMICS(8, unsigned char)
SIMT_TSAN_ATOMICS(16, unsigned short)
SIMT_TSAN_ATOMICS(32, unsigned int)
SIMT_TSAN_ATOMICS(64, unsigned long long)
#undef SIMT_TSAN_ATOMICS

// ----------------------------------------------------------------------------- main
int main(int argc, char** argv) {
  using namespace simt;
  if (argc != 4) fail_job("usage: runner JOB_IN JOB_OUT REPORT_OUT");
  read_job(argv[1]);
  g_out_fd = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_report_fd = ::open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (g_out_fd < 0 || g_report_fd < 0) fail_job("cannot create the output or report file");
  Job& job = g_job;
  blockDim = job.block;
  gridDim = job.grid;

  ArgTable table{job.nargs, job.kinds, job.values, job.elem_size};
  if (const char* error = kernel_bind(table)) {
    Fault f;
    f.kind = "unsupported";
    std::snprintf(f.message, sizeof f.message, "%s", error);
    emit(f);
  }
  for (unsigned i = 0; i < job.nargs; ++i) {
    if (job.buffer_of_arg[i] >= 0) job.buffers[job.buffer_of_arg[i]].elem = job.elem_size[i];
  }
  const unsigned long long threads = 1ull * job.block.x * job.block.y * job.block.z;
  if (threads == 0 || threads > kMaxThreads) fail_job("block size must be 1..1024 threads");
  if (job.grid.x == 0 || job.grid.y == 0 || job.grid.z == 0) fail_job("every grid dimension must be >= 1");
  if (job.shared_bytes > kDynamicSharedCap) fail_job("more dynamic shared memory than a block may have (227 KiB)");
  g_threads = static_cast<unsigned>(threads);

  g_shared_lo = reinterpret_cast<uintptr_t>(__start_simt_shared);
  // The kernel's static shared variables: from the section's start to the engine's guard after them.
  g_shared_len = reinterpret_cast<uintptr_t>(shared_guard) - g_shared_lo;
  g_dyn_lo = reinterpret_cast<uintptr_t>(dynamic_shared);
  const size_t shadow_bytes = (g_shared_len + kDynamicSharedCap) * sizeof(Shadow);
  void* shadow = mmap(nullptr, shadow_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  const size_t stacks_bytes = g_threads * (kStack + 4096);
  void* stacks = mmap(nullptr, stacks_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (shadow == MAP_FAILED || stacks == MAP_FAILED) fail_job("out of memory for the fibers");
  g_shadow = static_cast<Shadow*>(shadow);
  void* global_shadow = mmap(nullptr, g_arena_len * sizeof(GlobalWrite), PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (global_shadow == MAP_FAILED) fail_job("out of memory for the global-memory shadow");
  g_global_shadow = static_cast<GlobalWrite*>(global_shadow);
  g_stacks = static_cast<unsigned char*>(stacks);
  for (unsigned t = 0; t < g_threads; ++t) mprotect(g_stacks + t * (kStack + 4096), 4096, PROT_NONE);

  install_signal_handlers();
  std::free(std::malloc(64));  // the allocator's first-use set-up happens before the filter
  close_other_fds();
  if (!install_seccomp()) {
    std::fprintf(stderr, "simt runner: cannot install the seccomp filter; refusing to run the kernel\n");
    _exit(4);
  }

  const unsigned long long blocks = 1ull * job.grid.x * job.grid.y * job.grid.z;
  for (unsigned long long k = 0; k < blocks; ++k) {
    const unsigned long long b = job.schedule ? blocks - 1 - k : k;
    const unsigned bx = static_cast<unsigned>(b % job.grid.x);
    const unsigned by = static_cast<unsigned>(b / job.grid.x % job.grid.y);
    const unsigned bz = static_cast<unsigned>(b / (1ull * job.grid.x * job.grid.y));
    blockIdx = {bx, by, bz};
    g_block_linear = static_cast<uint32_t>(b);
    run_block();
  }
  g_threads = 0;
  for (unsigned b = 0; b < job.nbuffers; ++b) write_all(g_out_fd, job.buffers[b].data, job.buffers[b].bytes);
  _exit(0);
}
