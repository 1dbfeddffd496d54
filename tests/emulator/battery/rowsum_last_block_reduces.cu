// Good: the "last block reduces" pattern (CUDA sample threadFenceReduction): 4 blocks per row each
// publish a partial, __threadfence(), then take a ticket with atomicInc; the block that draws the last
// ticket sums the partials. atomicInc wraps the counter back to 0 for the next launch.
__device__ float row_partials[64 * 4];
__device__ unsigned int row_tickets[64];

extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  __shared__ float partial[256];
  __shared__ bool is_last;
  const int r = blockIdx.y, chunk = blockIdx.x, chunks = gridDim.x;
  const float* row = x + (size_t)r * cols;
  float v = 0.0f;
  for (int c = chunk * blockDim.x + threadIdx.x; c < cols; c += chunks * blockDim.x) v += row[c];
  partial[threadIdx.x] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    row_partials[r * chunks + chunk] = partial[0];
    __threadfence();
    const unsigned int ticket = atomicInc(&row_tickets[r], chunks - 1);
    is_last = ticket == chunks - 1;
  }
  __syncthreads();
  if (is_last && threadIdx.x == 0) {
    float sum = 0.0f;
    for (int k = 0; k < chunks; ++k) sum += ((volatile float*)row_partials)[r * chunks + k];
    out[r] = sum;
  }
}
