// Per-step metrics as JSON lines, and reading them back (for kiln-plot).
//
// Contract: write() appends {"step": t, "epoch": e, "loss": L, "step_ms": ms, "lr": lr[, extra...]};
// write_final() appends {"final": true, "step": T, "eval_loss": L[, "accuracy": A][, extra...]};
// `extra` adds numeric fields in the given order, e.g. "test_accuracy" on the steps where the
// test split was evaluated, "peak_rss_mb" on the final line. Losses have
// 9 significant digits (a float round-trips exactly); a non-finite value is written as null so
// every line stays valid JSON. Each line is flushed, so a run that dies keeps its metrics so far.
// read_loss_curve() returns the (step, loss) pairs of a metrics file's step lines, skipping null
// losses and the final line; it throws UserError naming the file and line for a missing file, a
// line that is not a JSON object, or a step line without a numeric "step" and a "loss".
#ifndef KILN_METRICS_H
#define KILN_METRICS_H

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kiln {

class MetricsWriter {
public:
  MetricsWriter() = default; // disabled until open(): write() does nothing
  ~MetricsWriter();
  MetricsWriter(const MetricsWriter &) = delete;
  MetricsWriter &operator=(const MetricsWriter &) = delete;

  void open(const std::string &path); // truncates; throws UserError if it cannot
  using Extra = std::vector<std::pair<std::string, double>>;
  void write(int64_t step, int64_t epoch, float loss, double step_ms, double lr, const Extra &extra = {});
  void write_final(int64_t steps, double eval_loss, std::optional<double> accuracy, const Extra &extra = {});
  void close(); // throws UserError when buffered lines could not be written

private:
  std::string path_;
  std::FILE *file_ = nullptr;
};

struct LossCurve {
  std::vector<double> step, loss;
};
LossCurve read_loss_curve(const std::string &path);

} // namespace kiln

#endif
