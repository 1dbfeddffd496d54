// Bad: __syncthreads() inside `if (threadIdx.x < 128)`: only half the block reaches the barrier
// (barrier divergence, undefined behaviour).
extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  __shared__ float partial[256];
  const float* row = x + (size_t)blockIdx.x * cols;
  float v = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) v += row[c];
  partial[threadIdx.x] = v;
  if (threadIdx.x < 128) {
    __syncthreads();
    if (threadIdx.x == 0) {
      float sum = 0.0f;
      for (int k = 0; k < 256; ++k) sum += partial[k];
      out[blockIdx.x] = sum;
    }
  }
}
