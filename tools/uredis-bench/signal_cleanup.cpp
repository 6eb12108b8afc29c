#include "signal_cleanup.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "private_server.hpp"

namespace uredis::bench {
namespace {

std::mutex guarded_mutex;
std::vector<private_server*> guarded;  // under guarded_mutex

sigset_t watched_set;  // written once, before the watching thread starts

// SIGINT, SIGTERM and SIGHUP, but not one the process was started ignoring (as a shell starts a
// background job ignoring SIGINT): that one stays ignored.
sigset_t watched() noexcept {
  sigset_t set;
  sigemptyset(&set);
  for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction current {};
    if (::sigaction(signal_number, nullptr, &current) == 0 && current.sa_handler == SIG_IGN)
      continue;
    sigaddset(&set, signal_number);
  }
  return set;
}

[[noreturn]] void stop_all_and_die(int signal_number) {
  guarded_mutex.lock();  // held until the process ends: a destructor racing us waits in unguard()
  for (private_server* s : guarded)
    s->stop();
  ::signal(signal_number, SIG_DFL);
  ::pthread_sigmask(SIG_UNBLOCK, &watched_set, nullptr);
  ::raise(signal_number);
  std::_Exit(128 + signal_number);  // not reached: the default action ends the process
}

}  // namespace

void watch_signals() {
  static std::once_flag once;
  std::call_once(once, [] {
    watched_set = watched();
    const sigset_t set = watched_set;
    if (sigisemptyset(&set)) return;
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread([set] {
      int signal_number = 0;
      while (::sigwait(&set, &signal_number) != 0) {
      }
      stop_all_and_die(signal_number);
    }).detach();
  });
}

void guard(private_server& s) {
  const std::lock_guard lock(guarded_mutex);
  guarded.push_back(&s);
}

void unguard(private_server& s) {
  const std::lock_guard lock(guarded_mutex);
  guarded.erase(std::remove(guarded.begin(), guarded.end(), &s), guarded.end());
}

void unblock_signals_for_exec() noexcept {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace uredis::bench
