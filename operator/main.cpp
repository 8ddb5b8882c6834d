// remedy-operator: see operator.h, and `remedy-operator --help`.
#include "logging.h"
#include "operator.h"
#include "options.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

int main(int argc, char** argv) {
  using namespace remedy;
  auto parsed = op::parseOptions(std::vector<std::string>(argv + 1, argv + argc),
                                 [](const std::string& name) -> std::optional<std::string> {
                                   const char* v = std::getenv(name.c_str());
                                   if (!v) return std::nullopt;
                                   return std::string(v);
                                 });
  if (parsed.help) {
    std::fputs(op::usage().c_str(), stdout);
    return 0;
  }
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "remedy-operator: %s\n", parsed.error.c_str());
    return 2;
  }
  const op::Options& options = parsed.options;
  op::setupLogging(options.logFormat, options.logLevel);

  // SIGTERM and SIGINT are taken by one thread (sigwait), never by a handler
  // interrupting arbitrary code; every later thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  // Never destroyed: the detached signal thread may still be inside
  // requestStop() (running its callbacks) when a quick shutdown has already
  // returned from main, so nothing it uses may live on main's stack.
  auto* stop = new kube::StopSignal;
  const auto shutdownTimeout = options.shutdownTimeout;
  std::thread signalThread([signals, stop, shutdownTimeout] {
    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("event=signal signal={} shutdownTimeoutSeconds={}", strsignal(received),
                 std::chrono::duration_cast<std::chrono::seconds>(shutdownTimeout).count());
    stop->requestStop();
    // A shutdown that outlives its budget ends here, before the kubelet's
    // SIGKILL: the Lease then expires as after a crash, and every step was
    // checkpointed before its effect.
    std::this_thread::sleep_for(shutdownTimeout);
    spdlog::error("event=shutdown-timeout: exiting without finishing");
    spdlog::default_logger()->flush();
    std::_Exit(1);
  });
  signalThread.detach();

  return op::runOperator(options, *stop);
}
