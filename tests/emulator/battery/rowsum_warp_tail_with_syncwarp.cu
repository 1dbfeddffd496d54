// Good: the last 64 partials are folded by the first warp through shared memory, with __syncwarp()
// between steps: __syncwarp orders the warp's shared accesses (no volatile tricks needed).
extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  __shared__ float partial[256];
  const float* row = x + (size_t)blockIdx.x * cols;
  const int t = threadIdx.x;
  float v = 0.0f;
  for (int c = t; c < cols; c += blockDim.x) v += row[c];
  partial[t] = v;
  __syncthreads();
  for (int s = 128; s > 32; s >>= 1) {
    if (t < s) partial[t] += partial[t + s];
    __syncthreads();
  }
  if (t < 32) {
    for (int s = 32; s > 0; s >>= 1) {
      const float folded = partial[t] + partial[t + s];
      __syncwarp();  // every lane has read before any lane writes
      partial[t] = folded;
      __syncwarp();  // every lane has written before the next step reads
    }
    if (t == 0) out[blockIdx.x] = partial[0];
  }
}
