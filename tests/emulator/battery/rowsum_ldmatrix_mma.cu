// Good: tensor cores: one warp per 16 rows; each 16x16 tile of x is converted to bf16 in shared
// memory (zero-padded past the row and column ends), loaded with ldmatrix.x4 as the A fragment of
// mma.sync.m16n8k16 bf16 (f32 accumulate) against a B of all ones, so every column of C is the row
// sum. The inputs are bf16-representable, so the conversion is exact. Block 32, grid ceil_div(rows, 16).
#include <cuda_bf16.h>

extern "C" __global__ void rowsum(const float* x, float* out, int rows, int cols) {
  __shared__ __align__(16) __nv_bfloat16 tile[16][16];
  const int lane = threadIdx.x, r0 = blockIdx.x * 16;
  float c0 = 0.0f, c1 = 0.0f, c2 = 0.0f, c3 = 0.0f;
  const unsigned ones = 0x3F803F80u;  // two bf16 1.0
  for (int k0 = 0; k0 < cols; k0 += 16) {
    for (int e = lane; e < 256; e += 32) {
      const int r = r0 + e / 16, c = k0 + e % 16;
      tile[e / 16][e % 16] = __float2bfloat16(r < rows && c < cols ? x[(size_t)r * cols + c] : 0.0f);
    }
    __syncwarp();
    const unsigned address = static_cast<unsigned>(__cvta_generic_to_shared(&tile[lane % 16][(lane / 16) * 8]));
    unsigned a0, a1, a2, a3;
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(a0), "=r"(a1), "=r"(a2), "=r"(a3)
                 : "r"(address));
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};"
        : "+f"(c0), "+f"(c1), "+f"(c2), "+f"(c3)
        : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(ones), "r"(ones));
    __syncwarp();  // the next tile overwrites what ldmatrix read
  }
  const int group = lane / 4;
  if (lane % 4 == 0) {
    if (r0 + group < rows) out[r0 + group] = c0;
    if (r0 + group + 8 < rows) out[r0 + group + 8] = c2;
  }
}
