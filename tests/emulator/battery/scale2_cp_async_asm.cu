// Good: inline PTX cp.async.ca.shared.global (4 bytes per thread), cp.async.commit_group,
// cp.async.wait_group 0, then a barrier before reading another thread's staged element.
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  __shared__ float tile[128];
  const int base = blockIdx.x * 128;
  const int t = threadIdx.x;
  if (base + t < n) {
    const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(&tile[t]));
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" ::"r"(dst), "l"(x + base + t) : "memory");
  }
  asm volatile("cp.async.commit_group;" ::: "memory");
  asm volatile("cp.async.wait_group 0;" ::: "memory");
  __syncthreads();
  const int mirror = 127 - t;
  if (base + mirror < n) out[base + mirror] = 2.0f * tile[mirror];
}
