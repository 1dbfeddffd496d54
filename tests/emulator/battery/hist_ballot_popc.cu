// Good: warp votes: for each bin, __ballot_sync over the warp's 32 elements and __popc count them;
// lane 0 adds the count. Every lane runs the same number of rounds (idle lanes vote with bin -1).
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
      const unsigned votes = __ballot_sync(0xffffffffu, mine == b);
      if (lane == 0 && votes) atomicAdd(&counts[b], __popc(votes));
    }
  }
  __syncthreads();
  for (int b = threadIdx.x; b < bins; b += blockDim.x) hist[b] = counts[b];
}
