// Good: __shfl_xor_sync butterfly: every lane ends with its warp's sum; lane 0 of each warp adds
// it to the row with a shared atomicAdd after a barrier-ordered zero.
extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  __shared__ float total;
  if (threadIdx.x == 0) total = 0.0f;
  __syncthreads();
  const float* row = x + (size_t)blockIdx.x * cols;
  float v = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) v += row[c];
  for (int mask = 16; mask > 0; mask >>= 1) v += __shfl_xor_sync(0xffffffffu, v, mask);
  if ((threadIdx.x & 31) == 0) atomicAdd(&total, v);
  __syncthreads();
  if (threadIdx.x == 0) out[blockIdx.x] = total;
}
