// The training loop and the evaluation (contract in kiln/train.h).
#include "kiln/train.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <optional>

#include "kiln/error.h"
#include "kiln/kernel_errors.h"
#include "kiln/progress.h"
#include "kiln/ranks.h"

// Bytes a GPU build's runs copied between host and device so far (the model's host module
// counts them; kiln's test binaries have none).
extern "C" __attribute__((weak)) int64_t *kiln_device_bytes;

namespace kiln {
namespace {

// The count so far; 0 where the binary has no counter.
int64_t device_bytes() { return &kiln_device_bytes && kiln_device_bytes ? *kiln_device_bytes : 0; }

// The scalars of one train entry, looked up once rather than every step.
struct EntryScalars {
  const TensorSpec *lr = nullptr, *step = nullptr, *loss = nullptr, *key = nullptr;
};

// Each train entry's scalars, indexed by entry. Present: parse_manifest checked that every train
// entry has one lr, step and loss (and at most one key).
std::vector<EntryScalars> entry_scalars(const Manifest &manifest) {
  std::vector<EntryScalars> scalars(manifest.entries.size());
  for (size_t e = 0; e < manifest.entries.size(); ++e)
    if (manifest.entries[e].kind == EntryKind::train)
      scalars[e] = {manifest.find_role(Role::Lr, int(e)), manifest.find_role(Role::Step, int(e)),
                    manifest.find_role(Role::Loss, int(e)), manifest.find_role(Role::Random, int(e))};
  return scalars;
}

// What the steps of one train() call share.
struct TrainLoop {
  const ModelAbi &model;
  const Manifest &manifest;
  Arena &arena;
  const Dataset &data;
  const Loader &loader;
  const TrainSettings &settings;
  MetricsWriter &metrics;
  ProgressLine &progress;
  TrainResult &result;
  std::vector<EntryScalars> scalars;
  bool periodic;       // evaluate every eval_every steps and at the last
  int width;           // of the step column
  bool warned = false; // about a non-finite loss, which is warned about once
};

// Writes step t's lr, step number and (where the entry draws random numbers) generator key.
void write_step_scalars(const TrainLoop &loop, const EntryScalars &entry, int64_t t) {
  const TrainSettings &settings = loop.settings;
  *loop.arena.f32(*entry.lr) = float(settings.lr);
  // f32 holds every integer up to 2^24 exactly, far beyond any step count here.
  *loop.arena.f32(*entry.step) = float(t);
  if (entry.key) {
    const uint32_t values[4] = {uint32_t(settings.seed), uint32_t(settings.seed >> 32), uint32_t(t),
                                uint32_t(settings.rank)};
    std::memcpy(loop.arena.i32(*entry.key), values, sizeof values);
  }
}

// Runs the entry of step t; returns how long it took in ms.
double timed_step(const TrainLoop &loop, int entry, int64_t t) {
  auto start = std::chrono::steady_clock::now();
  int rc = loop.model.run(entry);
  auto stop = std::chrono::steady_clock::now();
  if (rc != 0) {
    loop.progress.clear();
    throw UserError(fmt::format("training step {} (entry '{}') failed with error code {}{}", t,
                                loop.manifest.entries[size_t(entry)].name, rc, kernel_error_detail(loop.manifest)));
  }
  return std::chrono::duration<double, std::milli>(stop - start).count();
}

// The periodic evaluation after step t: recorded in the result and the metrics' extras; returns
// what the step's console line says of it.
std::string periodic_eval(const TrainLoop &loop, int64_t t, MetricsWriter::Extra &extra) {
  const TrainSettings &settings = loop.settings;
  EvalResult ev = evaluate(loop.model, loop.manifest, loop.arena, *settings.eval_data,
                           settings.eval_rows > 0 ? settings.eval_rows : -1);
  EvalPoint point{t, ev.loss, ev.classified ? ev.accuracy() : NAN};
  loop.result.evals.push_back(point);
  extra.push_back({settings.eval_split + "_loss", point.loss});
  if (ev.classified) {
    extra.push_back({settings.eval_split + "_accuracy", point.accuracy});
    return fmt::format("{} accuracy {:.4f}", settings.eval_split, point.accuracy);
  }
  return fmt::format("{} loss {:.4f}", settings.eval_split, point.loss);
}

// A non-finite loss stops the run, or is warned about once.
void check_finite_loss(TrainLoop &loop, float l, int64_t t) {
  if (!std::isfinite(l) && loop.settings.stop_on_nonfinite) {
    loop.progress.clear();
    throw UserError(fmt::format("the loss is {} at step {}: training diverged and stops here, saving "
                                "nothing (try a smaller --lr; --on-nonfinite warn trains on)",
                                l, t));
  }
  if (!std::isfinite(l) && !loop.warned && loop.settings.warn) {
    loop.progress.clear();
    fmt::print(stderr,
               "warning: the loss is {} at step {}; training continues, but diverged "
               "(try a smaller --lr)\n",
               l, t);
    loop.warned = true;
  }
}

// The console line of step t: always with a periodic evaluation, else at the first, every
// log_every-th and the last step.
void print_step_line(const TrainLoop &loop, int64_t t, float l, const std::string &measured) {
  const TrainSettings &settings = loop.settings;
  if (!settings.quiet && !measured.empty()) {
    loop.progress.clear();
    fmt::print("step {:>{}}  train loss {:.4f}  {}\n", t, loop.width, l, measured);
  } else if (!settings.quiet && (t == 1 || t % settings.log_every == 0 || t == settings.steps)) {
    loop.progress.clear();
    fmt::print("step {:>{}}  loss {}\n", t, loop.width, format_loss(l));
  }
}

// Optimizer step t, on `batch` of `epoch`: inputs and scalars in, the run, then its loss
// recorded, measured, reported and checkpointed.
void train_step(TrainLoop &loop, const Batch &batch, int64_t t, int64_t epoch) {
  const TrainSettings &settings = loop.settings;
  loop.loader.copy(batch, loop.arena);
  const EntryScalars &entry = loop.scalars[size_t(batch.entry)];
  write_step_scalars(loop, entry, t);
  if (settings.print_batches) {
    loop.progress.clear();
    fmt::print("{}\n", format_batch(loop.manifest, loop.data, batch));
  }
  const int64_t crossed = device_bytes();
  const double ms = timed_step(loop, batch.entry, t);
  float l = *loop.arena.f32(*entry.loss);
  loop.result.record(l, ms);
  loop.result.last_entry = batch.entry;

  MetricsWriter::Extra extra;
  if (loop.manifest.device != "host")
    extra.push_back({"device_bytes", double(device_bytes() - crossed)});
  std::string measured;
  if (loop.periodic && (t % settings.eval_every == 0 || t == settings.steps))
    measured = periodic_eval(loop, t, extra);
  loop.metrics.write(t, epoch, l, ms, settings.lr, extra);
  check_finite_loss(loop, l, t);
  print_step_line(loop, t, l, measured);
  loop.progress.update(t, l);
  if (settings.checkpoint_every > 0 && t % settings.checkpoint_every == 0 && t < settings.steps) {
    loop.progress.clear();
    settings.checkpoint(t);
  }
}

// The eval entry's outputs for `rows` rows, zeroed, in the entry's order.
Dataset zeroed_outputs(const std::vector<const TensorSpec *> &outputs, int64_t rows) {
  Dataset result;
  for (const TensorSpec *out : outputs) {
    DataTensor t;
    t.name = out->name;
    t.dtype = out->dtype;
    t.shape = out->shape;
    t.shape[0] = rows;
    (t.dtype == DType::i32 ? t.i32.resize(size_t(rows) * out->row_numel())
                           : t.f32.resize(size_t(rows) * out->row_numel()));
    result.tensors.push_back(std::move(t));
  }
  return result;
}

// A classification model's scores output and labels input in the eval entry.
struct ClassTensors {
  const TensorSpec *scores = nullptr, *labels = nullptr;
};

// The first f32 output of one dimension per row and the first i32 input of one value per row.
ClassTensors find_class_tensors(const Manifest &manifest, int entry, const std::vector<const TensorSpec *> &outputs) {
  ClassTensors found;
  for (const TensorSpec *out : outputs)
    if (!found.scores && out->dtype == DType::f32 && out->row_shape().size() == 1)
      found.scores = out;
  for (const TensorSpec *in : manifest.entry_tensors(entry, Role::Input))
    if (!found.labels && in->dtype == DType::i32 && in->row_numel() == 1)
      found.labels = in;
  if (!found.scores || !found.labels) {
    const int64_t batch = manifest.entries[size_t(entry)].batch;
    throw UserError(fmt::format("task 'classification' needs an i32 labels input of shape [{}] and an f32 "
                                "scores output of shape [{}, classes] in eval entry '{}'",
                                batch, batch, manifest.entries[size_t(entry)].name));
  }
  return found;
}

// The argmax of each row of chunk c's scores (the first maximum wins, NaN above all), counted
// against its labels.
void record_predictions(Arena &arena, const ClassTensors &tensors, int64_t batch, int64_t c, EvalResult &result) {
  const float *s = arena.f32(*tensors.scores);
  const int32_t *y = arena.i32(*tensors.labels);
  const int64_t classes = tensors.scores->shape[1];
  for (int64_t i = 0; i < batch; ++i) {
    const float *row = s + i * classes;
    int32_t best =
        int32_t(std::max_element(row, row + classes,
                                 [](float a, float b) { return a < b || (std::isnan(b) && !std::isnan(a)); }) -
                row);
    result.predicted[size_t(c * batch + i)] = best;
    result.correct += best == y[i];
  }
}

// Adds up what each rank of a data-parallel run measured: the loss sum, the correct count, the
// outputs and the predictions (every rank's rows of the others are 0).
void sum_eval_over_ranks(double &loss_sum, EvalResult &result) {
  double sums[2] = {loss_sum, double(result.correct)};
  sum_over_ranks(sums, 2);
  loss_sum = sums[0];
  result.correct = int64_t(sums[1]);
  for (DataTensor &t : result.outputs.tensors)
    t.dtype == DType::i32 ? sum_over_ranks(t.i32.data(), t.i32.size()) : sum_over_ranks(t.f32.data(), t.f32.size());
  sum_over_ranks(result.predicted.data(), result.predicted.size());
}

} // namespace

void TrainResult::record(float loss, double ms) {
  if (steps_run++ % stride == 0) {
    losses.push_back(loss);
    step_ms.push_back(ms);
  }
  last_loss = loss;
  if (losses.size() == kMaxRecords) {
    for (size_t i = 0; 2 * i < losses.size(); ++i)
      losses[i] = losses[2 * i], step_ms[i] = step_ms[2 * i];
    losses.resize((losses.size() + 1) / 2);
    step_ms.resize(losses.size());
    stride *= 2;
  }
}

double TrainResult::median_step_ms() const {
  if (step_ms.empty())
    return 0;
  std::vector<double> sorted = step_ms;
  std::sort(sorted.begin(), sorted.end());
  size_t mid = sorted.size() / 2;
  return sorted.size() % 2 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
}

std::string format_loss(float loss) {
  float mag = std::fabs(loss);
  if (std::isfinite(loss) && mag != 0 && mag < 1e-3f)
    return fmt::format("{:.3e}", loss);
  return fmt::format("{:.6f}", loss);
}

TrainResult train(const ModelAbi &model, const Manifest &manifest, Arena &arena, const Dataset &data,
                  const Loader &loader, const TrainSettings &settings, MetricsWriter &metrics) {
  TrainResult result;
  result.first_step = settings.start_step + 1;
  if (settings.steps <= settings.start_step)
    return result;
  const int64_t per_epoch = loader.batches_per_epoch();
  if (per_epoch == 0)
    throw UserError(fmt::format("the dataset's {} rows make no batch of {} ({}); nothing can train", data.rows(),
                                manifest.train.batch, loader.tail_note()));
  const bool periodic = settings.eval_every > 0 && settings.eval_data && manifest.eval_entry() >= 0;

  // Step numbers line up in a column as wide as the last one.
  const int width = std::max<int>(3, int(std::to_string(settings.steps).size()));
  const size_t ahead = size_t(std::min<int64_t>(settings.steps - settings.start_step, TrainResult::kMaxRecords));
  result.losses.reserve(ahead);
  result.step_ms.reserve(ahead);
  ProgressLine progress(settings.progress && !settings.quiet, settings.start_step, settings.steps);
  TrainLoop loop{model,    manifest, arena, data, loader, settings, metrics, progress, result, entry_scalars(manifest),
                 periodic, width};
  int64_t t = settings.start_step;
  for (int64_t epoch = t / per_epoch; t < settings.steps; ++epoch) {
    const std::vector<Batch> batches = loader.batches(epoch);
    for (size_t b = size_t(t % per_epoch); b < batches.size() && t < settings.steps; ++b) {
      ++t;
      train_step(loop, batches[b], t, epoch);
    }
  }
  progress.clear();
  return result;
}

EvalResult evaluate(const ModelAbi &model, const Manifest &manifest, Arena &arena, const Dataset &data,
                    int64_t max_rows) {
  const int entry = manifest.eval_entry();
  if (entry < 0)
    throw UserError(fmt::format("model '{}' has no eval entry", manifest.model));
  const int64_t available = max_rows >= 0 ? std::min(max_rows, data.rows()) : data.rows();
  const int64_t batch = manifest.entries[size_t(entry)].batch, chunks = available / batch;
  std::vector<const TensorSpec *> outputs = manifest.entry_tensors(entry, Role::Output);

  EvalResult result;
  result.rows = chunks * batch;
  result.skipped = available - result.rows;
  result.outputs = zeroed_outputs(outputs, result.rows);
  std::optional<ClassTensors> class_tensors;
  if (manifest.train.task == "classification") {
    class_tensors = find_class_tensors(manifest, entry, outputs);
    result.classified = true;
    result.predicted.assign(size_t(result.rows), 0);
  }

  // A data-parallel run splits the chunks between ranks (chunk c on rank c % ranks) and adds up
  // what each measured; every other row of a rank's outputs is 0, so the sums assemble them.
  const RankInfo &rank = ranks();
  double loss_sum = 0;
  std::vector<int64_t> rows(static_cast<size_t>(batch));
  for (int64_t c = 0; c < chunks; ++c) {
    if (c % rank.size != rank.rank)
      continue;
    std::iota(rows.begin(), rows.end(), c * batch);
    copy_rows(manifest, data, entry, rows, arena);
    if (int rc = model.run(entry); rc != 0)
      throw UserError(fmt::format("evaluation of rows {}..{} (entry '{}') failed with error code {}{}", c * batch,
                                  (c + 1) * batch - 1, manifest.entries[size_t(entry)].name, rc,
                                  kernel_error_detail(manifest)));
    loss_sum += *arena.f32(*manifest.find_role(Role::Loss, entry));
    for (size_t o = 0; o < outputs.size(); ++o) {
      DataTensor &t = result.outputs.tensors[o];
      std::memcpy(t.row(c * batch), arena.at(*outputs[o]), outputs[o]->bytes());
    }
    if (class_tensors)
      record_predictions(arena, *class_tensors, batch, c, result);
  }
  if (rank.size > 1)
    sum_eval_over_ranks(loss_sum, result);
  if (chunks > 0)
    result.loss = loss_sum / double(chunks);
  return result;
}

} // namespace kiln
