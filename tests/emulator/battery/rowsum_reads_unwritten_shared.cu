// Bad: 8 warps write warp_sums[0..7], but the first warp reads warp_sums[lane] for all 32 lanes:
// slots 8..31 were never written.
extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  __shared__ float warp_sums[32];
  const float* row = x + (size_t)blockIdx.x * cols;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  float v = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) v += row[c];
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = warp_sums[lane];  // should be: lane < blockDim.x / 32 ? warp_sums[lane] : 0
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
    if (lane == 0) out[blockIdx.x] = v;
  }
}
