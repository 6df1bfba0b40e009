// Kernel-by-kernel times (contract in kiln/kernel_times.h).
#include "kiln/kernel_times.h"
#include "kiln/roofline.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "kiln/error.h"
#include "kiln/model_abi.h"

extern "C" void (*kiln_kernel_clock)(int entry, int call) = nullptr;

namespace kiln {
namespace {

KernelTimes *active = nullptr;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Whether an SSE/AVX instruction on this thread took a subnormal operand since the last call:
// MXCSR's sticky DE flag (set only while denormals-are-zero is off), then clears the flags.
bool took_subnormal_operand() {
#if defined(__x86_64__) || defined(__i386__)
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(csr & ~0x3Fu);
  return csr & 0x2u;
#else
  return false;
#endif
}

double rounded(double us) { return std::round(us * 1000) / 1000; } // to the nanosecond

double median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (double(v[n / 2 - 1]) + v[n / 2]) / 2;
}

struct Limits {
  double gflops = 0, gbps = 0;
};

// The limits `kiln bench` measured on this CPU for this vector width and thread count; none
// where it has not (or the file is unreadable: the times are reported without a roofline).
Limits measuredLimits(int64_t lanes, int threads) {
  std::ifstream in(roofline::cacheFile());
  nlohmann::json cache = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  auto it = lanes > 0 && cache.is_object() ? cache.find(roofline::cacheKey(int(lanes), threads)) : cache.end();
  if (lanes <= 0 || !cache.is_object() || it == cache.end() || !it->is_object())
    return {};
  auto number = [&](const char *key) {
    return it->contains(key) && (*it)[key].is_number() ? (*it)[key].get<double>() : 0.0;
  };
  return {number("gflops"), number("gbps")};
}

// A call's work and, where the limits are known, its roofline beside its median time.
void addRoofline(nlohmann::ordered_json &kernel, const EntrySpec::Work &work, double us, const Limits &limits) {
  kernel["flops"] = work.flops;
  kernel["bytes"] = work.bytes;
  if (limits.gflops <= 0 || limits.gbps <= 0)
    return;
  roofline::Bound b = roofline::boundOf(work.flops, work.bytes, us, limits.gflops, limits.gbps);
  kernel["bound_us"] = rounded(b.boundUs);
  kernel["share"] = std::round(b.fraction * 1000) / 1000;
  kernel["limit"] = b.limit;
}

} // namespace

KernelTimes::KernelTimes(const Manifest &manifest, int threads)
    : manifest_(manifest), threads_(threads), us_(manifest.entries.size()), subnormal_runs_(manifest.entries.size()) {
  if (active)
    throw std::logic_error("only one KernelTimes at a time");
  active = this;
  kiln_kernel_clock = &KernelTimes::tick;
  took_subnormal_operand(); // what ran before the first kernel is not the kernel's
}

KernelTimes::~KernelTimes() { stop(); }

void KernelTimes::stop() {
  if (active != this)
    return;
  kiln_kernel_clock = nullptr;
  active = nullptr;
}

// Call i's duration is the time from its tick to the next one: the entry ticks once more
// after its last call.
void KernelTimes::tick(int entry, int call) {
  int64_t now = now_ns();
  if (entry < 0 || size_t(entry) >= active->us_.size())
    return;
  auto &calls = active->us_[size_t(entry)];
  auto &subnormal = active->subnormal_runs_[size_t(entry)];
  const bool took_subnormal = took_subnormal_operand();
  if (call > 0) {
    if (calls.size() < size_t(call)) {
      calls.resize(size_t(call));
      subnormal.resize(size_t(call));
    }
    calls[size_t(call) - 1].push_back(float(double(now - active->last_ns_) / 1e3));
    subnormal[size_t(call) - 1] += took_subnormal;
  }
  active->last_ns_ = now_ns(); // the clock's own cost is not charged to the next kernel
}

void KernelTimes::write(const std::string &path) const {
  using json = nlohmann::ordered_json;
  const Limits limits = measuredLimits(manifest_.vector_lanes, threads_);
  json entries = json::array();
  for (size_t e = 0; e < us_.size(); ++e) {
    if (us_[e].empty())
      continue;
    const EntrySpec &spec = manifest_.entries[e];
    json kernels = json::array();
    for (size_t c = 0; c < us_[e].size(); ++c) {
      const std::vector<float> &samples = us_[e][c];
      double total = 0;
      for (float us : samples)
        total += us;
      double us = samples.empty() ? 0.0 : median(samples);
      json kernel{{"name", c < spec.kernels.size() ? spec.kernels[c] : fmt::format("call {}", c)},
                  {"median_us", rounded(us)},
                  {"total_us", rounded(total)},
                  {"subnormal_runs", subnormal_runs_[e][c]}};
      if (c < spec.kernel_work.size())
        addRoofline(kernel, spec.kernel_work[c], us, limits);
      kernels.push_back(std::move(kernel));
    }
    entries.push_back({{"name", spec.name}, {"runs", us_[e].front().size()}, {"kernels", std::move(kernels)}});
  }
  std::ofstream out(path);
  out << json{{"entries", std::move(entries)}}.dump(1) << "\n";
  out.close(); // a full disk shows only when the buffer is flushed
  if (!out)
    throw UserError(fmt::format("{}: cannot write the kernel times", path));
}

} // namespace kiln
