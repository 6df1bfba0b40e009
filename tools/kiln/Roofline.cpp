// Rooflines from a cached probe of the machine (contract in tools/kiln/Roofline.h).
#include "tools/kiln/Roofline.h"

#include "kiln/roofline.h"

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
MachineLimits machineLimits(int threads) {
  std::string key = roofline::cacheKey(hostVectorLanes(), threads);
  std::string path = roofline::cacheFile();
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
  roofline::Bound b = roofline::boundOf(kernel.flops(), kernel.bytesMoved(), us, limits.gflops, limits.gbps);
  return {b.boundUs, b.fraction, b.limit};
}

} // namespace kiln
