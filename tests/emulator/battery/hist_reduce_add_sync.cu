// Good: __reduce_add_sync (sm_80+ redux.sync) counts, per bin, the warp's elements in that bin.
extern "C" __global__ void histogram(const int* x, int* hist, int n, int bins) {
  __shared__ int counts[256];
  for (int b = threadIdx.x; b < bins; b += blockDim.x) counts[b] = 0;
  __syncthreads();
  const int lane = threadIdx.x & 31;
  const int rounds = (n + blockDim.x - 1) / blockDim.x;
  for (int k = 0; k < rounds; ++k) {
    const int i = k * blockDim.x + threadIdx.x;
    const int mine = i < n ? x[i] : -1;
    for (int b = 0; b < bins; ++b) {
      const unsigned count = __reduce_add_sync(0xffffffffu, mine == b ? 1u : 0u);
      if (lane == 0 && count) atomicAdd(&counts[b], (int)count);
    }
  }
  __syncthreads();
  for (int b = threadIdx.x; b < bins; b += blockDim.x) hist[b] = counts[b];
}
