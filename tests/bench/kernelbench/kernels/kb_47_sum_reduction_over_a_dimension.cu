// out[b, 0, j] = sum over i of x[b, i, j]: one thread per (b, j).
extern "C" __global__ void kb_47_sum_reduction_over_a_dimension(const float* x, float* out, int batch_size, int dim1,
                                                                int dim2) {
  long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= (long long)batch_size * dim2) return;
  long long b = t / dim2, j = t % dim2;
  float sum = 0.f;
  for (int i = 0; i < dim1; ++i) sum += x[(b * dim1 + i) * dim2 + j];
  out[t] = sum;
}
