// Bad: counts[x[i]]++ without an atomic: threads incrementing the same bin race and lose updates.
extern "C" __global__ void histogram(const int* x, int* hist, int n, int bins) {
  __shared__ int counts[256];
  for (int b = threadIdx.x; b < bins; b += blockDim.x) counts[b] = 0;
  __syncthreads();
  for (int i = threadIdx.x; i < n; i += blockDim.x) counts[x[i]]++;
  __syncthreads();
  for (int b = threadIdx.x; b < bins; b += blockDim.x) hist[b] = counts[b];
}
