// kernel-skills shim: NVRTC ships no C/C++ standard library headers.
// <assert.h>: assert() on the device through __assertfail, which NVRTC declares. Like the standard
// header it has no include guard: NDEBUG is looked at each time it is included.
#undef assert
#ifdef NDEBUG
#  define assert(e) (static_cast<void>(0))
#else
#  define assert(e) \
    (static_cast<bool>(e) ? static_cast<void>(0) \
                          : __assertfail(#e, __FILE__, __LINE__, __PRETTY_FUNCTION__, sizeof(char)))
#endif
