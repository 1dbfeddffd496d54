// vprintf and __assertfail, the two external functions a kernel may call. Output is bounded; every
// byte of the format, the arguments and %s strings is read through the checked memory accessors.
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>

#include "engine.h"

namespace vm {

namespace {
constexpr size_t MAX_FORMAT = 1024, MAX_STRING = 1024;
}

std::string Machine::c_string(Warp& w, int lane, uint64_t addr, size_t limit, const Insn& in) {
  std::string s;
  for (size_t k = 0; k < limit; k++) {
    uint8_t c = 0;
    mem_access(w, lane, SP_GENERIC, addr + k, 1, false, false, &c, in);
    if (c == 0) break;
    s.push_back((char)c);
  }
  return s;
}

void Machine::do_printf(Warp& w, int lane, const Call& c, const Insn& in) {
  if (c.args.size() < 2) fault("unsupported", "vprintf with a missing argument", in, w, lane);
  uint8_t* tp = tparam(w.id * WARP + lane);
  uint64_t fmt_addr = 0, arg_addr = 0;
  std::memcpy(&fmt_addr, tp + c.args[0].src, 8);
  std::memcpy(&arg_addr, tp + c.args[1].src, 8);
  std::string fmt = c_string(w, lane, fmt_addr, MAX_FORMAT, in);
  std::string out;
  uint64_t cursor = arg_addr;
  auto arg = [&](uint32_t size) {
    cursor = (cursor + size - 1) / size * size;
    uint64_t v = 0;
    mem_access(w, lane, SP_GENERIC, cursor, size, false, false, reinterpret_cast<uint8_t*>(&v), in);
    cursor += size;
    return v;
  };
  for (size_t i = 0; i < fmt.size(); i++) {
    if (fmt[i] != '%') { out.push_back(fmt[i]); continue; }
    size_t j = i + 1;
    std::string spec = "%";
    while (j < fmt.size() && std::string("-+ #0").find(fmt[j]) != std::string::npos) spec.push_back(fmt[j++]);
    while (j < fmt.size() && (std::isdigit((unsigned char)fmt[j]) || fmt[j] == '.')) spec.push_back(fmt[j++]);
    int longs = 0;
    while (j < fmt.size() && (fmt[j] == 'l' || fmt[j] == 'h' || fmt[j] == 'z')) { longs += fmt[j] == 'l' || fmt[j] == 'z'; j++; }
    if (j >= fmt.size()) break;
    char conv = fmt[j];
    char buf[512];
    buf[0] = 0;
    if (spec.size() > 32) spec.resize(32);
    switch (conv) {
      case '%': out.push_back('%'); break;
      case 'd': case 'i': {
        int64_t v = longs ? (int64_t)arg(8) : (int64_t)(int32_t)arg(4);
        std::snprintf(buf, sizeof buf, (spec + "lld").c_str(), (long long)v);
        break;
      }
      case 'u': case 'x': case 'X': case 'o': case 'c': {
        uint64_t v = longs ? arg(8) : (uint32_t)arg(4);
        if (conv == 'c') std::snprintf(buf, sizeof buf, (spec + "c").c_str(), (int)(v & 0xFF));
        else std::snprintf(buf, sizeof buf, (spec + "ll" + conv).c_str(), (unsigned long long)v);
        break;
      }
      case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A': {
        uint64_t b = arg(8);
        double d;
        std::memcpy(&d, &b, 8);
        std::snprintf(buf, sizeof buf, (spec + conv).c_str(), d);
        break;
      }
      case 'p': std::snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)arg(8)); break;
      case 's': {
        uint64_t a = arg(8);
        std::string s = c_string(w, lane, a, MAX_STRING, in);
        std::snprintf(buf, sizeof buf, (spec + "s").c_str(), s.c_str());
        break;
      }
      default: out += spec + conv; break;
    }
    out += buf;
    i = j;
  }
  if (printf_out.size() + out.size() > J.printf_limit) {
    printf_out.append(out.substr(0, J.printf_limit - std::min<size_t>(J.printf_limit, printf_out.size())));
    printf_truncated = true;
  } else {
    printf_out += out;
  }
  uint32_t written = (uint32_t)out.size();
  if (c.ret.size > 0) std::memcpy(tp + c.ret.dst, &written, 4);
}

void Machine::do_assert(Warp& w, int lane, const Call& c, const Insn& in) {
  uint8_t* tp = tparam(w.id * WARP + lane);
  std::string message = "assert failed";
  if (!c.args.empty()) {
    uint64_t a = 0;
    std::memcpy(&a, tp + c.args[0].src, 8);
    message = "assertion `" + c_string(w, lane, a, 256, in) + "` failed";
  }
  fault("trap", message, in, w, lane);
}

}  // namespace vm
