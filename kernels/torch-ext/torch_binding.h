#pragma once

#include <ATen/core/Tensor.h>

// Each op writes into preallocated outputs (`Tensor!` in the schema) and returns nothing.
void rmsnorm_cuda(at::Tensor& out, const at::Tensor& x, const at::Tensor& weight, double eps);
void rmsnorm_noweight_cuda(at::Tensor& out, const at::Tensor& x, double eps);
void layernorm_modulate_cuda(at::Tensor& out, const at::Tensor& x, const at::Tensor& scale,
                             const at::Tensor& shift, double eps);
void gelu_tanh_cuda(at::Tensor& out, const at::Tensor& x);
void geglu_cuda(at::Tensor& out, const at::Tensor& x);
void rope_cuda(at::Tensor& q_out, at::Tensor& k_out, const at::Tensor& q, const at::Tensor& k,
               const at::Tensor& cos, const at::Tensor& sin);
void attention_cuda(at::Tensor& out, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                    double scale);
