#include "child.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>

extern char** environ;

namespace uredis::lock_tool {

int child::start(const std::vector<std::string>& command, std::string_view env_entry) {
  std::vector<char*> argv;
  argv.reserve(command.size() + 1);
  for (const std::string& word : command)
    argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);

  // The environment, minus any inherited value of the variable we set.
  const std::string_view prefix = env_entry.substr(0, env_entry.find('=') + 1);
  std::string entry(env_entry);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e)
    if (!std::string_view(*e).starts_with(prefix)) envp.push_back(*e);
  envp.push_back(entry.data());
  envp.push_back(nullptr);

  // glibc's posix_spawnp reports a failed exec (ENOENT, EACCES) as its own return value. The
  // child keeps our process group, so a terminal's Ctrl-C reaches it directly, as under a shell.
  const int rc = ::posix_spawnp(&pid_, argv[0], nullptr, nullptr, argv.data(), envp.data());
  if (rc != 0) pid_ = -1;
  return rc;
}

std::optional<int> child::poll() {
  if (status_ || pid_ <= 0) return status_;
  int raw = 0;
  pid_t got;
  do {
    got = ::waitpid(pid_, &raw, WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got == 0) return std::nullopt;
  if (got < 0)  // ECHILD: someone else reaped it; nothing more to learn
    status_ = 1;
  else if (WIFEXITED(raw))
    status_ = WEXITSTATUS(raw);
  else if (WIFSIGNALED(raw))
    status_ = 128 + WTERMSIG(raw);
  else
    return std::nullopt;  // stopped or continued: still there
  return status_;
}

void child::signal(int sig) const {
  if (running()) ::kill(pid_, sig);
}

}  // namespace uredis::lock_tool
