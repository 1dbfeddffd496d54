// Good: inside the divergent tail branch, __activemask() is the shuffle mask and the first active
// lane broadcasts the warp's base index; each lane offsets from it. Whatever subset of lanes is
// converged, the source lane is in the mask, so the result is defined (cg::coalesced_threads() is
// built the same way).
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    const unsigned active = __activemask();
    const int leader = __ffs(active) - 1;
    const int lane = threadIdx.x & 31;
    const int base = __shfl_sync(active, i - lane, leader);
    out[base + lane] = 2.0f * x[base + lane];
  }
}
