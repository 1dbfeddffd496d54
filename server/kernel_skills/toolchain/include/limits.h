// kernel-skills shim: NVRTC ships no C/C++ standard library headers.
// <limits.h>: the same macros as <climits>.
#pragma once
#include <climits>
