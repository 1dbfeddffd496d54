// 64 live accumulators per thread: fine at the default register budget, spills under -maxrregcount=32.
extern "C" __global__ void pressure(const float* __restrict__ in, float* __restrict__ out, int n) {
  float acc[64];
#pragma unroll
  for (int j = 0; j < 64; ++j) acc[j] = in[threadIdx.x + j * n];
#pragma unroll
  for (int r = 0; r < 4; ++r) {
#pragma unroll
    for (int j = 0; j < 64; ++j) acc[j] = acc[j] * acc[(j + r + 1) & 63] + 1.0f;
  }
  float s = 0.0f;
#pragma unroll
  for (int j = 0; j < 64; ++j) s += acc[j] * (j + 1);
  out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}
