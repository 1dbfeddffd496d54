// Good: warp-aggregated atomics in the divergent tail branch: __match_any_sync(__activemask(), bin)
// groups the active lanes by bin, and the lowest lane of each group adds the group's size.
extern "C" __global__ void histogram(const int* x, int* hist, int n, int bins) {
  __shared__ int counts[256];
  for (int b = threadIdx.x; b < bins; b += blockDim.x) counts[b] = 0;
  __syncthreads();
  const int lane = threadIdx.x & 31;
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    const int bin = x[i];
    const unsigned peers = __match_any_sync(__activemask(), bin);
    if (lane == __ffs(peers) - 1) atomicAdd(&counts[bin], __popc(peers));
  }
  __syncthreads();
  for (int b = threadIdx.x; b < bins; b += blockDim.x) hist[b] = counts[b];
}
