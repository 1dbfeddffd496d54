extern "C" __global__ void kb_88_mingptnewgelu(const float* x, float* out, int batch_size, int dim) {
  long long n = (long long)batch_size * dim;
  long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float v = x[i];
  out[i] = 0.5f * v * (1.f + tanhf(0.7978845608f * (v + 0.044715f * v * v * v)));
}
