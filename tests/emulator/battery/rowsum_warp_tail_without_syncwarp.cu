// Bad: the legacy warp-synchronous tail with no __syncwarp(): lanes of one warp read partials other
// lanes write in the same steps. Since Volta a warp's lanes are not guaranteed to run in lockstep,
// so these are races on shared memory.
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
    volatile float* p = partial;
    p[t] += p[t + 32];
    p[t] += p[t + 16];
    p[t] += p[t + 8];
    p[t] += p[t + 4];
    p[t] += p[t + 2];
    p[t] += p[t + 1];
    if (t == 0) out[blockIdx.x] = p[0];
  }
}
