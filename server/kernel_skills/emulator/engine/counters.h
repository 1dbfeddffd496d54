// Memory-efficiency counters of one launch, computed only when the job asks (Job::count): global
// requests and their 32-byte sectors, shared-memory wavefronts and bank conflicts, instructions by
// class, per buffer and per source line. The machine reports each access of the instruction it runs
// (global, shared) and flushes once the instruction is done; one instruction of one warp is one request.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vm.h"

namespace vm {

struct MemStat {
  uint64_t requests = 0, sectors = 0, bytes = 0, ideal = 0;  // ideal: ceil(bytes of the request / 32)
};

struct SharedStat {
  uint64_t requests = 0, wavefronts = 0, ideal = 0;
};

struct LineStat {
  MemStat load, store;
  SharedStat shared;
};

class Counters {
 public:
  explicit Counters(const std::vector<Buffer>& buffers);
  void insn(const Insn& in);  // every warp-level issue
  void global(uint64_t region, uint64_t off, uint32_t size, bool write, bool atomic);
  void shared(int lane, uint64_t off, uint32_t size, bool atomic);
  bool pending() const { return !g_.empty() || !s_.empty(); }
  void flush(const Insn& in);
  void discard() { g_.clear(); s_.clear(); }  // accesses that are no request (printf reading its format)
  std::string json() const;

 private:
  struct G { uint64_t region, off; uint32_t size; bool write; };
  struct S { int lane; uint64_t off; uint32_t size; };
  const std::vector<Buffer>& B;
  std::vector<G> g_;
  std::vector<S> s_;
  MemStat load_, store_;
  SharedStat shared_;
  uint64_t cls_[9] = {0};  // total, fp32, int, bf16_f16, special, memory, control, sync, tensor
  std::vector<uint64_t> load_sectors_, store_sectors_, load_bytes_, store_bytes_;
  std::vector<std::vector<bool>> touched_;  // per buffer, per sector
  std::map<int, LineStat> lines_;
  std::vector<uint64_t> scratch_;
};

}  // namespace vm
