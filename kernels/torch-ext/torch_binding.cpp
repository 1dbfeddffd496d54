#include <torch/library.h>

#include "registration.h"
#include "torch_binding.h"

TORCH_LIBRARY_EXPAND(TORCH_EXTENSION_NAME, ops) {
  ops.def("rmsnorm(Tensor! out, Tensor x, Tensor weight, float eps) -> ()");
  ops.impl("rmsnorm", c10::kCUDA, &rmsnorm_cuda);

  ops.def("rmsnorm_noweight(Tensor! out, Tensor x, float eps) -> ()");
  ops.impl("rmsnorm_noweight", c10::kCUDA, &rmsnorm_noweight_cuda);

  ops.def("layernorm_modulate(Tensor! out, Tensor x, Tensor scale, Tensor shift, float eps) -> ()");
  ops.impl("layernorm_modulate", c10::kCUDA, &layernorm_modulate_cuda);

  ops.def("gelu_tanh(Tensor! out, Tensor x) -> ()");
  ops.impl("gelu_tanh", c10::kCUDA, &gelu_tanh_cuda);

  ops.def("geglu(Tensor! out, Tensor x) -> ()");
  ops.impl("geglu", c10::kCUDA, &geglu_cuda);

  ops.def("rope(Tensor! q_out, Tensor! k_out, Tensor q, Tensor k, Tensor cos, Tensor sin) -> ()");
  ops.impl("rope", c10::kCUDA, &rope_cuda);

  ops.def("attention(Tensor! out, Tensor q, Tensor k, Tensor v, float scale) -> ()");
  ops.impl("attention", c10::kCUDA, &attention_cuda);
}

REGISTER_EXTENSION(TORCH_EXTENSION_NAME)
