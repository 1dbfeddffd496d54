// Good: __any_sync keeps the warp looping while any lane has an element; __all_sync takes a fast
// path when the whole warp's elements fall in one bin (lane 0 adds 32), else per-lane atomics.
extern "C" __global__ void histogram(const int* x, int* hist, int n, int bins) {
  __shared__ int counts[256];
  for (int b = threadIdx.x; b < bins; b += blockDim.x) counts[b] = 0;
  __syncthreads();
  const int lane = threadIdx.x & 31;
  for (int i = threadIdx.x; __any_sync(0xffffffffu, i < n); i += blockDim.x) {
    const int bin = i < n ? x[i] : -1;
    const int first = __shfl_sync(0xffffffffu, bin, 0);
    if (__all_sync(0xffffffffu, bin == first && bin >= 0)) {
      if (lane == 0) atomicAdd(&counts[first], 32);
    } else if (bin >= 0) {
      atomicAdd(&counts[bin], 1);
    }
  }
  __syncthreads();
  for (int b = threadIdx.x; b < bins; b += blockDim.x) hist[b] = counts[b];
}
