// Rooflines from a cached probe of the machine (contract in tools/kiln/Roofline.h).
#include "tools/kiln/Roofline.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <fstream>

using namespace llvm;

namespace kiln {
namespace {

// What tells one CPU from another here: its name, family, model and stepping.
std::string cpuIdentity() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, id;
  while (std::getline(in, line) && !line.empty())
    for (const char *key : {"model name", "cpu family", "model\t", "stepping"})
      if (line.rfind(key, 0) == 0)
        id += line.substr(line.find(':') + 2) + "/";
  return id;
}

std::string cacheFile() {
  SmallString<128> path;
  if (std::optional<std::string> xdg = sys::Process::GetEnv("XDG_CACHE_HOME"); xdg && !xdg->empty())
    path = *xdg;
  else if (!sys::path::cache_directory(path))
    return "";
  sys::path::append(path, "kiln", "machine-limits.json");
  return std::string(path);
}

} // namespace

MachineLimits machineLimits(int threads) {
  std::string key = formatv("{0}{1} lanes/{2} threads", cpuIdentity(), hostVectorLanes(), threads).str();
  std::string path = cacheFile();
  json::Object cache;
  if (auto buffer = MemoryBuffer::getFile(path); !path.empty() && buffer)
    if (auto value = json::parse((*buffer)->getBuffer()); value && value->getAsObject())
      cache = std::move(*value->getAsObject());
  if (const json::Object *known = cache.getObject(key)) {
    auto gflops = known->getNumber("gflops"), gbps = known->getNumber("gbps");
    if (gflops && gbps && *gflops > 0 && *gbps > 0)
      return {*gflops, *gbps};
  }
  MachineLimits limits = measureMachineLimits(threads);
  if (limits.gflops > 0 && !path.empty() && !sys::fs::create_directories(sys::path::parent_path(path))) {
    cache[key] = json::Object{{"gflops", limits.gflops}, {"gbps", limits.gbps}};
    std::error_code ec;
    raw_fd_ostream out(path, ec); // a cache: when it cannot be written, the next run measures again
    if (!ec)
      out << json::Value(std::move(cache)) << "\n";
  }
  return limits;
}

Roofline rooflineOf(const FusedKernel &kernel, double us, const MachineLimits &limits) {
  Roofline r;
  if (limits.gflops <= 0 || limits.gbps <= 0 || us <= 0)
    return r;
  double computeUs = double(kernel.flops()) / (limits.gflops * 1e3);
  double memoryUs = double(kernel.bytesMoved()) / (limits.gbps * 1e3);
  r.boundUs = std::max(computeUs, memoryUs);
  r.fraction = r.boundUs / us;
  if (r.fraction >= 0.5)
    r.limit = computeUs >= memoryUs ? "compute" : "memory";
  return r;
}

} // namespace kiln
