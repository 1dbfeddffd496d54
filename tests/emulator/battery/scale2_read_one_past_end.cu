// Bad: every thread also reads its right neighbour; the last thread reads x[n], one past the end.
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    const float right = x[i + 1];
    out[i] = 2.0f * x[i] + 0.0f * right;  // 0 * right is not folded: the load stays
  }
}
