// A kernel's roofline, the same for `kiln bench` and a compiled model's --kernel-times: the time
// its FLOPs take at the machine's measured multiply-add peak, or its bytes at its measured
// memory bandwidth, whichever is longer; and where those measurements are kept, so that a
// model binary finds what `kiln bench` measured on the same CPU.
#ifndef KILN_COMMON_ROOFLINE_H
#define KILN_COMMON_ROOFLINE_H

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace kiln::roofline {

struct Bound {
  double boundUs = 0;  // the longer of compute and memory time at the limits
  double fraction = 0; // boundUs over the measured time
  // "compute" or "memory", whichever bounds the kernel, when it reaches at least half of that
  // bound; else "schedule": neither limit explains its time.
  const char *limit = "schedule";
};

inline Bound boundOf(int64_t flops, int64_t bytes, double us, double gflops, double gbps) {
  Bound b;
  if (gflops <= 0 || gbps <= 0 || us <= 0)
    return b;
  double computeUs = double(flops) / (gflops * 1e3), memoryUs = double(bytes) / (gbps * 1e3);
  b.boundUs = std::max(computeUs, memoryUs);
  b.fraction = b.boundUs / us;
  if (b.fraction >= 0.5)
    b.limit = computeUs >= memoryUs ? "compute" : "memory";
  return b;
}

// The measured limits' file: $XDG_CACHE_HOME/kiln/machine-limits.json, else under ~/.cache;
// "" where neither is known. A JSON object {KEY: {"gflops": G, "gbps": B}}.
inline std::string cacheFile() {
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/kiln/machine-limits.json";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/kiln/machine-limits.json";
  return "";
}

// The key of one CPU (its name, family, model and stepping), vector width and thread count.
inline std::string cacheKey(int lanes, int threads) {
  std::ifstream in("/proc/cpuinfo");
  std::string line, id;
  while (std::getline(in, line) && !line.empty())
    for (const char *key : {"model name", "cpu family", "model\t", "stepping"})
      if (line.rfind(key, 0) == 0)
        id += line.substr(line.find(':') + 2) + "/";
  return id + std::to_string(lanes) + " lanes/" + std::to_string(threads) + " threads";
}

} // namespace kiln::roofline

#endif
