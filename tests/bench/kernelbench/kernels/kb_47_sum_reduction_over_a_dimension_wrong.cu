// Wrong: sums over the last dim (dim2) instead of dim1.
extern "C" __global__ void kb_47_sum_reduction_over_a_dimension(const float* x, float* out, int batch_size, int dim1,
                                                                int dim2) {
  long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= (long long)batch_size * dim2) return;
  long long b = t / dim2, j = t % dim2;
  float sum = 0.f;
  for (int i = 0; i < dim2; ++i) sum += x[(b * dim1 + j % dim1) * dim2 + i];
  out[t] = sum;
}
