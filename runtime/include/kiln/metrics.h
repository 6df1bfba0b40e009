// Per-step metrics as JSON lines.
//
// Contract: one JSON object per line, {"step": t, "loss": L, "step_ms": ms, "lr": lr}, the loss
// with 9 significant digits (a float round-trips exactly), a non-finite loss written as null so
// every line stays valid JSON. Each line is flushed, so a run that dies keeps its metrics so far.
#ifndef KILN_METRICS_H
#define KILN_METRICS_H

#include <cstdint>
#include <cstdio>
#include <string>

namespace kiln {

class MetricsWriter {
  public:
    MetricsWriter() = default;  // disabled until open(): write() does nothing
    ~MetricsWriter();
    MetricsWriter(const MetricsWriter &) = delete;
    MetricsWriter &operator=(const MetricsWriter &) = delete;

    void open(const std::string &path);  // truncates; throws UserError if it cannot
    void write(int64_t step, float loss, double step_ms, double lr);
    void close();  // throws UserError when buffered lines could not be written

  private:
    std::string path_;
    std::FILE *file_ = nullptr;
};

}  // namespace kiln

#endif
