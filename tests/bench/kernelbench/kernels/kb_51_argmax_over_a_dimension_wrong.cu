// Wrong: the index of the smallest value (argmin).
extern "C" __global__ void kb_51_argmax_over_a_dimension(const float* x, long long* out, int batch_size, int dim1,
                                                         int dim2) {
  long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= (long long)batch_size * dim2) return;
  long long b = t / dim2, j = t % dim2;
  int best = 0;
  float top = x[b * dim1 * dim2 + j];
  for (int i = 1; i < dim1; ++i) {
    float v = x[(b * dim1 + i) * dim2 + j];
    if (v < top) { top = v; best = i; }
  }
  out[t] = best;
}
