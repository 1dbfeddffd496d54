// Good: cooperative groups: tiled_partition<32> and cg::reduce per warp, then the block's warps.
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>

namespace cg = cooperative_groups;

extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  __shared__ float warp_sums[8];
  cg::thread_block block = cg::this_thread_block();
  cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
  const float* row = x + (size_t)blockIdx.x * cols;
  float v = 0.0f;
  for (int c = block.thread_rank(); c < cols; c += block.size()) v += row[c];
  v = cg::reduce(warp, v, cg::plus<float>());
  if (warp.thread_rank() == 0) warp_sums[warp.meta_group_rank()] = v;
  block.sync();
  if (block.thread_rank() == 0) {
    float sum = 0.0f;
    for (unsigned w = 0; w < warp.meta_group_size(); ++w) sum += warp_sums[w];
    out[blockIdx.x] = sum;
  }
}
