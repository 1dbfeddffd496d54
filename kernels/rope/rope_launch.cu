// Torch-facing launcher for rope.cu (separate translation unit, extern "C" kernel).
#include "../common/launch.h"
#include "../torch-ext/torch_binding.h"

extern "C" __global__ void rope(const __nv_bfloat16* q, const __nv_bfloat16* k, const float* cos, const float* sin,
                                __nv_bfloat16* q_out, __nv_bfloat16* k_out, int batch, int heads, int seq, int head_dim);

void rope_cuda(at::Tensor& q_out, at::Tensor& k_out, const at::Tensor& q, const at::Tensor& k,
               const at::Tensor& cos, const at::Tensor& sin) {
  using namespace diffusers_h100;
  check_bf16_input(q, "q");
  check_bf16_input(k, "k");
  check_bf16_input(q_out, "q_out");
  check_bf16_input(k_out, "k_out");
  for (const at::Tensor* t : std::initializer_list<const at::Tensor*>{&k, &q_out, &k_out, &cos, &sin}) check_same_device(q, *t, "every tensor");
  TORCH_CHECK(q.dim() == 4, "q must be [batch, heads, seq, head_dim], got ", q.sizes());
  TORCH_CHECK(k.sizes() == q.sizes() && q_out.sizes() == q.sizes() && k_out.sizes() == q.sizes(),
              "k, q_out and k_out must have the shape of q ", q.sizes());
  const int64_t s = q.size(2), d = q.size(3);
  TORCH_CHECK(d % 2 == 0, "head_dim must be even, got ", d);
  for (const at::Tensor* t : {&cos, &sin}) {
    TORCH_CHECK(t->scalar_type() == at::ScalarType::Float && t->is_contiguous(),
                "cos and sin must be contiguous float32");
    TORCH_CHECK(t->dim() == 2 && t->size(0) == s && t->size(1) == d / 2,
                "cos and sin must be [seq, head_dim/2] = [", s, ", ", d / 2, "], got ", t->sizes());
    // The head_dim % 8 == 0 path reads them as float4 (a slice such as cos[offset:] may not be).
    TORCH_CHECK(reinterpret_cast<std::uintptr_t>(t->data_ptr()) % 16 == 0,
                "cos and sin must be 16-byte aligned (the kernel reads them as float4)");
  }
  int batch = to_int(q.size(0), "batch");
  int heads = to_int(q.size(1), "heads");
  int seq = to_int(s, "seq");
  int head_dim = to_int(d, "head_dim");
  const void* qp = q.data_ptr();
  const void* kp = k.data_ptr();
  const float* cp = cos.data_ptr<float>();
  const float* sp = sin.data_ptr<float>();
  void* qo = q_out.data_ptr();
  void* ko = k_out.data_ptr();
  void* args[] = {&qp, &kp, &cp, &sp, &qo, &ko, &batch, &heads, &seq, &head_dim};
  const dim3 grid(ceil_div(static_cast<int64_t>(batch) * heads * seq * head_dim, 2048));
  const dim3 block(256);
  launch(reinterpret_cast<const void*>(&rope), grid, block, args, q);
}
