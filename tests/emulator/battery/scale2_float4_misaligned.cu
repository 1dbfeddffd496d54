// Bad: float4 loads from x + 1, an address 4 bytes past a 16-byte boundary: a misaligned access.
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int v = blockIdx.x * blockDim.x + threadIdx.x;
  if (v == 0) out[0] = 2.0f * x[0];
  const int vectors = (n - 1) / 4;
  if (v < vectors) {
    const float4 a = *reinterpret_cast<const float4*>(x + 1 + 4 * v);
    out[1 + 4 * v] = 2.0f * a.x;
    out[2 + 4 * v] = 2.0f * a.y;
    out[3 + 4 * v] = 2.0f * a.z;
    out[4 + 4 * v] = 2.0f * a.w;
  }
  const int done = 1 + 4 * vectors;
  if (v < n - done) out[done + v] = 2.0f * x[done + v];
}
