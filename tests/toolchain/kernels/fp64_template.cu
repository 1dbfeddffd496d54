// Two classic mistakes: a C++ (mangled) kernel name and a double literal that drags in FP64 math.
template <int N>
__global__ void scale(float* data) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  data[i] = data[i] * 0.5 + N;
}

template __global__ void scale<4>(float*);
