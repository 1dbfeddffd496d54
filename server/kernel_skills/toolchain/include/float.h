// kernel-skills shim: NVRTC ships no C/C++ standard library headers.
// <float.h>: the same macros as <cfloat>.
#pragma once
#include <cfloat>
