// Good: thread 0 zeroes out[row], a barrier orders that, then every thread atomicAdds its partial
// to global memory. The summation order varies run to run, within the problem's tolerance.
extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  if (threadIdx.x == 0) out[blockIdx.x] = 0.0f;
  __syncthreads();
  const float* row = x + (size_t)blockIdx.x * cols;
  float v = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) v += row[c];
  atomicAdd(&out[blockIdx.x], v);
}
