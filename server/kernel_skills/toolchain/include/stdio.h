// kernel-skills shim: NVRTC ships no C/C++ standard library headers.
// <stdio.h>: device code has only printf, which NVRTC already declares; nothing else to declare.
#pragma once
