// Wrong: the last element is never written (an off-by-one bound)
extern "C" __global__ void kb_19_relu(const float* x, float* out, int batch_size, int dim) {
  long long n = (long long)batch_size * dim;
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n - 1) return;
  float v = x[i];
  out[i] = fmaxf(v, 0.f);
}
