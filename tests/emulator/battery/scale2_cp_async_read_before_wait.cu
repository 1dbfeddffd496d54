// Bad: reads the cp.async destination before cp.async.wait_group: the bytes may still be in flight.
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  __shared__ float tile[128];
  const int i = blockIdx.x * 128 + threadIdx.x;
  if (i < n) {
    const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(&tile[threadIdx.x]));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" ::"r"(dst), "l"(x + i) : "memory");
    asm volatile("cp.async.commit_group;" ::: "memory");
    const float early = tile[threadIdx.x];  // too soon: the copy has not been waited for
    asm volatile("cp.async.wait_group 0;" ::: "memory");
    out[i] = 2.0f * early;
  }
}
