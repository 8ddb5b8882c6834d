// kubeconfig documents (src/kube/kubeconfig.h), with each context named.
#include "kube/kubeconfig.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string yaml(reinterpret_cast<const char*>(data), size);
  // Paths in a kubeconfig name files to read (certificates, token files);
  // a fuzzer that names /dev/zero or /proc/... reads without end or reads the
  // host. Those inputs (and escapes that could spell them) are skipped.
  for (const char* risky : {"dev", "proc", "sys", "\\", "%"}) {
    if (yaml.find(risky) != std::string::npos) return 0;
  }
  for (const char* context : {"", "main", "other"}) {
    auto config = remedy::kube::parseKubeconfig(yaml, "fuzz", "/nonexistent-fuzz-dir", context);
    if (config.ok()) (void)config->server;
  }
  return 0;
}
