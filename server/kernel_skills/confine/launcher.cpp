// The confined launcher: `launcher [-r PATH] [-w PATH] [-x PATH] [-l NAME=VALUE] [-e KEY=VALUE] -c DIR -- ARGV...`
// confines itself with Linux Landlock and resource limits, then execs ARGV[0] with exactly the -e
// environment. Built once per cache by kernel_skills.confine.launcher (g++ is the emulator's own
// dependency) so that a confined start costs about what a plain exec costs.
//
//   -r PATH  readable beneath PATH (a folder or a file)      -w PATH  read, create, write, remove beneath
//   -x PATH  the only files that may be executed (each also readable)
//   -l NAME=VALUE  setrlimit(RLIMIT_NAME, VALUE) for soft and hard: AS CPU FSIZE NPROC NOFILE CORE STACK
//
// Landlock handles every file-system right the kernel's ABI knows, TCP bind/connect (ABI >= 4) and,
// scoped to this process, abstract unix sockets and signals (ABI >= 6); its own /proc/<pid> stays
// readable (the same process after exec). Any failure exits 125 with a line starting
// "kernel-skills confine:" on stderr, and the target never runs.
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr long kCreateRuleset = 444, kAddRule = 445, kRestrictSelf = 446;  // x86_64 and aarch64
constexpr uint32_t kVersionFlag = 1, kRulePathBeneath = 1;
constexpr uint64_t kExecute = 1u << 0, kWriteFile = 1u << 1, kReadFile = 1u << 2, kReadDir = 1u << 3;
constexpr uint64_t kTruncate = 1u << 14, kIoctlDev = 1u << 15;
constexpr uint64_t kFileRights = kExecute | kWriteFile | kReadFile | kTruncate | kIoctlDev;

struct RulesetAttr {
  uint64_t fs, net, scoped;
};
struct __attribute__((packed)) PathBeneath {
  uint64_t allowed;
  int32_t parent_fd;
};

[[noreturn]] void fail(const char* what, const char* detail = "") {
  std::fprintf(stderr, "kernel-skills confine: %s%s%s (errno %d: %s)\n", what, *detail ? " " : "", detail,
               errno, std::strerror(errno));
  std::exit(125);
}

void add_rule(int ruleset, const char* path, uint64_t rights) {
  const int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;  // nothing there to allow
    fail("cannot open for a Landlock rule:", path);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) fail("cannot stat", path);
  if (!S_ISDIR(st.st_mode)) rights &= kFileRights;
  PathBeneath rule{rights, fd};
  if (syscall(kAddRule, ruleset, kRulePathBeneath, &rule, 0) != 0) fail("landlock_add_rule failed for", path);
  close(fd);
}

int rlimit_resource(const std::string& name) {
  if (name == "AS") return RLIMIT_AS;
  if (name == "CPU") return RLIMIT_CPU;
  if (name == "FSIZE") return RLIMIT_FSIZE;
  if (name == "NPROC") return RLIMIT_NPROC;
  if (name == "NOFILE") return RLIMIT_NOFILE;
  if (name == "CORE") return RLIMIT_CORE;
  if (name == "STACK") return RLIMIT_STACK;
  errno = EINVAL;
  fail("unknown resource limit", name.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<const char*> reads, writes, execs;
  std::vector<std::pair<int, rlim_t>> limits;
  std::vector<char*> env;
  const char* cwd = nullptr;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--") break;
    if (i + 1 >= argc) fail("missing a value after", argv[i]);
    char* value = argv[++i];
    if (flag == "-r") reads.push_back(value);
    else if (flag == "-w") writes.push_back(value);
    else if (flag == "-x") execs.push_back(value);
    else if (flag == "-e") env.push_back(value);
    else if (flag == "-c") cwd = value;
    else if (flag == "-l") {
      const char* eq = std::strchr(value, '=');
      if (eq == nullptr) fail("a limit is NAME=VALUE, got", value);
      limits.emplace_back(rlimit_resource(std::string(value, static_cast<size_t>(eq - value))),
                          std::strtoull(eq + 1, nullptr, 10));
    } else {
      errno = EINVAL;
      fail("unknown option", argv[i]);
    }
  }
  if (i + 1 >= argc || cwd == nullptr) {
    errno = EINVAL;
    fail("usage: launcher [-r|-w|-x PATH]... [-l NAME=VALUE]... [-e K=V]... -c DIR -- ARGV...");
  }
  char** target = argv + i + 1;
  env.push_back(nullptr);

  const long abi = syscall(kCreateRuleset, nullptr, 0, kVersionFlag);
  if (abi < 1) fail("Linux Landlock is not available (kernel 5.13+ with the landlock LSM enabled)");
  const uint64_t fs = abi >= 5 ? (1u << 16) - 1 : abi >= 3 ? (1u << 15) - 1 : abi >= 2 ? (1u << 14) - 1
                                                                                      : (1u << 13) - 1;
  RulesetAttr attr{fs, abi >= 4 ? 3u : 0u, abi >= 6 ? 3u : 0u};
  const size_t attr_size = abi < 4 ? 8 : abi < 6 ? 16 : 24;
  const int ruleset = static_cast<int>(syscall(kCreateRuleset, &attr, attr_size, 0));
  if (ruleset < 0) fail("landlock_create_ruleset failed");
  char own_proc[PATH_MAX];
  if (realpath("/proc/self", own_proc) == nullptr) fail("cannot resolve /proc/self");
  add_rule(ruleset, own_proc, kReadFile | kReadDir);
  for (const char* p : reads) add_rule(ruleset, p, kReadFile | kReadDir);
  for (const char* p : writes) add_rule(ruleset, p, fs & ~kExecute);
  for (const char* p : execs) add_rule(ruleset, p, kExecute | kReadFile);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("prctl(PR_SET_NO_NEW_PRIVS) failed");
  if (syscall(kRestrictSelf, ruleset, 0) != 0) fail("landlock_restrict_self failed");
  close(ruleset);
  for (const auto& [resource, value] : limits) {
    const rlimit lim{value, value};
    if (setrlimit(resource, &lim) != 0) fail("setrlimit failed");
  }
  if (chdir(cwd) != 0) fail("cannot enter the work folder", cwd);
  execve(target[0], target, env.data());
  fail("cannot run", target[0]);
}
