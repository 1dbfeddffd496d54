// out = x / sqrt(mean over features of x^2 + eps): one thread per (b, i, j) position.
extern "C" __global__ void kb_36_rmsnorm(const float* x, float* out, int batch_size, int features, int dim1, int dim2) {
  long long plane = (long long)dim1 * dim2;
  long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= batch_size * plane) return;
  long long b = t / plane, p = t % plane;
  const float* base = x + b * features * plane + p;
  float sum = 0.f;
  for (int f = 0; f < features; ++f) sum += base[f * plane] * base[f * plane];
  float inv = rsqrtf(sum / features + 1e-5f);
  for (int f = 0; f < features; ++f) out[b * features * plane + f * plane + p] = base[f * plane] * inv;
}
