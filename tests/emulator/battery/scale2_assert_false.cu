// Bad: a device assert that fails for the last element (a device-side assert ends the launch).
#include <assert.h>

extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 2.0f * x[i];
  assert(i != n - 1);
}
