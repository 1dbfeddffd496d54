// Bad: the grid-stride loop steps twice the grid, so every other grid-sized chunk is never written.
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int stride = 2 * blockDim.x * gridDim.x;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) out[i] = 2.0f * x[i];
}
