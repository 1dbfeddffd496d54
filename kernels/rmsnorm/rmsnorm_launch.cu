// Torch-facing launchers for rmsnorm.cu (compiled as its own translation unit; the kernels are
// referenced by their extern "C" names). Launch configuration: see rmsnorm.cu and solutions.json.
#include "../common/launch.h"
#include "../torch-ext/torch_binding.h"

extern "C" __global__ void rmsnorm(const __nv_bfloat16* x, const __nv_bfloat16* weight, __nv_bfloat16* out, int rows, int dim,
                                   float eps);
extern "C" __global__ void rmsnorm_noweight(const __nv_bfloat16* x, __nv_bfloat16* out, int rows, int dim, float eps);

namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = 32;

void check_rows(const at::Tensor& out, const at::Tensor& x) {
  using namespace diffusers_h100;
  check_bf16_input(x, "x");
  check_bf16_input(out, "out");
  check_same_device(x, out, "out");
  TORCH_CHECK(x.dim() >= 1, "x must have at least one dimension");
  TORCH_CHECK(out.sizes() == x.sizes(), "out must have the shape of x ", x.sizes(), ", got ",
              out.sizes());
  TORCH_CHECK(x.size(-1) % 8 == 0, "the last dimension must be a multiple of 8, got ", x.size(-1));
}

}  // namespace

void rmsnorm_cuda(at::Tensor& out, const at::Tensor& x, const at::Tensor& weight, double eps) {
  using namespace diffusers_h100;
  check_rows(out, x);
  check_bf16_input(weight, "weight");
  check_same_device(x, weight, "weight");
  TORCH_CHECK(weight.dim() == 1 && weight.size(0) == x.size(-1), "weight must have shape [",
              x.size(-1), "], got ", weight.sizes());
  int dim = to_int(x.size(-1), "dim");
  int rows = to_int(x.numel() / std::max<int64_t>(dim, 1), "rows");
  float eps_f = static_cast<float>(eps);
  const void* xp = x.data_ptr();
  const void* wp = weight.data_ptr();
  void* op = out.data_ptr();
  void* args[] = {&xp, &wp, &op, &rows, &dim, &eps_f};
  const dim3 grid(ceil_div(rows, kRowsPerBlock));
  const dim3 block(kThreads);
  launch(reinterpret_cast<const void*>(&rmsnorm), grid, block, args, x);
}

void rmsnorm_noweight_cuda(at::Tensor& out, const at::Tensor& x, double eps) {
  using namespace diffusers_h100;
  check_rows(out, x);
  int dim = to_int(x.size(-1), "dim");
  int rows = to_int(x.numel() / std::max<int64_t>(dim, 1), "rows");
  float eps_f = static_cast<float>(eps);
  const void* xp = x.data_ptr();
  void* op = out.data_ptr();
  void* args[] = {&xp, &op, &rows, &dim, &eps_f};
  const dim3 grid(ceil_div(rows, kRowsPerBlock));
  const dim3 block(kThreads);
  launch(reinterpret_cast<const void*>(&rmsnorm_noweight), grid, block, args, x);
}
