// Good kernel, plus a host-only constructor that runs at program start wherever this source is built
// natively: it would create /tmp/kernel-skills-battery-constructor-ran. NVRTC refuses host functions in
// JIT mode, so it sits behind `#ifndef __CUDACC_RTC__` (not behind `#ifdef __CUDACC__`, which a CUDA
// host build defines too): NVRTC never sees it, and nothing may ever run it.
#ifndef __CUDACC_RTC__
extern "C" int creat(const char* path, unsigned int mode);

__attribute__((constructor)) static void battery_leave_a_marker() {
  creat("/tmp/kernel-skills-battery-constructor-ran", 0644);
}
#endif

extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 2.0f * x[i];
}
