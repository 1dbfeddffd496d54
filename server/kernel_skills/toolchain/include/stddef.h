// kernel-skills shim: NVRTC ships no C/C++ standard library headers.
// <stddef.h>: the same names as <cstddef>.
#pragma once
#include <cstddef>
