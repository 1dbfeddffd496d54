// Bad: threads past the row's end return before the __syncthreads() the others wait at
// (barrier divergence: exited threads while others wait, undefined behaviour). Thread 0 reads only
// slots that threads still running wrote.
extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  __shared__ float partial[256];
  if (threadIdx.x >= cols) return;
  const float* row = x + (size_t)blockIdx.x * cols;
  float v = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) v += row[c];
  partial[threadIdx.x] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    float sum = 0.0f;
    for (int k = 0; k < min(cols, (int)blockDim.x); ++k) sum += partial[k];
    out[blockIdx.x] = sum;
  }
}
