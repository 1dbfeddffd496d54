// Torch-facing launcher for attention.cu (separate translation unit, extern "C" kernels).
#include "../common/launch.h"
#include "../torch-ext/torch_binding.h"

extern "C" __global__ void attention_hd64(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, __nv_bfloat16* out,
                                          int batch, int heads, int seq_q, int seq_kv, float scale);
extern "C" __global__ void attention_hd128(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, __nv_bfloat16* out,
                                           int batch, int heads, int seq_q, int seq_kv, float scale);

void attention_cuda(at::Tensor& out, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                    double scale) {
  using namespace diffusers_h100;
  check_bf16_input(q, "q");
  check_bf16_input(k, "k");
  check_bf16_input(v, "v");
  check_bf16_input(out, "out");
  for (const at::Tensor* t : std::initializer_list<const at::Tensor*>{&k, &v, &out}) check_same_device(q, *t, "every tensor");
  TORCH_CHECK(q.dim() == 4 && k.dim() == 4, "q, k, v must be [batch, heads, seq, head_dim]");
  TORCH_CHECK(k.sizes() == v.sizes(), "k and v must have the same shape");
  TORCH_CHECK(out.sizes() == q.sizes(), "out must have the shape of q ", q.sizes());
  TORCH_CHECK(k.size(0) == q.size(0) && k.size(1) == q.size(1) && k.size(3) == q.size(3),
              "q and k must agree on batch, heads and head_dim");
  const int64_t d = q.size(3);
  TORCH_CHECK(d == 64 || d == 128, "head_dim must be 64 or 128, got ", d);
  TORCH_CHECK(k.size(2) > 0, "seq_kv must be positive");
  int batch = to_int(q.size(0), "batch");
  int heads = to_int(q.size(1), "heads");
  int seq_q = to_int(q.size(2), "seq_q");
  int seq_kv = to_int(k.size(2), "seq_kv");
  to_int(std::max(q.numel(), k.numel()), "tensor size");
  TORCH_CHECK(static_cast<int64_t>(batch) * heads <= 65535, "batch*heads must be <= 65535 (grid.y)");
  float scale_f = static_cast<float>(scale);
  const void* qp = q.data_ptr();
  const void* kp = k.data_ptr();
  const void* vp = v.data_ptr();
  void* op = out.data_ptr();
  void* args[] = {&qp, &kp, &vp, &op, &batch, &heads, &seq_q, &seq_kv, &scale_f};
  const void* kernel = d == 64 ? reinterpret_cast<const void*>(&attention_hd64)
                               : reinterpret_cast<const void*>(&attention_hd128);
  const dim3 grid(ceil_div(seq_q, 64), batch * heads);
  const dim3 block(128);
  launch(kernel, grid, block, args, q);
}
