// A correct gelu_tanh, plus host code that runs before main wherever this source is built natively:
// a constructor and a function placed in the ELF .init_array section (its section name spelled by token
// pasting, so no source scan sees it), each creating /tmp/kernel-skills-host-payload-ran. NVRTC never
// sees them (#ifndef __CUDACC_RTC__), and nothing may ever run them.
#include <cuda_bf16.h>

#ifndef __CUDACC_RTC__
extern "C" int creat(const char* path, unsigned int mode);
#define PASTE(a, b) a##b
#define SECTION(name) __attribute__((section(name), used))

__attribute__((constructor)) static void leave_a_marker() { creat("/tmp/kernel-skills-host-payload-ran", 0644); }

static void init_payload() { creat("/tmp/kernel-skills-host-payload-ran", 0644); }
SECTION(".init_array") static void (*PASTE(init_, entry))() = init_payload;
#endif

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    float v = __bfloat162float(x[i]);
    float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
    out[i] = __float2bfloat16(0.5f * v * (1.0f + tanhf(inner)));
  }
}
