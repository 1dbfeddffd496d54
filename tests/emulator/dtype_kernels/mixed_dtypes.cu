extern "C" __global__ void mixed_dtypes(const double* x, const signed char* q, const unsigned char* m,
                                        const bool* b, double* y, long long* idx, bool* flag, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  y[i] = x[i] * q[i] + m[i];
  idx[i] = (long long)i * (1LL << 33) + (long long)q[i] * m[i];
  flag[i] = b[i] && x[i] > 0.0;
}
