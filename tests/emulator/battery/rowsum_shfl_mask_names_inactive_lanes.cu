// Bad: inside `if (lane < 16)` the shuffle's mask is 0xffffffff, naming lanes 16..31 that do not
// execute it: undefined behaviour (warp-collective misuse).
extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  __shared__ float warp_sums[8];
  const float* row = x + (size_t)blockIdx.x * cols;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  float v = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) v += row[c];
  v += __shfl_down_sync(0xffffffffu, v, 16);
  if (lane < 16) {
    for (int offset = 8; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  }
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    float sum = 0.0f;
    for (int w = 0; w < 8; ++w) sum += warp_sums[w];
    out[blockIdx.x] = sum;
  }
}
