// The live progress line of a terminal, and the process's peak memory.
//
// Contract: a ProgressLine made with enabled = false prints nothing, ever (run_model enables it
// only when stdout is a terminal and --quiet is off, so pipes, files and tests never see it).
// Enabled, update() rewrites one line in place ("\r", the text, erase to end of line) at most
// every 100 ms and always for the last step; clear() erases it, so a regular line printed next
// starts at column 0, and the next update() draws it again below that line. The text is
// format_progress(): "step 123/1200  10.3%  85.3 steps/s  ETA 0:13  loss 0.4123", the rate and
// the ETA measured over the steps of this run (a resumed run counts from where it started).
// peak_rss_mb() is getrusage's ru_maxrss (kilobytes on Linux) / 1024: the high-water mark of the
// process's resident memory so far, in MiB ("MB" in the output, as top and PyTorch users read it).
#ifndef KILN_PROGRESS_H
#define KILN_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <string>

namespace kiln {

std::string format_progress(int64_t step, int64_t first_step, int64_t total, double elapsed_s, float loss);

class ProgressLine {
public:
  // first_step: the steps already done when this run started; total: the last step.
  ProgressLine(bool enabled, int64_t first_step, int64_t total);
  ~ProgressLine() { clear(); }
  void update(int64_t step, float loss);
  void clear();
  bool enabled() const { return enabled_; }

private:
  bool enabled_, shown_ = false;
  int64_t first_step_, total_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

double peak_rss_mb();

} // namespace kiln

#endif
