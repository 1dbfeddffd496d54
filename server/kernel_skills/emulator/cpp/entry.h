// The end of a kernel's translation unit (after the kernel source): binds the job's arguments to
// the parameters of SIMT_KERNEL and gives the engine the thread body. Compiled with the kernel, so
// the parameter types are the kernel's own.
#pragma once

namespace simt {

namespace entry {

template <class F>
struct Signature;

template <class... P>
struct Signature<void (*)(P...)> {
  using Args = std::tuple<std::remove_cv_t<P>...>;
  static constexpr unsigned int count = sizeof...(P);
};

using Sig = Signature<decltype(&SIMT_KERNEL)>;
inline Sig::Args bound;

template <class P>
const char* bind_one(const ArgTable& t, unsigned int i, P& out) {
  const unsigned char kind = t.kinds[i];
  if constexpr (std::is_pointer_v<P>) {
    if (kind != 0) return "the kernel takes a pointer where the problem's ABI passes a scalar";
    out = static_cast<P>(t.values[i]);
    using Elem = std::remove_cv_t<std::remove_pointer_t<P>>;
    if constexpr (std::is_void_v<Elem>) {
      t.elem_size[i] = 1;
    } else {
      t.elem_size[i] = sizeof(Elem);
    }
  } else if constexpr (std::is_same_v<P, int> || std::is_same_v<P, unsigned int>) {
    if (kind != 1) return "the kernel takes an int where the problem's ABI passes something else";
    std::memcpy(&out, t.values[i], 4);
  } else if constexpr (std::is_same_v<P, float>) {
    if (kind != 2) return "the kernel takes a float where the problem's ABI passes something else";
    std::memcpy(&out, t.values[i], 4);
  } else {
    return "the kernel has a parameter type other than pointer, int or float";
  }
  return nullptr;
}

template <size_t... I>
const char* bind_all(const ArgTable& t, std::index_sequence<I...>) {
  const char* error = nullptr;
  ((error = error ? error : bind_one(t, I, std::get<I>(bound))), ...);
  return error;
}

}  // namespace entry

const char* kernel_bind(const ArgTable& table) {
  if (table.count != entry::Sig::count) return "the kernel's parameter count differs from the problem's ABI";
  return entry::bind_all(table, std::make_index_sequence<entry::Sig::count>{});
}

void kernel_body() { std::apply(SIMT_KERNEL, entry::bound); }

}  // namespace simt
