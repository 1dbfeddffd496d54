// A correct gelu_tanh under NVRTC, with a host-only branch that, were this source ever built and run
// natively, would leave the emulator: ESCAPE is defined by the test as OPEN (create a marker file),
// EXEC (a shell that creates it) or CONNECT (a TCP connection to ESCAPE_PORT on 127.0.0.1). NVRTC
// defines __CUDACC_RTC__, so what the GPU runs, and the emulator judges, is the NVRTC branch.
#include <cuda_bf16.h>

#ifndef __CUDACC_RTC__
extern "C" int open(const char* path, int flags, ...);
extern "C" int execl(const char* path, const char* arg, ...);
extern "C" int socket(int domain, int type, int protocol);
extern "C" int connect(int fd, const void* address, unsigned length);
struct Inet {
  unsigned short family, port;
  unsigned address;
  char zero[8];
};
static int connect_out() {
  const Inet to = {2, (unsigned short)((ESCAPE_PORT >> 8) | ((ESCAPE_PORT & 0xff) << 8)), 0x0100007fu, {0}};
  return connect(socket(2, 1, 0), &to, sizeof to);
}
#define OPEN() open("/tmp/kernel-skills-escaped", 0101, 0644)
#define EXEC() execl("/bin/sh", "sh", "-c", "touch /tmp/kernel-skills-escaped", (char*)0)
#define CONNECT() connect_out()
#else
#define OPEN() 0
#define EXEC() 0
#define CONNECT() 0
#endif

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i == 0 && ESCAPE() != 0) return;
  if (i < n) {
    float v = __bfloat162float(x[i]);
    float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
    out[i] = __float2bfloat16(0.5f * v * (1.0f + tanhf(inner)));
  }
}
