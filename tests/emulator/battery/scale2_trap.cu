// Bad: the last element's thread calls __trap(), an unrecoverable device exception.
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 2.0f * x[i];
  if (i == n - 1) __trap();
}
