// One thread per row: the first index of the row's largest value (torch.argmax's tie rule).
extern "C" __global__ void argmax_rows(const float* x, long long* out, int rows, int cols) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const float* row = x + (long long)r * cols;
  int best = 0;
  for (int c = 1; c < cols; ++c)
    if (row[c] > row[best]) best = c;
  out[r] = best;
}
