// Bad: the shared histogram is copied out with no barrier after the atomics: a plain read of a bin
// races with other warps' atomicAdds to it, so a count may be read before it is complete.
extern "C" __global__ void histogram(const int* x, int* hist, int n, int bins) {
  __shared__ int counts[256];
  for (int b = threadIdx.x; b < bins; b += blockDim.x) counts[b] = 0;
  __syncthreads();
  for (int i = threadIdx.x; i < n; i += blockDim.x) atomicAdd(&counts[x[i]], 1);
  for (int b = threadIdx.x; b < bins; b += blockDim.x) hist[b] = counts[b];
}
