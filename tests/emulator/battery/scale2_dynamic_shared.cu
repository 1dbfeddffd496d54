// Good: extern __shared__ (dynamic shared memory, launched with 128 floats), staged then read
// mirrored after a barrier.
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  extern __shared__ float tile[];
  const int base = blockIdx.x * blockDim.x;
  const int t = threadIdx.x;
  tile[t] = base + t < n ? x[base + t] : 0.0f;
  __syncthreads();
  const int mirror = blockDim.x - 1 - t;
  if (base + mirror < n) out[base + mirror] = 2.0f * tile[mirror];
}
