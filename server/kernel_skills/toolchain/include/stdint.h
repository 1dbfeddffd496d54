// kernel-skills shim: NVRTC ships no C/C++ standard library headers.
// <stdint.h>: the same names as <cstdint>.
#pragma once
#include <cstdint>
