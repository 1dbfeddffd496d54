// kernel-skills shim: NVRTC ships no C/C++ standard library headers.
// <math.h>: NVRTC already declares CUDA's device math functions (sqrtf, expf, fmaxf, their float
// overloads of sqrt, exp, ...) in the global namespace; this adds the macros and the std:: names.
#pragma once
#include <cmath>
