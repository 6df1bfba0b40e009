// JSON-lines metrics (contract in kiln/metrics.h).
#include "kiln/metrics.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "kiln/error.h"

namespace kiln {

void MetricsWriter::open(const std::string &path) {
    close();
    path_ = path;
    file_ = std::fopen(path.c_str(), "w");
    if (!file_) throw UserError(fmt::format("{}: cannot open for metrics: {}", path, std::strerror(errno)));
}

MetricsWriter::~MetricsWriter() {
    if (file_) std::fclose(file_);
}

void MetricsWriter::write(int64_t step, float loss, double step_ms, double lr) {
    if (!file_) return;
    // JSON has no NaN or Infinity; null keeps the line parseable and says "no value".
    std::string loss_text = std::isfinite(loss) ? fmt::format("{:.9g}", loss) : "null";
    fmt::print(file_, "{{\"step\": {}, \"loss\": {}, \"step_ms\": {:.6g}, \"lr\": {:.9g}}}\n", step, loss_text,
               step_ms, lr);
    std::fflush(file_);
}

void MetricsWriter::close() {
    if (!file_) return;
    bool failed = std::ferror(file_) != 0;
    failed |= std::fclose(file_) != 0;
    file_ = nullptr;
    if (failed) throw UserError(fmt::format("{}: could not write all metrics", path_));
}

}  // namespace kiln
