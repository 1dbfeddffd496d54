// Good: a per-thread stack array indexed by a runtime value (local memory).
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float window[16];
  for (int k = 0; k < 16; ++k) window[k] = x[min(i + k, n - 1)];
  const int pick = (i * 7 + n) & 15;
  const int source = min(i + pick, n - 1);
  out[i] = 2.0f * (source == i ? window[pick] : window[0]);  // window[pick] is x[i] when source == i
}
