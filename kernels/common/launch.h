// Host-side helpers shared by the launchers: argument checks and a launch on torch's current
// stream. Kernels are launched through cudaLaunchKernel (not <<<>>>) so that the launchers also
// parse as plain C++, which lets CI syntax-check them against torch's headers without nvcc.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/util/Exception.h>
#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <initializer_list>

namespace diffusers_h100 {

inline void check_bf16_input(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.is_cuda(), name, " must be a CUDA tensor");
  TORCH_CHECK(t.scalar_type() == at::ScalarType::BFloat16, name, " must be bfloat16, got ",
              t.scalar_type());
  TORCH_CHECK(t.is_contiguous(), name, " must be contiguous");
  TORCH_CHECK(reinterpret_cast<std::uintptr_t>(t.data_ptr()) % 16 == 0, name,
              " must be 16-byte aligned (the kernels use 16-byte vector accesses)");
}

inline void check_same_device(const at::Tensor& a, const at::Tensor& b, const char* name) {
  TORCH_CHECK(a.device() == b.device(), name, " must be on ", a.device(), ", got ", b.device());
}

inline int to_int(int64_t v, const char* what) {
  TORCH_CHECK(v >= 0 && v <= INT_MAX, what, " = ", v, " does not fit the kernel's int parameter");
  return static_cast<int>(v);
}

inline unsigned int ceil_div(int64_t a, int64_t b) {
  const int64_t q = (a + b - 1) / b;
  TORCH_CHECK(q <= INT_MAX, "grid too large: ", q, " blocks");
  return static_cast<unsigned int>(q);
}

// Launches `kernel` (the address of an extern "C" __global__ function) on the current stream of
// `like`'s device and checks the launch.
inline void launch(const void* kernel, dim3 grid, dim3 block, void** args, const at::Tensor& like) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;  // empty input: nothing to do
  const c10::cuda::CUDAGuard guard(like.device());
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream(like.device().index()).stream();
  C10_CUDA_CHECK(cudaLaunchKernel(kernel, grid, block, args, 0, stream));
}

}  // namespace diffusers_h100
