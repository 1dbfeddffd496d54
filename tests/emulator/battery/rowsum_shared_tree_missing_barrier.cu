// Bad: the tree reduction has no barrier between its steps: thread 0 reads partial[64] at step 64
// while thread 64 may still be adding into it from step 128 (a shared-memory race).
extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  __shared__ float partial[256];
  const float* row = x + (size_t)blockIdx.x * cols;
  float sum = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) sum += row[c];
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
  }
  __syncthreads();
  if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
}
