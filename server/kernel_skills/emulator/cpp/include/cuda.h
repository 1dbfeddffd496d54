// The SIMT emulator stands in for this CUDA header: simt.h (included before the kernel) declares
// what the kernel may use from it.
#pragma once
