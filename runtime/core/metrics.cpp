// JSON-lines metrics (contract in kiln/metrics.h).
#include "kiln/metrics.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

#include "kiln/error.h"

namespace kiln {
namespace {

// JSON has no NaN or Infinity; null keeps the line parseable and says "no value".
std::string number(double v) { return std::isfinite(v) ? fmt::format("{:.9g}", v) : "null"; }

std::string fields(const MetricsWriter::Extra &extra) {
  std::string out;
  for (const auto &[key, value] : extra)
    out += fmt::format(", \"{}\": {}", key, number(value));
  return out;
}

} // namespace

void MetricsWriter::open(const std::string &path) {
  close();
  path_ = path;
  file_ = std::fopen(path.c_str(), "w");
  if (!file_)
    throw UserError(fmt::format("{}: cannot open for metrics: {}", path, std::strerror(errno)));
}

MetricsWriter::~MetricsWriter() {
  if (file_)
    std::fclose(file_);
}

void MetricsWriter::write(int64_t step, int64_t epoch, float loss, double step_ms, double lr, const Extra &extra) {
  if (!file_)
    return;
  fmt::print(file_, "{{\"step\": {}, \"epoch\": {}, \"loss\": {}, \"step_ms\": {:.6g}, \"lr\": {:.9g}{}}}\n", step,
             epoch, number(loss), step_ms, lr, fields(extra));
  std::fflush(file_);
}

void MetricsWriter::write_final(int64_t steps, double eval_loss, std::optional<double> accuracy, const Extra &extra) {
  if (!file_)
    return;
  std::string acc = accuracy ? fmt::format(", \"accuracy\": {}", number(*accuracy)) : "";
  fmt::print(file_, "{{\"final\": true, \"step\": {}, \"eval_loss\": {}{}{}}}\n", steps, number(eval_loss), acc,
             fields(extra));
  std::fflush(file_);
}

void MetricsWriter::close() {
  if (!file_)
    return;
  bool failed = std::ferror(file_) != 0;
  failed |= std::fclose(file_) != 0;
  file_ = nullptr;
  if (failed)
    throw UserError(fmt::format("{}: could not write all metrics", path_));
}

LossCurve read_loss_curve(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw UserError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  LossCurve curve;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
      throw UserError(fmt::format("{}:{}: not a JSON object (is this a metrics file?)", path, number));
    if (auto fin = j.find("final"); fin != j.end() && fin->is_boolean() && fin->get<bool>())
      continue;
    auto step = j.find("step"), loss = j.find("loss");
    if (step == j.end() || !step->is_number() || loss == j.end() || !(loss->is_number() || loss->is_null()))
      throw UserError(fmt::format("{}:{}: a metrics line needs a numeric \"step\" and \"loss\"", path, number));
    if (loss->is_null())
      continue; // a diverged step: nothing to draw
    curve.step.push_back(step->get<double>());
    curve.loss.push_back(loss->get<double>());
  }
  if (in.bad())
    throw UserError(fmt::format("{}: cannot read", path));
  return curve;
}

} // namespace kiln
