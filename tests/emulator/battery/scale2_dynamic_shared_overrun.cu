// Bad: dynamic shared memory is launched with 128 floats, but the kernel reads 256 of them.
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  extern __shared__ float tile[];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const int t = threadIdx.x;
  tile[t] = i < n ? x[i] : 0.0f;
  __syncthreads();
  const float past = tile[t + blockDim.x];  // beyond the launched 512 bytes
  if (i < n) out[i] = 2.0f * tile[t] + 0.0f * past;
}
