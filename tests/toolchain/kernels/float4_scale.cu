// A clean memory-bound kernel: grid-stride loop over float4 (16-byte loads and stores).
extern "C" __global__ void scale_float4(const float4* __restrict__ x, float4* __restrict__ y, float alpha, int n4) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += gridDim.x * blockDim.x) {
    float4 v = x[i];
    v.x *= alpha;
    v.y *= alpha;
    v.z *= alpha;
    v.w *= alpha;
    y[i] = v;
  }
}
