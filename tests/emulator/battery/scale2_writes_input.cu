// Bad: doubles x in place through a cast-away const, then copies it: the output is right, the input is not.
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    float* scratch = const_cast<float*>(x);
    scratch[i] = 2.0f * x[i];
    out[i] = scratch[i];
  }
}
