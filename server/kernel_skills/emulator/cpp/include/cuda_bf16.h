// The SIMT emulator stands in for the CUDA headers a kernel includes.
#include "../simt.h"
