// Reading the program and the job: every count, index and size is checked here, once.
#include <cstdio>

#include "engine.h"

namespace vm {

namespace {

struct Reader {
  const std::vector<uint8_t>& b;
  size_t p = 0;
  const char* what;
  void need(size_t n) {
    if (n > b.size() || p > b.size() - n) throw std::runtime_error(std::string(what) + ": truncated");
  }
  template <typename T> T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, b.data() + p, sizeof(T));
    p += sizeof(T);
    return v;
  }
  std::string cstr(size_t max) {
    std::string s;
    while (true) {
      need(1);
      char c = (char)b[p++];
      if (!c) return s;
      if (s.size() >= max) throw std::runtime_error(std::string(what) + ": string too long");
      s.push_back(c);
    }
  }
  std::vector<uint8_t> bytes(size_t n) {
    need(n);
    std::vector<uint8_t> v(b.begin() + (long)p, b.begin() + (long)(p + n));
    p += n;
    return v;
  }
};

void check(bool ok, const char* message) {
  if (!ok) throw std::runtime_error(message);
}

}  // namespace

std::vector<uint8_t> read_file(const char* path) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) throw std::runtime_error(std::string("cannot read ") + path);
  std::vector<uint8_t> data;
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (data.size() + n > (size_t)(1u << 31)) { std::fclose(f); throw std::runtime_error("input too large"); }
    data.insert(data.end(), chunk, chunk + n);
  }
  std::fclose(f);
  return data;
}

Program load_program(const std::vector<uint8_t>& data) {
  Reader r{data, 0, "program"};
  auto magic = r.bytes(8);
  check(std::memcmp(magic.data(), "PTXVM1\0\0", 8) == 0, "program: bad magic");
  Program p;
  p.entry = r.get<uint32_t>();
  uint32_t ninsn = r.get<uint32_t>(), nops = r.get<uint32_t>();
  p.nregs = r.get<uint32_t>();
  p.static_shared = r.get<uint32_t>();
  p.dyn_base = r.get<uint32_t>();
  p.local_size = r.get<uint32_t>();
  p.kparam_size = r.get<uint32_t>();
  p.tparam_size = r.get<uint32_t>();
  uint32_t ncalls = r.get<uint32_t>(), nmems = r.get<uint32_t>();
  check(ninsn > 0 && ninsn <= (1u << 20) && nops <= (1u << 24) && p.nregs <= (1u << 16), "program: sizes");
  check(p.static_shared <= 227 * 1024 && p.local_size <= 512 * 1024 && p.kparam_size <= 32768, "program: limits");
  check(p.tparam_size <= (1u << 20) && ncalls <= (1u << 20) && nmems <= (uint32_t)REGIONS, "program: sizes");
  check(p.entry < ninsn, "program: entry");
  p.insns.resize(ninsn);
  for (auto& in : p.insns) {
    in.op = r.get<uint16_t>();
    for (auto& t : in.t) t = r.get<uint8_t>();
    in.cmp = r.get<uint8_t>(); in.rnd = r.get<uint8_t>(); in.space = r.get<uint8_t>();
    in.vec = r.get<uint8_t>(); in.sub = r.get<uint8_t>(); in.guard_neg = r.get<uint8_t>();
    in.nops = r.get<uint8_t>();
    r.get<uint8_t>();
    in.guard = r.get<int32_t>(); in.flags = r.get<uint64_t>(); in.opb = r.get<uint32_t>();
    in.line = r.get<int32_t>(); in.file = r.get<int32_t>(); in.target = r.get<int32_t>();
    in.reconv = r.get<int32_t>(); in.aux = r.get<int32_t>(); in.aux2 = r.get<int32_t>();
    in.extra = r.get<int32_t>();
  }
  p.ops.resize(nops);
  for (auto& o : p.ops) {
    o.kind = r.get<uint8_t>(); o.n = r.get<uint8_t>(); r.get<uint16_t>();
    o.reg = r.get<int32_t>(); o.imm = r.get<int64_t>();
    check(o.kind <= K_GROUP, "program: operand kind");
    check(o.kind != K_REG || o.reg >= 0, "program: register operand without a register");
    check((o.kind != K_VEC && o.kind != K_PAIR && o.kind != K_GROUP) || (o.n >= 1 && o.n <= 8), "program: vector size");
    check(o.reg >= -1 && (o.reg < (int32_t)p.nregs || o.kind == K_SREG), "program: register index");
    check(o.kind != K_SREG || (o.reg >= 0 && o.reg <= SR_AGGR_SMEM_SIZE), "program: special register");
  }
  p.regw = r.bytes(p.nregs);
  for (uint32_t i = 0; i < ncalls; i++) {
    uint32_t len = r.get<uint32_t>();
    size_t start = r.p;
    Call c;
    c.entry = r.get<int32_t>();
    int32_t nargs = r.get<int32_t>();
    check(nargs >= 0 && nargs <= 64, "program: call arguments");
    for (int k = 0; k < nargs; k++) c.args.push_back({r.get<int32_t>(), r.get<int32_t>(), r.get<int32_t>()});
    c.ret = {r.get<int32_t>(), r.get<int32_t>(), r.get<int32_t>()};
    check(r.p - start == len, "program: call record length");
    check(c.entry >= -2 && c.entry < (int32_t)ninsn, "program: call target");
    auto in_params = [&](const Copy& cp) {
      return cp.size >= 0 && cp.size <= 4096 && cp.src >= 0 && cp.dst >= 0 &&
             (uint32_t)cp.src + (uint32_t)cp.size <= p.tparam_size + 8 && (uint32_t)cp.dst + (uint32_t)cp.size <= p.tparam_size + 8;
    };
    for (auto& a : c.args) check(in_params(a), "program: call copy");
    check(in_params(c.ret), "program: return copy");
    p.calls.push_back(std::move(c));
  }
  for (uint32_t i = 0; i < nmems; i++) {
    Memory m;
    m.region = r.get<uint32_t>();
    m.readonly = r.get<uint8_t>() != 0;
    uint32_t size = r.get<uint32_t>();
    check(m.region >= (uint32_t)MODULE_GLOBALS_FIRST && m.region < (uint32_t)REGIONS && size <= (64u << 20), "program: memory");
    m.name = r.cstr(200);
    m.init = r.bytes(size);
    p.memories.push_back(std::move(m));
  }
  uint32_t nshared = r.get<uint32_t>();
  check(nshared <= 4096, "program: shared variables");
  for (uint32_t i = 0; i < nshared; i++) {
    SharedVar v;
    v.offset = r.get<uint32_t>(); v.size = r.get<uint32_t>();
    v.name = r.cstr(200);
    p.shared_vars.push_back(std::move(v));
  }
  uint32_t nfiles = r.get<uint32_t>();
  check(nfiles <= 4096, "program: files");
  for (uint32_t i = 0; i < nfiles; i++) {
    uint32_t len = r.get<uint32_t>();
    auto raw = r.bytes(len);
    std::string s(raw.begin(), raw.end());
    auto nul = s.find('\0');
    check(nul != std::string::npos, "program: file entry");
    int idx = std::atoi(s.substr(0, nul).c_str());
    check(idx >= 0 && idx < 4096, "program: file index");
    if ((int)p.files.size() <= idx) p.files.resize(idx + 1);
    p.files[idx] = s.substr(nul + 1);
  }
  check(r.p == data.size(), "program: trailing bytes");
  for (auto& in : p.insns) {
    check(in.op < OP_COUNT, "program: opcode");
    check((uint64_t)in.opb + in.nops <= p.ops.size(), "program: operand range");
    check(in.guard >= -1 && in.guard < (int32_t)p.nregs, "program: guard");
    check(in.target >= -1 && in.target < (int32_t)ninsn, "program: branch target");
    check(in.reconv >= -1 && in.reconv < (int32_t)ninsn, "program: reconvergence point");
    if (in.op == OP_CALL) check(in.aux >= 0 && in.aux < (int32_t)p.calls.size(), "program: call index");
    if (in.op == OP_BRA) check(in.target >= 0, "program: branch without target");
    // logical operands: a vector or pair takes its own slot and its items' (items are scalars)
    in.nlog = 0;
    for (uint32_t k = 0; k < in.nops;) {
      const Opnd& o = p.ops[in.opb + k];
      check(in.nlog < 8, "program: more than 8 operands");
      in.lidx[in.nlog++] = (uint8_t)k;
      uint32_t items = (o.kind == K_VEC || o.kind == K_PAIR || o.kind == K_GROUP) ? o.n : 0;
      check(k + items < in.nops, "program: vector operand");
      for (uint32_t j = 1; j <= items; j++) {
        uint8_t kind = p.ops[in.opb + k + j].kind;
        check(kind == K_REG || kind == K_IMM || kind == K_SINK || kind == K_SREG, "program: vector item");
      }
      k += 1 + items;
    }
  }
  for (auto& in : p.insns) in.fast = classify_fast(p, in);
  return p;
}

Job load_job(const std::vector<uint8_t>& data, std::vector<Buffer>& buffers) {
  Reader r{data, 0, "job"};
  auto magic = r.bytes(8);
  check(std::memcmp(magic.data(), "PTXJOB1\0", 8) == 0, "job: bad magic");
  Job j;
  for (auto& g : j.grid) g = r.get<uint32_t>();
  for (auto& b : j.block) b = r.get<uint32_t>();
  j.dyn_shared = r.get<uint32_t>();
  uint32_t mode = r.get<uint32_t>();  // bit 0: reversed schedule; bit 1: counters
  check(mode <= 3, "job: mode");
  j.schedule = mode & 1;
  j.count = (mode & 2) != 0;
  j.budget = r.get<uint64_t>();
  j.printf_limit = r.get<uint32_t>();
  uint64_t threads = (uint64_t)j.block[0] * j.block[1] * j.block[2];
  check(threads >= 1 && threads <= 1024 && j.block[2] <= 64, "job: block");
  check(j.grid[0] >= 1 && j.grid[1] >= 1 && j.grid[2] >= 1 && j.grid[1] <= 65535 && j.grid[2] <= 65535, "job: grid");
  check(j.printf_limit <= (1u << 20), "job: printf limit");
  uint32_t nparams = r.get<uint32_t>();
  check(nparams <= 32768, "job: params");
  j.params = r.bytes(nparams);
  uint32_t nbuf = r.get<uint32_t>();
  check(nbuf <= (uint32_t)MODULE_GLOBALS_FIRST, "job: buffers");
  buffers.resize(REGIONS);
  for (uint32_t i = 0; i < nbuf; i++) {
    Buffer& b = buffers[i];
    b.name = r.cstr(200);
    b.elem = r.get<uint32_t>();
    b.readonly = false;
    uint64_t size = r.get<uint64_t>();
    check(b.elem >= 1 && b.elem <= 16 && size <= (1ull << 31), "job: buffer size");
    b.data = r.bytes(size);
    b.abi = true;
    b.present = true;
    j.abi_buffers.push_back((int)i);
  }
  check(r.p == data.size(), "job: trailing bytes");
  return j;
}

}  // namespace vm
