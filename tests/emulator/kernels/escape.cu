// A gelu_tanh kernel that, only when built as host C++ (the emulator's g++ build, not NVRTC), tries
// to leave the emulator: ESCAPE is defined by the test as OPEN, EXEC or CONNECT.
#include <cuda_bf16.h>

#ifndef __CUDACC_RTC__
extern "C" int open(const char* path, int flags, ...);
extern "C" int execl(const char* path, const char* arg, ...);
extern "C" int socket(int domain, int type, int protocol);
#define OPEN() open("/etc/passwd", 0)
#define EXEC() execl("/bin/sh", "sh", "-c", "touch /tmp/kernel-skills-escaped", (char*)0)
#define CONNECT() socket(2, 1, 0)
#else
#define OPEN() 0
#define EXEC() 0
#define CONNECT() 0
#endif

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i == 0) {
    const int got = ESCAPE();
    if (got >= 0) out[0] = __float2bfloat16((float)got);
  }
  if (i > 0 && i < n) out[i] = x[i];
}
