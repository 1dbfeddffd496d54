// Dynamic shared memory sized at launch: above 48 KB the launch needs the opt-in attribute.
extern "C" __global__ void reverse_tile(const float* __restrict__ in, float* __restrict__ out) {
  extern __shared__ float tile[];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  tile[threadIdx.x] = in[i];
  __syncthreads();
  out[i] = tile[blockDim.x - 1 - threadIdx.x];
}
