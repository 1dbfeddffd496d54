// Torch-facing launcher for gelu_tanh.cu (separate translation unit, extern "C" kernel).
#include "../common/launch.h"
#include "../torch-ext/torch_binding.h"

extern "C" __global__ void gelu_tanh(const __nv_bfloat16* x, __nv_bfloat16* out, int n);

void gelu_tanh_cuda(at::Tensor& out, const at::Tensor& x) {
  using namespace diffusers_h100;
  check_bf16_input(x, "x");
  check_bf16_input(out, "out");
  check_same_device(x, out, "out");
  TORCH_CHECK(out.sizes() == x.sizes(), "out must have the shape of x ", x.sizes());
  int n = to_int(x.numel(), "n");
  const void* xp = x.data_ptr();
  void* op = out.data_ptr();
  void* args[] = {&xp, &op, &n};
  const dim3 grid(ceil_div(n, 4096));
  const dim3 block(256);
  launch(reinterpret_cast<const void*>(&gelu_tanh), grid, block, args, x);
}
