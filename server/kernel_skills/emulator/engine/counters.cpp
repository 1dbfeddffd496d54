// See counters.h. Sectors: distinct 32-byte sectors a request's active lanes touch. Shared memory:
// 32 banks of 4 bytes; a request's lanes are served in phases of 128 bytes (32 lanes of 4 bytes, 16 of
// 8, 8 of 16); a phase takes as many wavefronts as the most distinct words one bank holds (the same
// word twice is a broadcast, free); the ideal is ceil(distinct words / 32); conflicts are the excess.
#include "counters.h"

#include <algorithm>

namespace vm {

Counters::Counters(const std::vector<Buffer>& buffers)
    : B(buffers),
      load_sectors_(buffers.size(), 0),
      store_sectors_(buffers.size(), 0),
      load_bytes_(buffers.size(), 0),
      store_bytes_(buffers.size(), 0),
      touched_(buffers.size()) {}

static int insn_class(const Insn& in) {
  enum { FP32 = 1, INT, HALF, SPECIAL, MEMORY, CONTROL, SYNC, TENSOR };
  if ((in.op == OP_LD || in.op == OP_ST) && in.space == SP_PARAM) return INT;  // operands in SASS, not loads
  switch (in.op) {
    case OP_LD: case OP_LDU: case OP_ST: case OP_ATOM: case OP_RED: case OP_LDMATRIX: case OP_STMATRIX:
    case OP_PREFETCH: case OP_PREFETCHU:
      return MEMORY;
    case OP_CP:
      return (in.sub == S_COMMIT_GROUP || in.sub == S_WAIT_GROUP || in.sub == S_WAIT_ALL) ? SYNC : MEMORY;
    case OP_MMA: return TENSOR;
    case OP_BRA: case OP_RET: case OP_EXIT: case OP_CALL: case OP_TRAP: return CONTROL;
    case OP_BAR: case OP_BARRIER: case OP_MEMBAR: case OP_FENCE: case OP_SHFL: case OP_VOTE: case OP_MATCH:
    case OP_REDUX: case OP_ACTIVEMASK: case OP_ELECT: case OP_NANOSLEEP:
      return SYNC;
    case OP_EX2: case OP_LG2: case OP_SIN: case OP_COS: case OP_TANH: case OP_RSQRT: return SPECIAL;
    case OP_RCP: case OP_SQRT:
      if (in.flags & F_APPROX) return SPECIAL;
      break;
    case OP_MOV: case OP_CVTA: return INT;
    default: break;
  }
  switch (in.t[0]) {
    case T_F16: case T_F16X2: case T_BF16: case T_BF16X2: return HALF;
    case T_F32: case T_F64: case T_TF32: return FP32;
    default: return INT;
  }
}

void Counters::insn(const Insn& in) {
  cls_[0]++;
  cls_[insn_class(in)]++;
}

void Counters::global(uint64_t region, uint64_t off, uint32_t size, bool write, bool atomic) {
  if (atomic || size == 0) return;  // atomics are neither loads nor stores here
  g_.push_back({region, off, size, write});
}

void Counters::shared(int lane, uint64_t off, uint32_t size, bool atomic) {
  if (atomic || size == 0) return;
  s_.push_back({lane, off, size});
}

void Counters::flush(const Insn& in) {
  LineStat& line = lines_[in.line];
  for (int write = 0; write < 2; write++) {
    scratch_.clear();
    uint64_t bytes = 0;
    for (const G& a : g_) {
      if (a.write != (write == 1)) continue;
      bytes += a.size;
      (write ? store_bytes_ : load_bytes_)[a.region] += a.size;
      auto& t = touched_[a.region];
      if (t.empty()) t.assign(B[a.region].data.size() / 32 + 2, false);
      for (uint64_t s = a.off >> 5; s <= (a.off + a.size - 1) >> 5; s++) {
        scratch_.push_back((a.region << 40) | s);
        t[s] = true;
      }
    }
    if (bytes == 0) continue;
    std::sort(scratch_.begin(), scratch_.end());
    scratch_.erase(std::unique(scratch_.begin(), scratch_.end()), scratch_.end());
    for (uint64_t s : scratch_) (write ? store_sectors_ : load_sectors_)[s >> 40]++;
    for (MemStat* m : {write ? &store_ : &load_, write ? &line.store : &line.load}) {
      m->requests++;
      m->sectors += scratch_.size();
      m->bytes += bytes;
      m->ideal += (bytes + 31) / 32;
    }
  }
  g_.clear();
  if (!s_.empty()) {
    uint32_t width = 0;
    for (const S& a : s_) width = std::max(width, a.size);
    int per_phase = width <= 4 ? 32 : std::max<int>(1, 128 / (int)width);
    uint64_t wavefronts = 0;
    scratch_.clear();
    for (int p = 0; p * per_phase < 32; p++) {
      std::vector<uint64_t> words;
      for (const S& a : s_) {
        if (a.lane / per_phase != p) continue;
        for (uint64_t wd = a.off >> 2; wd <= (a.off + a.size - 1) >> 2; wd++) words.push_back(wd);
      }
      if (words.empty()) continue;
      std::sort(words.begin(), words.end());
      words.erase(std::unique(words.begin(), words.end()), words.end());
      uint32_t per_bank[32] = {0};
      uint32_t most = 0;
      for (uint64_t wd : words) most = std::max(most, ++per_bank[wd % 32]);
      wavefronts += most;
      scratch_.insert(scratch_.end(), words.begin(), words.end());
    }
    std::sort(scratch_.begin(), scratch_.end());
    uint64_t distinct = (uint64_t)(std::unique(scratch_.begin(), scratch_.end()) - scratch_.begin());
    uint64_t ideal = std::max<uint64_t>(1, (distinct + 31) / 32);
    wavefronts = std::max(wavefronts, ideal);
    for (SharedStat* s : {&shared_, &line.shared}) {
      s->requests++;
      s->wavefronts += wavefronts;
      s->ideal += ideal;
    }
    s_.clear();
  }
}

static std::string mem_json(const MemStat& m) {
  return "{\"requests\":" + std::to_string(m.requests) + ",\"sectors\":" + std::to_string(m.sectors) +
         ",\"bytes_requested\":" + std::to_string(m.bytes) + ",\"ideal_sectors\":" + std::to_string(m.ideal) + "}";
}

static std::string shared_json(const SharedStat& s) {
  return "{\"requests\":" + std::to_string(s.requests) + ",\"wavefronts\":" + std::to_string(s.wavefronts) +
         ",\"ideal_wavefronts\":" + std::to_string(s.ideal) + "}";
}

std::string json_escape(const std::string& s);

std::string Counters::json() const {
  static const char* names[9] = {"total", "fp32", "int", "bf16_f16", "special", "memory", "control", "sync", "tensor"};
  std::string o = "{\"global_load\":" + mem_json(load_) + ",\"global_store\":" + mem_json(store_) +
                  ",\"shared\":" + shared_json(shared_) + ",\"instructions\":{";
  for (int k = 0; k < 9; k++) o += std::string(k ? "," : "") + "\"" + names[k] + "\":" + std::to_string(cls_[k]);
  o += "},\"buffers\":[";
  bool first = true;
  for (size_t r = 0; r < B.size(); r++) {
    if (touched_[r].empty()) continue;
    uint64_t unique = (uint64_t)std::count(touched_[r].begin(), touched_[r].end(), true);
    o += std::string(first ? "" : ",") + "{\"name\":\"" + json_escape(B[r].name) +
         "\",\"load_sectors\":" + std::to_string(load_sectors_[r]) +
         ",\"store_sectors\":" + std::to_string(store_sectors_[r]) + ",\"load_bytes\":" + std::to_string(load_bytes_[r]) +
         ",\"store_bytes\":" + std::to_string(store_bytes_[r]) + ",\"unique_sectors\":" + std::to_string(unique) + "}";
    first = false;
  }
  o += "],\"lines\":[";
  first = true;
  for (const auto& [line, s] : lines_) {
    if (!s.load.requests && !s.store.requests && !s.shared.requests) continue;
    o += std::string(first ? "" : ",") + "{\"line\":" + std::to_string(line) + ",\"load\":" + mem_json(s.load) +
         ",\"store\":" + mem_json(s.store) + ",\"shared\":" + shared_json(s.shared) + "}";
    first = false;
  }
  return o + "]}";
}

}  // namespace vm
