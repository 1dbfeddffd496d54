// Torch-facing launcher for layernorm_modulate.cu (separate translation unit, extern "C" kernel).
#include "../common/launch.h"
#include "../torch-ext/torch_binding.h"

extern "C" __global__ void layernorm_modulate(const __nv_bfloat16* x, const __nv_bfloat16* scale, const __nv_bfloat16* shift,
                                              __nv_bfloat16* out, int batch, int tokens, int dim, float eps);

void layernorm_modulate_cuda(at::Tensor& out, const at::Tensor& x, const at::Tensor& scale,
                             const at::Tensor& shift, double eps) {
  using namespace diffusers_h100;
  check_bf16_input(x, "x");
  check_bf16_input(scale, "scale");
  check_bf16_input(shift, "shift");
  check_bf16_input(out, "out");
  check_same_device(x, scale, "scale");
  check_same_device(x, shift, "shift");
  check_same_device(x, out, "out");
  TORCH_CHECK(x.dim() == 3, "x must be [batch, tokens, dim], got ", x.sizes());
  TORCH_CHECK(out.sizes() == x.sizes(), "out must have the shape of x ", x.sizes());
  const int64_t b = x.size(0), d = x.size(2);
  TORCH_CHECK(scale.dim() == 2 && scale.size(0) == b && scale.size(1) == d,
              "scale must be [batch, dim] = [", b, ", ", d, "], got ", scale.sizes());
  TORCH_CHECK(shift.sizes() == scale.sizes(), "shift must have the shape of scale ", scale.sizes());
  TORCH_CHECK(d % 8 == 0, "dim must be a multiple of 8, got ", d);
  int batch = to_int(b, "batch");
  int tokens = to_int(x.size(1), "tokens");
  int dim = to_int(d, "dim");
  to_int(x.numel(), "batch*tokens*dim");
  TORCH_CHECK(batch <= 65535, "batch must be <= 65535 (it is the grid's y dimension), got ", batch);
  float eps_f = static_cast<float>(eps);
  const void* xp = x.data_ptr();
  const void* sp = scale.data_ptr();
  const void* hp = shift.data_ptr();
  void* op = out.data_ptr();
  void* args[] = {&xp, &sp, &hp, &op, &batch, &tokens, &dim, &eps_f};
  const dim3 grid(ceil_div(tokens, 8), batch);
  const dim3 block(256);
  launch(reinterpret_cast<const void*>(&layernorm_modulate), grid, block, args, x);
}
