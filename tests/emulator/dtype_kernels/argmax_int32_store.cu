// Wrong: writes the index as a 32-bit int into the int64 output (the upper half stays poisoned).
extern "C" __global__ void argmax_rows(const float* x, long long* out, int rows, int cols) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const float* row = x + (long long)r * cols;
  int best = 0;
  for (int c = 1; c < cols; ++c)
    if (row[c] > row[best]) best = c;
  reinterpret_cast<int*>(out)[2 * r] = best;
}
