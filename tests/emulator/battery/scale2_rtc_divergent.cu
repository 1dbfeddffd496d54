// Bad: under NVRTC (__CUDACC_RTC__, what the GPU runs) the kernel writes zeros; only a host compiler
// would see the right computation. It must be judged on the branch NVRTC compiled.
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
#ifdef __CUDACC_RTC__
  out[i] = 0.0f * x[i];
#else
  out[i] = 2.0f * x[i];
#endif
}
