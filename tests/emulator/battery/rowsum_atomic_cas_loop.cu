// Good: a float add built from atomicCAS exactly as the CUDA Programming Guide writes it; its seed
// read of *address races only with atomics and the CAS loop retries, so it is no race.
__device__ float atomic_add_cas(float* address, float val) {
  unsigned int* address_as_u = reinterpret_cast<unsigned int*>(address);
  unsigned int old = *address_as_u, assumed;
  do {
    assumed = old;
    old = atomicCAS(address_as_u, assumed, __float_as_uint(val + __uint_as_float(assumed)));
  } while (assumed != old);
  return __uint_as_float(old);
}

extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  if (threadIdx.x == 0) out[blockIdx.x] = 0.0f;
  __syncthreads();
  const float* row = x + (size_t)blockIdx.x * cols;
  float v = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) v += row[c];
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  if ((threadIdx.x & 31) == 0) atomic_add_cas(&out[blockIdx.x], v);
}
