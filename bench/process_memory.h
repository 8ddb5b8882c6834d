// This process's memory, as the benchmarks report it.
#pragma once

#include <malloc.h>

#include <cstddef>
#include <fstream>
#include <string>

namespace remedy::bench {

// Bytes the allocator has handed out and not taken back: live memory.
inline size_t heapInUse() { return mallinfo2().uordblks; }

// The resident set, in KiB.
inline long rssKiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

}  // namespace remedy::bench
