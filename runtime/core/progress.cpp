// The progress line and peak memory (contract in kiln/progress.h).
#include "kiln/progress.h"

#include <sys/resource.h>

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "kiln/train.h"

namespace kiln {
namespace {

// "0:07", "12:34", "1:02:03".
std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    return "?";
  const int64_t s = int64_t(std::llround(seconds));
  if (s >= 3600)
    return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

} // namespace

std::string format_progress(int64_t step, int64_t first_step, int64_t total, double elapsed_s, float loss) {
  const double done = double(step - first_step);
  const double rate = elapsed_s > 0 && done > 0 ? done / elapsed_s : NAN;
  const double percent = total > 0 ? 100.0 * double(step) / double(total) : 100.0;
  const double eta = std::isfinite(rate) ? double(total - step) / rate : NAN;
  const std::string rate_text = std::isfinite(rate) ? fmt::format("{:.1f} steps/s", rate) : "? steps/s";
  return fmt::format("step {}/{}  {:.1f}%  {}  ETA {}  loss {}", step, total, percent, rate_text, format_duration(eta),
                     format_loss(loss));
}

ProgressLine::ProgressLine(bool enabled, int64_t first_step, int64_t total)
    : enabled_(enabled), first_step_(first_step), total_(total), start_(std::chrono::steady_clock::now()) {}

void ProgressLine::update(int64_t step, float loss) {
  if (!enabled_)
    return;
  const auto now = std::chrono::steady_clock::now();
  if (shown_ && step != total_ && now - last_draw_ < std::chrono::milliseconds(100))
    return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  fmt::print("\r{}\033[K", format_progress(step, first_step_, total_, elapsed, loss));
  std::fflush(stdout);
  shown_ = true;
}

void ProgressLine::clear() {
  if (!shown_)
    return;
  fmt::print("\r\033[K");
  std::fflush(stdout);
  shown_ = false;
}

double peak_rss_mb() {
  struct rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0)
    return NAN;
  return double(usage.ru_maxrss) / 1024.0;
}

} // namespace kiln
