// Bad: the shared histogram is zeroed and incremented with no barrier between: another warp's
// atomicAdd can land before (and be wiped by) the zeroing store (a race).
extern "C" __global__ void histogram(const int* x, int* hist, int n, int bins) {
  __shared__ int counts[256];
  for (int b = threadIdx.x; b < bins; b += blockDim.x) counts[b] = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) atomicAdd(&counts[x[i]], 1);
  __syncthreads();
  for (int b = threadIdx.x; b < bins; b += blockDim.x) hist[b] = counts[b];
}
