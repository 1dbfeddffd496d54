// ptxvm PROGRAM JOB OUT REPORT PRINTF: run one launch of a pre-decoded PTX kernel.
// Exit 0: ran (OUT holds every ABI buffer's bytes in ABI order; REPORT a JSON summary with the
// non-fatal findings; PRINTF the kernel's printf output). Exit 3: a finding stopped the launch (REPORT
// holds it). Exit 2: a malformed program or job. Exit 4: the engine could not confine itself.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "engine.h"

namespace {

bool install_seccomp() {
  static const long allowed[] = {
      SYS_read,  SYS_write,        SYS_writev,        SYS_mmap,          SYS_munmap,        SYS_mprotect,
      SYS_brk,   SYS_mremap,       SYS_madvise,       SYS_exit,          SYS_exit_group,    SYS_rt_sigreturn,
      SYS_futex, SYS_clock_gettime, SYS_getpid,       SYS_gettid,        SYS_rt_sigprocmask, SYS_close,
      SYS_fstat, SYS_lseek,        SYS_newfstatat,
  };
  constexpr size_t n = sizeof allowed / sizeof allowed[0];
  struct sock_filter filter[5 + 2 * n + 1];
  size_t k = 0;
  filter[k++] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  filter[k++] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  filter[k++] = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  filter[k++] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  filter[k++] = BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 2 * n, 0);
  for (size_t i = 0; i < n; ++i) {
    filter[k++] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(allowed[i]), 0, 1);
    filter[k++] = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  }
  filter[k++] = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  struct sock_fprog prog{static_cast<unsigned short>(k), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) std::_Exit(2);
    done += (size_t)n;
  }
}

std::string fault_json(const vm::Fault& f, const vm::Program& p) {
  std::string s = "{\"kind\":\"" + vm::json_escape(f.kind) + "\",\"message\":\"" + vm::json_escape(f.message) + "\"";
  if (f.line > 0) s += ",\"line\":" + std::to_string(f.line);
  if (f.file > 0 && (size_t)f.file < p.files.size()) s += ",\"file\":\"" + vm::json_escape(p.files[(size_t)f.file]) + "\"";
  if (f.other_line > 0) s += ",\"other_line\":" + std::to_string(f.other_line);
  if (!f.buffer.empty()) s += ",\"buffer\":\"" + vm::json_escape(f.buffer) + "\"";
  if (f.index != vm::Fault::NONE) s += ",\"index\":" + std::to_string(f.index);
  if (f.offset != vm::Fault::NONE) s += ",\"offset\":" + std::to_string(f.offset);
  s += ",\"threads\":[";
  for (size_t i = 0; i < f.threads.size(); i++) {
    s += i ? ",[" : "[";
    for (size_t j = 0; j < f.threads[i].size(); j++) s += (j ? "," : "") + std::to_string(f.threads[i][j]);
    s += "]";
  }
  return s + "]}";
}

}  // namespace

namespace vm {
std::string json_escape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (c == '"') o += "\\\"";
    else if (c == '\\') o += "\\\\";
    else if (c < 0x20 || c >= 0x7F) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else o.push_back((char)c);
  }
  return o;
}
}  // namespace vm

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: ptxvm PROGRAM JOB OUT REPORT PRINTF\n");
    return 2;
  }
  vm::Program prog;
  vm::Job job;
  std::vector<vm::Buffer> buffers;
  try {
    prog = vm::load_program(vm::read_file(argv[1]));
    job = vm::load_job(vm::read_file(argv[2]), buffers);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ptxvm: %s\n", e.what());
    return 2;
  }
  int out_fd = ::open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int report_fd = ::open(argv[4], O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int printf_fd = ::open(argv[5], O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (out_fd < 0 || report_fd < 0 || printf_fd < 0) return 2;
#ifdef PTXVM_SANITIZED
  const bool confine_syscalls = false;  // see engine_build.SANITIZE_FLAGS
#else
  const bool confine_syscalls = !std::getenv("PTXVM_NO_SECCOMP");
#endif
  if (confine_syscalls && !install_seccomp()) {
    std::fprintf(stderr, "ptxvm: cannot install the seccomp filter\n");
    return 4;
  }
  int status = 0;
  std::string report;
  try {
    vm::Machine m(prog, job, buffers);
    try {
      m.run();
      std::string data;
      for (int idx : job.abi_buffers) data.append(buffers[(size_t)idx].data.begin(), buffers[(size_t)idx].data.end());
      write_all(out_fd, data);
      report = "{\"ok\":true,\"executed\":" + std::to_string(m.executed) + ",\"printf_truncated\":" +
               (m.printf_truncated ? "true" : "false") + ",\"findings\":[";
      for (size_t i = 0; i < m.findings.size(); i++)
        report += (i ? "," : "") + std::string("{\"kind\":\"") + vm::json_escape(m.findings[i].kind) + "\",\"message\":\"" +
                  vm::json_escape(m.findings[i].message) + "\",\"line\":" + std::to_string(m.findings[i].line) + "}";
      report += "]";
      if (m.counters) report += ",\"counters\":" + m.counters->json();
      report += "}";
    } catch (const vm::FaultError& e) {
      report = fault_json(e.fault, prog);
      status = 3;
    }
    write_all(printf_fd, m.printf_out);
  } catch (const vm::FaultError& e) {
    report = fault_json(e.fault, prog);
    status = 3;
  } catch (const std::bad_alloc&) {
    report = "{\"kind\":\"resource\",\"message\":\"the emulated launch needs more memory than the engine is allowed\"}";
    status = 3;
  }
  write_all(report_fd, report);
  return status;
}
