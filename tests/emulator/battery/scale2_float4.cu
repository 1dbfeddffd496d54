// Good: 16-byte float4 loads and stores on aligned addresses, then a scalar tail for n % 4.
extern "C" __global__ void scale2(const float* x, float* out, int n) {
  const int v = blockIdx.x * blockDim.x + threadIdx.x;
  const int vectors = n / 4;
  if (v < vectors) {
    float4 a = reinterpret_cast<const float4*>(x)[v];
    a.x *= 2.0f;
    a.y *= 2.0f;
    a.z *= 2.0f;
    a.w *= 2.0f;
    reinterpret_cast<float4*>(out)[v] = a;
  }
  if (v < n - 4 * vectors) out[4 * vectors + v] = 2.0f * x[4 * vectors + v];
}
