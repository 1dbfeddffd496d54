// Bad: two warps share `bar.sync 1, 32`, a thread count of one warp: each warp completes the barrier
// alone, so thread 0 reads partial[32..63] unordered with the other warp's writes (a shared race).
extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  __shared__ float partial[64];
  const float* row = x + (size_t)blockIdx.x * cols;
  const int t = threadIdx.x;
  float v = 0.0f;
  for (int c = t; c < cols; c += blockDim.x) v += row[c];
  partial[t] = v;
  asm volatile("bar.sync 1, 32;" ::: "memory");
  if (t == 0) {
    float sum = 0.0f;
    for (int k = 0; k < 64; ++k) sum += partial[k];
    out[blockIdx.x] = sum;
  }
}
