// Wrong: reads the int8 input as unsigned (negative q become 128..255).
extern "C" __global__ void mixed_dtypes(const double* x, const signed char* q, const unsigned char* m,
                                        const bool* b, double* y, long long* idx, bool* flag, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  unsigned char uq = (unsigned char)q[i];
  y[i] = x[i] * uq + m[i];
  idx[i] = (long long)i * (1LL << 33) + (long long)uq * m[i];
  flag[i] = b[i] && x[i] > 0.0;
}
