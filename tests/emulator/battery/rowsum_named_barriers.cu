// Good: named barriers through inline PTX: warps 0-1 meet at `bar.sync 1, 64`, warps 2-3 at
// `bar.sync 2, 64`; each pair sums its half, then a block barrier joins the halves (block of 128).
extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  __shared__ float partial[128];
  __shared__ float halves[2];
  const float* row = x + (size_t)blockIdx.x * cols;
  const int t = threadIdx.x, pair = t / 64;
  float v = 0.0f;
  for (int c = t; c < cols; c += blockDim.x) v += row[c];
  partial[t] = v;
  if (pair == 0) {
    asm volatile("bar.sync 1, 64;" ::: "memory");
  } else {
    asm volatile("bar.sync 2, 64;" ::: "memory");
  }
  if (t % 64 == 0) {
    float sum = 0.0f;
    for (int k = 0; k < 64; ++k) sum += partial[t + k];
    halves[pair] = sum;
  }
  __syncthreads();
  if (t == 0) out[blockIdx.x] = halves[0] + halves[1];
}
