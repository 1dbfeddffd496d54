// Bad: the loop's counter never reaches its bound (it is reset every iteration): the kernel never ends.
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  volatile int step = 0;
  for (int k = 0; k < n + 1; k += step) step = 0;
  if (i < n) out[i] = 2.0f * x[i];
}
