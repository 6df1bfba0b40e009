// The training loop and the evaluation over a bound arena.
//
// Contract: train() runs optimizer steps t = start_step + 1, ..., steps across epochs (start_step
// > 0 continues a resumed run exactly: step t takes batch (t - 1) % B of epoch (t - 1) / B, B the
// loader's batches per epoch): it takes
// the loader's batches epoch by epoch (the last epoch possibly cut short), copies each batch into
// its entry's inputs, writes lr and t (as f32) into that entry's lr and step tensors (and
// (seed low, seed high, t, rank) into its random tensor, if it has one), times
// ModelAbi::run(entry) with steady_clock, reads the entry's loss, writes one metrics line, prints
// the batch with --print-batches, and prints "step   t  loss L" for t = 1, every log_every steps
// and the last step unless quiet. With eval_every > 0 (and an eval entry), every eval_every-th
// step and the last step also evaluate() the first eval_rows rows of *eval_data (0: all); that
// step's console line becomes "step   t  train loss L  <split> accuracy A" (classification) or
// "... <split> loss E", and its metrics line gets "<split>_loss" and "<split>_accuracy".
// The progress line (progress.h) is updated after every step when settings.progress is set.
// A failing step throws UserError naming the step; a NaN/inf loss
// is warned about once on stderr and training continues. steps > start_step with an epoch of no
// batches is a UserError.
// evaluate() runs the eval entry over the dataset in order (the first max_rows rows when >= 0),
// in chunks of its batch (rows past the
// last whole chunk are skipped), and returns the mean of the chunk losses, every output row by row
// and, for task "classification", the accuracy: argmax over the last dimension of the first f32
// output against the first i32 input (the first maximum wins, as in torch.argmax).
#ifndef KILN_TRAIN_H
#define KILN_TRAIN_H

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kiln/arena.h"
#include "kiln/datasets.h"
#include "kiln/loader.h"
#include "kiln/manifest.h"
#include "kiln/metrics.h"

namespace kiln {

// The symbols of model_abi.h, as values, so tests can run a model other than the linked one.
struct ModelAbi {
  const char *manifest;
  const char *model_ir;
  int (*bind)(uint8_t *arena);
  int (*run)(int entry);
  // A GPU build keeps parameters and optimizer state on the device: after the runtime writes
  // them into the arena (initial values, --init, --resume) it calls to_device, and before it
  // reads them (--save, --checkpoint) to_host. Null, or no-ops, for a host build.
  int (*to_device)() = nullptr;
  int (*to_host)() = nullptr;
};

struct TrainSettings {
  int64_t steps = 1;      // the last optimizer step; 0 trains nothing
  int64_t start_step = 0; // steps done before this run (a resumed checkpoint's)
  double lr = 0;
  // The generator's key of the steps that draw random numbers (dropout): the run's seed and
  // this process's rank, with the step t.
  uint64_t seed = 0;
  int64_t rank = 0;
  int64_t log_every = 10;
  bool quiet = false;
  bool print_batches = false;
  bool warn = true;      // print warnings (a non-finite loss) on stderr
  bool progress = false; // draw the progress line (a terminal only)
  // A non-finite loss stops the run (UserError naming the step; nothing is saved after it),
  // else it is warned about once and training goes on.
  bool stop_on_nonfinite = true;
  // > 0: after every this many steps (but the last), `checkpoint` is called with the step.
  int64_t checkpoint_every = 0;
  std::function<void(int64_t step)> checkpoint;
  // Periodic evaluation; off when eval_every is 0 or eval_data is null.
  int64_t eval_every = 0;
  int64_t eval_rows = 0; // the first rows of eval_data; 0: all
  const Dataset *eval_data = nullptr;
  std::string eval_split = "test"; // names the data: "test", or "eval" for the training data
};

// One periodic evaluation: the step after which it ran and what it measured.
struct EvalPoint {
  int64_t step = 0;
  double loss = NAN;
  double accuracy = NAN; // NaN unless classification
};

struct TrainResult {
  // The loss and time of every `stride`-th step from first_step (losses[i] is step
  // first_step + i * stride): when kMaxRecords are held, every other one is dropped and the
  // stride doubles, so a run of any length keeps a bounded, evenly spaced record for the
  // picture and the median.
  static constexpr size_t kMaxRecords = size_t(1) << 20;
  std::vector<float> losses;
  std::vector<double> step_ms;
  int64_t first_step = 1;
  int64_t stride = 1;
  int64_t steps_run = 0;
  float last_loss = NAN;
  std::vector<EvalPoint> evals;
  int last_entry = -1; // the entry of the last step, -1 when none ran
  void record(float loss, double ms);
  float final_loss() const { return last_loss; }
  double median_step_ms() const;
};

TrainResult train(const ModelAbi &model, const Manifest &manifest, Arena &arena, const Dataset &data,
                  const Loader &loader, const TrainSettings &settings, MetricsWriter &metrics);

struct EvalResult {
  int64_t rows = 0;    // rows evaluated: chunks * batch
  int64_t skipped = 0; // rows past the last whole chunk
  double loss = NAN;   // mean over the chunks
  Dataset outputs;     // every output of the eval entry, (rows, ...row shape)
  bool classified = false;
  std::vector<int32_t> predicted; // classification: argmax per row
  int64_t correct = 0;
  double accuracy() const { return predicted.empty() ? NAN : double(correct) / double(predicted.size()); }
};

// Throws UserError when the model has no eval entry, a chunk fails, or a classification model
// lacks the i32 labels input or the f32 scores output.
EvalResult evaluate(const ModelAbi &model, const Manifest &manifest, Arena &arena, const Dataset &data,
                    int64_t max_rows = -1);

// The console form of a loss: 6 decimals, or scientific when that would hide the value.
std::string format_loss(float loss);

} // namespace kiln

#endif
