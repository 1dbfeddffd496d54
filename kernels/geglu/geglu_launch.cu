// Torch-facing launcher for geglu.cu (separate translation unit, extern "C" kernel).
#include "../common/launch.h"
#include "../torch-ext/torch_binding.h"

extern "C" __global__ void geglu(const __nv_bfloat16* x, __nv_bfloat16* out, int rows, int dim);

void geglu_cuda(at::Tensor& out, const at::Tensor& x) {
  using namespace diffusers_h100;
  check_bf16_input(x, "x");
  check_bf16_input(out, "out");
  check_same_device(x, out, "out");
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) % 16 == 0,
              "the last dimension of x (2*dim) must be a multiple of 16, got ", x.sizes());
  const int64_t d = x.size(-1) / 2;
  TORCH_CHECK(out.dim() == x.dim() && out.size(-1) == d && out.numel() * 2 == x.numel(),
              "out must have the shape of x with the last dimension halved, got ", out.sizes());
  int dim = to_int(d, "dim");
  int rows = to_int(x.numel() / std::max<int64_t>(2 * d, 1), "rows");
  to_int(x.numel(), "rows*2*dim");
  const void* xp = x.data_ptr();
  void* op = out.data_ptr();
  void* args[] = {&xp, &op, &rows, &dim};
  const dim3 grid(ceil_div(static_cast<int64_t>(rows) * dim, 4096));
  const dim3 block(256);
  launch(reinterpret_cast<const void*>(&geglu), grid, block, args, x);
}
