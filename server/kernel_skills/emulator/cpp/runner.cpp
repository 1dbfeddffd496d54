// Runs one kernel launch under the SIMT emulator (simt.h). Built once per kernel by
// tests/kernels/simt_runner.py with -DSIMT_SOURCE="path/to/kernel.cu" -DSIMT_KERNEL=name.
//
//   runner JOB_IN JOB_OUT
// JOB_IN (little-endian): "SIMT1", grid[3] u32, block[3] u32, dynamic shared bytes u32, nargs u32,
//   then per argument a kind byte: 0 pointer (u64 byte count, then the bytes), 1 int32, 2 float32.
// JOB_OUT: every pointer argument's bytes after the launch, in order (inputs too, so a test can
// see a kernel that writes its inputs). Exit status 0 on success; any fault aborts with a
// message on stderr (AddressSanitizer reports out-of-bounds accesses: each buffer has its exact
// size).
#include "simt.h"

#include SIMT_SOURCE

#include <fstream>
#include <iterator>
#include <string>

namespace simt {

struct Job {
  dim3 grid, block;
  unsigned int shared_bytes = 0;
  std::vector<unsigned char> kinds;
  std::vector<void*> buffers;  // per argument: the buffer (pointers) or the 4 value bytes (scalars)
  std::vector<unsigned long long> sizes;
};

class Reader {
 public:
  explicit Reader(std::vector<unsigned char> bytes) : bytes_(std::move(bytes)) {}
  void take(void* out, size_t n) {
    if (pos_ + n > bytes_.size()) fail_job("job file is truncated");
    std::memcpy(out, bytes_.data() + pos_, n);
    pos_ += n;
  }
  template <class T>
  T get() {
    T v;
    take(&v, sizeof v);
    return v;
  }
  [[noreturn]] static void fail_job(const char* why) {
    std::fprintf(stderr, "simt runner: %s\n", why);
    std::exit(2);
  }

 private:
  std::vector<unsigned char> bytes_;
  size_t pos_ = 0;
};

inline Job read_job(const char* path) {
  std::ifstream in(path, std::ios::binary);
  Reader r(std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {}));
  char magic[5];
  r.take(magic, 5);
  if (std::memcmp(magic, "SIMT1", 5) != 0) Reader::fail_job("not a SIMT1 job file");
  Job job;
  job.grid = {r.get<unsigned int>(), r.get<unsigned int>(), r.get<unsigned int>()};
  job.block = {r.get<unsigned int>(), r.get<unsigned int>(), r.get<unsigned int>()};
  job.shared_bytes = r.get<unsigned int>();
  const unsigned int nargs = r.get<unsigned int>();
  for (unsigned int i = 0; i < nargs; ++i) {
    const auto kind = r.get<unsigned char>();
    job.kinds.push_back(kind);
    if (kind == 0) {
      const auto n = r.get<unsigned long long>();
      void* p = nullptr;
      if (posix_memalign(&p, 256, n ? n : 1) != 0) Reader::fail_job("out of memory");
      r.take(p, n);
      job.buffers.push_back(p);
      job.sizes.push_back(n);
    } else if (kind == 1 || kind == 2) {
      void* p = std::malloc(4);
      r.take(p, 4);
      job.buffers.push_back(p);
      job.sizes.push_back(4);
    } else {
      Reader::fail_job("unknown argument kind");
    }
  }
  if (job.shared_bytes != 0) Reader::fail_job("dynamic shared memory is not modelled");
  return job;
}

template <class P>
P bind_arg(const Job& job, size_t i) {
  const unsigned char kind = job.kinds[i];
  if constexpr (std::is_pointer_v<P>) {
    if (kind != 0) Reader::fail_job("the kernel takes a pointer where the job passes a scalar");
    return static_cast<P>(job.buffers[i]);
  } else if constexpr (std::is_same_v<P, int>) {
    if (kind != 1) Reader::fail_job("the kernel takes an int where the job passes something else");
    int v;
    std::memcpy(&v, job.buffers[i], 4);
    return v;
  } else if constexpr (std::is_same_v<P, float>) {
    if (kind != 2) Reader::fail_job("the kernel takes a float where the job passes something else");
    float v;
    std::memcpy(&v, job.buffers[i], 4);
    return v;
  } else {
    Reader::fail_job("the kernel has a parameter type other than pointer, int or float");
  }
}

template <class... P, size_t... I>
std::tuple<P...> bind_args(const Job& job, std::index_sequence<I...>) {
  return std::tuple<P...>(bind_arg<P>(job, I)...);
}

// Blocks run one after another; the threads of a block run concurrently.
template <class... P>
void launch(void (*kernel)(P...), const Job& job) {
  if (sizeof...(P) != job.kinds.size()) Reader::fail_job("the kernel's parameter count differs from the job's");
  const auto args = bind_args<P...>(job, std::index_sequence_for<P...>{});
  blockDim = job.block;
  gridDim = job.grid;
  const unsigned int threads = job.block.x * job.block.y * job.block.z;
  if (threads == 0 || threads > 1024) Reader::fail_job("block size must be 1..1024 threads");
  for (unsigned int bz = 0; bz < job.grid.z; ++bz) {
    for (unsigned int by = 0; by < job.grid.y; ++by) {
      for (unsigned int bx = 0; bx < job.grid.x; ++bx) {
        Block block(threads);
        std::vector<std::thread> pool;
        pool.reserve(threads);
        for (unsigned int id = 0; id < threads; ++id) {
          pool.emplace_back([&, id] {
            current_block = &block;
            linear_tid = id;
            blockIdx = {bx, by, bz};
            threadIdx = {id % job.block.x, (id / job.block.x) % job.block.y, id / (job.block.x * job.block.y)};
            std::apply(kernel, args);
            Warp& w = my_warp();
            w.exited.fetch_add(1);
            w.sync.arrive_and_drop();
            block.sync.arrive_and_drop();
          });
        }
        for (auto& t : pool) t.join();
      }
    }
  }
}

}  // namespace simt

int main(int argc, char** argv) {
  if (argc != 3) simt::Reader::fail_job("usage: runner JOB_IN JOB_OUT");
  const simt::Job job = simt::read_job(argv[1]);
  simt::launch(&SIMT_KERNEL, job);
  std::ofstream out(argv[2], std::ios::binary);
  for (size_t i = 0; i < job.kinds.size(); ++i) {
    if (job.kinds[i] == 0) out.write(static_cast<const char*>(job.buffers[i]), static_cast<std::streamsize>(job.sizes[i]));
  }
  for (void* p : job.buffers) std::free(p);
  return out.good() ? 0 : 2;
}
