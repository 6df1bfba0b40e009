// The training binary's logic: flags -> manifest -> arena -> init/data -> loop -> eval -> outputs
// (contract in kiln/runtime_main.h). Each step is one call into its own module; this file only
// orders them and turns exceptions into exit codes.
#include "kiln/runtime_main.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <new>
#include <optional>

#include "kiln/checkpoint.h"
#include "kiln/contract.h"
#include "kiln/datasets.h"
#include "kiln/denormals.h"
#include "kiln/error.h"
#include "kiln/kernel_errors.h"
#include "kiln/flags.h"
#include "kiln/init.h"
#include "kiln/kernel_dump.h"
#include "kiln/kernel_times.h"
#include "kiln/loader.h"
#include "kiln/model_abi.h"
#include "kiln/numpy_print.h"
#include "kiln/output_paths.h"
#include "kiln/plot.h"
#include "kiln/progress.h"
#include "kiln/ranks.h"
#include "kiln/tensor_io.h"

// Provided by the Halide runtime inside the compiled model; weak so that binaries without Halide
// kernels (and the runtime's tests) link without it.
extern "C" int halide_set_num_threads(int n) __attribute__((weak));
extern "C" void halide_set_gpu_device(int n) __attribute__((weak));

namespace kiln {
namespace {

std::string program_name(int argc, char **argv) {
  std::string p = argc > 0 && argv[0] ? argv[0] : "kiln-model";
  return p.substr(p.rfind('/') + 1);
}

// Fails before training rather than after it, when the result could not be written anyway.
// Before a checkpoint replaces `path`, the last `keep` - 1 are kept: path.(i) moves to
// path.(i+1) and path itself becomes path.1 (a hard link: path stays complete until the new one
// replaces it atomically). What falls beyond `keep` is removed.
void rotate_checkpoints(const std::string &path, int keep) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (keep <= 1 || !fs::exists(path, ec))
    return;
  auto older = [&](int i) { return path + "." + std::to_string(i); };
  fs::remove(older(keep - 1), ec);
  for (int i = keep - 2; i >= 1; --i)
    if (fs::exists(older(i), ec))
      fs::rename(older(i), older(i + 1), ec);
  fs::create_hard_link(path, older(1), ec);
  if (ec)
    throw UserError(fmt::format("{}: cannot keep the previous checkpoint as {}: {}", path, older(1), ec.message()));
}

// Three decimals, the useful precision for real kernels; tiny models keep three significant digits.
std::string format_ms(double ms) { return ms >= 0.001 ? fmt::format("{:.3f}", ms) : fmt::format("{:.3g}", ms); }

bool ends_with(const std::string &s, const char *suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// Values of a one-feature f32 tensor, the first `rows` rows.
std::vector<float> first_rows(const DataTensor &t, int64_t rows) {
  return std::vector<float>(t.f32.begin(), t.f32.begin() + rows);
}

const DataTensor *single_feature_f32(const Dataset &d, const char *name) {
  const DataTensor *t = d.find(name);
  return t && t->dtype == DType::f32 && t->row_numel() == 1 ? t : nullptr;
}

const DataTensor *first_single_feature_output(const Dataset &outputs) {
  for (const DataTensor &t : outputs.tensors)
    if (t.dtype == DType::f32 && t.row_numel() == 1)
      return &t;
  return nullptr;
}

// The CSV of --predictions: the eval entry's inputs, then its outputs, one row per sample. Written
// as it goes: an image set's CSV is tens of MB, which must not sit in memory.
void write_predictions(const std::string &path, const Manifest &manifest, const Dataset &data, const EvalResult &ev) {
  std::vector<const DataTensor *> columns;
  for (const TensorSpec *in : manifest.entry_tensors(manifest.eval_entry(), Role::Input))
    columns.push_back(data.find(in->name));
  for (const DataTensor &out : ev.outputs.tensors)
    columns.push_back(&out);
  std::FILE *f = std::fopen(path.c_str(), "w");
  if (!f)
    throw UserError(fmt::format("{}: cannot write the predictions: {}", path, std::strerror(errno)));
  std::string text;
  auto flush = [&] {
    if (!text.empty() && std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
      std::fclose(f);
      throw UserError(fmt::format("{}: cannot write the predictions", path));
    }
    text.clear();
  };
  for (const DataTensor *c : columns) {
    const uint64_t n = c->row_numel();
    for (uint64_t i = 0; i < n; ++i)
      text += (text.empty() ? "" : ",") + (n == 1 ? c->name : fmt::format("{}_{}", c->name, i));
  }
  if (ev.classified)
    text += ",predicted_class";
  text += '\n';
  for (int64_t r = 0; r < ev.rows; ++r) {
    bool first = true;
    for (const DataTensor *c : columns) {
      const uint64_t n = c->row_numel();
      for (uint64_t i = 0; i < n; ++i, first = false) {
        if (!first)
          text += ',';
        text += c->dtype == DType::i32 ? std::to_string(c->i32[r * n + i])
                                       : fmt::format("{:.9g}", c->value(uint64_t(r) * n + i));
      }
    }
    if (ev.classified)
      text += fmt::format(",{}", ev.predicted[size_t(r)]);
    text += '\n';
    if (text.size() > (1 << 16))
      flush();
  }
  flush();
  if (std::fclose(f) != 0)
    throw UserError(fmt::format("{}: cannot write the predictions", path));
}

// A data-parallel run's exchanges: per step, what the all-reduces moved and how long rank 0
// waited for them, against what the same exchanges take with nothing to hide them behind.
// `quiet` must be the same on every rank: the blocking exchanges are collective.
void report_communication(const Manifest &manifest, bool quiet, bool prints) {
  if (quiet)
    return;
  const CommStats stats = comm_stats();
  if (stats.steps == 0)
    return; // one step: nothing measured past the start-up
  const double steps = double(stats.steps), wait = stats.wait_ms / steps;
  if (manifest.device != "host") { // NCCL's exchanges run on the GPU's stream, not timed here
    if (prints)
      fmt::print("all-reduce per step: {} exchanges, {} bytes, on the GPU\n",
                 int64_t(double(stats.all_reduces) / steps + 0.5), int64_t(double(stats.bytes) / steps + 0.5));
    return;
  }
  std::vector<int64_t> elements;
  for (const CollectiveSpec &c : manifest.entries[0].collectives)
    elements.push_back(c.elements);
  const double blocking = blocking_all_reduce_ms(elements, 21);
  if (!prints)
    return;
  fmt::print("all-reduce per step: {} exchanges, {} bytes, {:.0f}% of the bytes done behind compute when "
             "waited for; waited {} ms (the others' compute included; blocking, the same exchanges take {} ms)\n",
             int64_t(double(stats.all_reduces) / steps + 0.5), int64_t(double(stats.bytes) / steps + 0.5),
             stats.bytes > 0 ? 100.0 * double(stats.bytes_done_before_wait) / double(stats.bytes) : 0.0,
             format_ms(wait), format_ms(blocking));
}

// The numbers a run's picture is drawn from.
struct Outcome {
  const Dataset *eval_data = nullptr; // what the final evaluation ran on
  TrainResult result;
  EvalResult ev;
  std::string split; // "test" or "eval"
};

// The picture: the classes of 2-feature points, the fit of 1-feature data, else the training
// curves (loss per step and the periodic evaluations). Returns what is missing, "" when drawn.
std::string draw_picture(const std::string &picture, const Manifest &manifest, Arena &arena, const Dataset &data,
                         const Outcome &o) {
  const int eval = manifest.eval_entry();
  const EvalResult &ev = o.ev;
  const TrainResult &result = o.result;
  if (manifest.train.task == "classification") {
    const DataTensor *x = o.eval_data ? o.eval_data->find("x") : nullptr;
    if (x && x->dtype == DType::f32 && !x->as_bytes && x->row_numel() == 2 && !ev.predicted.empty()) {
      ClassPlot plot;
      plot.title = fmt::format("{}: accuracy {:.3f}", manifest.model, ev.accuracy());
      for (int64_t r = 0; r < ev.rows; ++r)
        plot.x0.push_back(x->f32[2 * r]), plot.x1.push_back(x->f32[2 * r + 1]);
      plot.predicted = ev.predicted;
      plot_classes_svg(picture, plot);
      return "";
    }
  } else {
    const DataTensor *x = single_feature_f32(data, "x"), *y = single_feature_f32(data, "y");
    FitPlot plot;
    float loss = result.final_loss();
    if (x && y && ev.rows > 0 && o.eval_data == &data && first_single_feature_output(ev.outputs)) {
      plot.fit_x = first_rows(*x, ev.rows);
      plot.fit = first_rows(*first_single_feature_output(ev.outputs), ev.rows);
      loss = float(ev.loss);
    } else if (x && y && eval < 0 && result.last_entry >= 0) {
      // No eval entry: the forward of the last step, over its batch.
      const TensorSpec *bx = manifest.find("x", result.last_entry);
      for (const TensorSpec *out : manifest.entry_tensors(result.last_entry, Role::Output)) {
        if (out->dtype != DType::f32 || out->row_numel() != 1 || plot.fit.size())
          continue;
        plot.fit.assign(arena.f32(*out), arena.f32(*out) + out->numel());
        plot.fit_x.assign(arena.f32(*bx), arena.f32(*bx) + bx->numel());
      }
    }
    if (!plot.fit.empty()) {
      plot.title = fmt::format("{}: final loss {}", manifest.model, format_loss(loss));
      plot.x = x->f32;
      plot.y = y->f32;
      plot_fit_svg(picture, plot);
      return "";
    }
  }
  if (result.losses.empty())
    return manifest.train.task == "classification"
               ? "a 2-feature input x and an eval entry's predictions, or training steps"
               : "1-feature inputs x and y and a 1-feature output, or training steps";
  TrainingPlot plot;
  for (size_t i = 0; i < result.losses.size(); ++i)
    plot.steps.push_back(double(result.first_step + int64_t(i) * result.stride)), plot.loss.push_back(result.losses[i]);
  // A sampled record may have left out the last step; the curve still ends there.
  if ((result.steps_run - 1) % result.stride != 0)
    plot.steps.push_back(double(result.first_step + result.steps_run - 1)), plot.loss.push_back(result.last_loss);
  const bool accuracy = ev.classified;
  for (const EvalPoint &p : result.evals)
    plot.eval_steps.push_back(double(p.step)), plot.eval.push_back(accuracy ? p.accuracy : p.loss);
  plot.eval_is_accuracy = accuracy;
  plot.eval_label = fmt::format("{} {}", o.split, accuracy ? "accuracy" : "loss");
  plot.title = ev.rows > 0 && accuracy
                   ? fmt::format("{}: {} accuracy {:.4f}", manifest.model, o.split, ev.accuracy())
                   : fmt::format("{}: final loss {}", manifest.model, format_loss(result.final_loss()));
  plot_training_svg(picture, plot);
  return "";
}

// What a rank other than 0 of a data-parallel run does: train and evaluate its share, write
// and print nothing (rank 0 prints and writes for the run).
Options follower(Options options) {
  options.quiet = true;
  options.output = "none";
  for (std::string *path : {&options.save, &options.save_net, &options.checkpoint, &options.predictions,
                            &options.metrics, &options.kernel_times, &options.dump_kernels})
    path->clear();
  options.checkpoint_every = 0;
  return options;
}

// FNV-1a over the bytes of every parameter, optimizer state and buffer, in manifest order.
uint64_t param_hash(const Manifest &manifest, Arena &arena) {
  uint64_t h = 1469598103934665603ull;
  for (const TensorSpec &t : manifest.tensors)
    if (t.role == Role::Param || t.role == Role::State || t.role == Role::Buffer) {
      const uint8_t *p = arena.at(t);
      for (uint64_t i = 0; i < t.bytes(); ++i)
        h = (h ^ p[i]) * 1099511628211ull;
    }
  return h;
}

// What the phases of a run share: the model, its arena, what the run was asked for and where
// its metrics go.
struct RunContext {
  const ModelAbi &model;
  const Manifest &manifest;
  const Options &options; // this rank's: a follower's write and print nothing
  const RankInfo &rank;
  Arena &arena;
  MetricsWriter &metrics;
};

// The picture's path after defaults ("" for none), checked: an SVG file that can be written,
// with plplot there to draw it.
std::string check_picture_path(const Options &options, const Manifest &manifest) {
  std::string picture = output_path(options, manifest);
  if (!picture.empty()) {
    if (!ends_with(picture, ".svg"))
      throw UserError(fmt::format("{}: pictures are written as SVG; use a name ending in .svg", picture));
    check_output_path(picture, "picture", OutputKind::stream);
    require_plplot();
  }
  return picture;
}

// Checks the files the run keeps (--save, --save-net, --checkpoint, --predictions) against the
// bytes they will hold.
void check_saved_outputs(const Options &options, const Manifest &manifest) {
  uint64_t param_bytes = 0, state_bytes = 0;
  for (const TensorSpec *t : manifest.with_role(Role::Param))
    param_bytes += t->bytes();
  for (const TensorSpec *t : manifest.with_role(Role::Buffer))
    param_bytes += 2 * t->bytes(); // at most (int64)
  for (const TensorSpec *t : manifest.with_role(Role::State))
    state_bytes += t->bytes();
  if (!options.save.empty())
    check_output_path(options.save, "parameters", OutputKind::replace, param_bytes);
  if (!options.save_net.empty())
    check_output_path(options.save_net, "whole net", OutputKind::replace, param_bytes);
  if (!options.checkpoint.empty())
    check_output_path(options.checkpoint, "checkpoint", OutputKind::replace, param_bytes + state_bytes);
  if (!options.predictions.empty()) {
    if (manifest.eval_entry() < 0)
      throw UserError(fmt::format("--predictions needs an eval entry, and model '{}' has none", manifest.model));
    check_output_path(options.predictions, "predictions", OutputKind::stream);
  }
}

// Checks the files of --kernel-times and --dump-kernels.
void check_kernel_outputs(const Options &options) {
  if (!options.kernel_times.empty())
    check_output_path(options.kernel_times, "kernel times", OutputKind::stream);
  if (!options.dump_kernels.empty())
    check_output_path(options.dump_kernels, "kernel outputs", OutputKind::replace);
}

// Tells the Halide runtime its threads and, for a GPU build, the GPU: --device, else one per rank.
// The CPU's treatment of subnormal floats is set first, so that the kernels' threads inherit it.
void choose_device(const Options &options, const Manifest &manifest, const RankInfo &rank) {
  flush_denormals(options.flush_denormals);
  if (halide_set_num_threads)
    halide_set_num_threads(options.threads);
  if (options.device) {
    if (manifest.device == "host")
      throw UserError(fmt::format("--device {}: model '{}' was built for the CPU (kiln compile --target=host)",
                                  *options.device, manifest.model));
    if (halide_set_gpu_device)
      halide_set_gpu_device(*options.device);
  } else if (rank.size > 1 && manifest.device != "host" && halide_set_gpu_device) {
    halide_set_gpu_device(rank.local_rank); // one GPU per rank of this machine
  }
}

// Hands the arena to the model, its kernels' errors captured from here on.
void bind_arena(const RunContext &ctx) {
  capture_kernel_errors(ctx.options.device.value_or(-1));
  if (int rc = ctx.model.bind(ctx.arena.data()); rc != 0)
    throw UserError(fmt::format("model '{}' could not bind its arena (code {}){}", ctx.manifest.model, rc,
                                kernel_error_detail(ctx.manifest)));
}

// A GPU build's parameters and state, copied from the device into the arena.
void copy_params_to_host(const RunContext &ctx) {
  if (int rc = ctx.model.to_host(); rc != 0)
    throw UserError(fmt::format("model '{}' could not copy its parameters from the device (code {}){}",
                                ctx.manifest.model, rc, kernel_error_detail(ctx.manifest)));
}

// The parameters and state the run starts from: the --resume checkpoint's (returned, with its
// position), --init's, or fresh ones from the seed; the same on every rank, and on the device.
std::optional<RunPosition> set_initial_values(const RunContext &ctx) {
  const Options &options = ctx.options;
  const Manifest &manifest = ctx.manifest;
  std::optional<RunPosition> resumed;
  if (!options.resume.empty()) {
    resumed = load_checkpoint(options.resume, manifest, ctx.arena);
    if (options.seed_given && options.seed != resumed->seed)
      throw UserError(fmt::format("{}: the checkpoint was trained with seed {}, not {}; resuming needs its seed "
                                  "(leave --seed out)",
                                  options.resume, resumed->seed, options.seed));
  } else if (options.init.empty()) {
    init_params(manifest, ctx.arena, options.seed);
  } else {
    load_tensors(options.init, manifest, ctx.arena);
  }
  // Every rank starts from rank 0's values, whatever files each one could read.
  if (ctx.rank.size > 1)
    for (const TensorSpec &t : manifest.tensors)
      if (t.role == Role::Param || t.role == Role::State || t.role == Role::Buffer)
        broadcast_from_rank0(ctx.arena.at(t), t.bytes());
  if (ctx.model.to_device)
    if (int rc = ctx.model.to_device(); rc != 0)
      throw UserError(fmt::format("model '{}' could not copy its parameters to the device (code {}){}", manifest.model,
                                  rc, kernel_error_detail(manifest)));
  return resumed;
}

// How the loader batches this rank's part of the training data.
LoaderConfig make_loader_config(const RunContext &ctx, uint64_t seed) {
  LoaderConfig config;
  config.batch = ctx.manifest.train.batch;
  config.shuffle = ctx.options.shuffle.value_or(ctx.manifest.train.shuffle);
  config.drop_last = ctx.options.drop_last || ctx.manifest.train.drop_last;
  config.seed = seed;
  config.ranks = ctx.rank.size;
  config.rank = ctx.rank.rank;
  return config;
}

// Where the run stands in its data, as a checkpoint records it (the step filled in when saved).
RunPosition make_run_position(const Manifest &manifest, uint64_t seed, const Loader &loader, const Dataset &data,
                              const LoaderConfig &loader_config) {
  RunPosition position;
  position.model = manifest.model;
  position.dataset = manifest.train.dataset;
  position.seed = seed;
  position.batches_per_epoch = loader.batches_per_epoch();
  position.batch = manifest.train.batch;
  position.data_rows = data.rows();
  position.shuffle = loader_config.shuffle;
  position.drop_last = loader_config.drop_last;
  return position;
}

// The training loop's settings: its steps (refused when a resumed checkpoint is past them), its
// logging and its periodic evaluation on the outcome's data.
TrainSettings make_train_settings(const RunContext &ctx, const Loader &loader,
                                  const std::optional<RunPosition> &resumed, uint64_t seed, const Outcome &outcome) {
  const Options &options = ctx.options;
  const Manifest &manifest = ctx.manifest;
  TrainSettings settings;
  settings.steps = total_steps(options, manifest, loader.batches_per_epoch());
  settings.start_step = resumed ? resumed->step : 0;
  if (settings.start_step > settings.steps)
    throw UserError(fmt::format("{}: the checkpoint is at step {}, past the {} steps of this run; ask for more with "
                                "--steps or --epochs",
                                options.resume, settings.start_step, settings.steps));
  settings.lr = options.lr.value_or(manifest.train.lr);
  settings.seed = seed;
  settings.rank = ctx.rank.rank;
  settings.log_every = manifest.train.log_every;
  settings.quiet = options.quiet;
  settings.print_batches = ctx.rank.rank == 0 && (options.print_batches || manifest.train.print_batches);
  settings.warn = ctx.rank.rank == 0;
  settings.stop_on_nonfinite = options.stop_on_nonfinite;
  // mpirun gives each rank a terminal of its own, and forwards it to wherever its output goes.
  settings.progress = ::isatty(STDOUT_FILENO) == 1 && ctx.rank.size == 1;
  settings.eval_every = options.eval_every.value_or(manifest.train.eval_every);
  settings.eval_rows = options.eval_subset.value_or(manifest.train.eval_subset);
  settings.eval_data = outcome.eval_data;
  settings.eval_split = outcome.split;
  return settings;
}

// Refuses a periodic evaluation whose rows make no chunk of the eval batch.
void check_periodic_eval(const Manifest &manifest, const TrainSettings &settings, const Outcome &outcome) {
  const int eval = manifest.eval_entry();
  if (settings.eval_every > 0 && eval >= 0) {
    const int64_t rows =
        settings.eval_rows > 0 ? std::min(settings.eval_rows, outcome.eval_data->rows()) : outcome.eval_data->rows();
    const int64_t batch = manifest.entries[size_t(eval)].batch;
    if (rows < batch)
      throw UserError(fmt::format("evaluating every {} steps on {} rows of the {} data makes no chunk of the eval "
                                  "batch {}; use --eval-subset {} or more, or --eval-every 0",
                                  settings.eval_every, rows, outcome.split == "test" ? "test" : "training", batch,
                                  batch));
  }
}

// The lines before training: the model's summary, the rows no batch takes, the checkpoint
// resumed; refuses training that was asked for when no epoch has a batch.
void announce_training(const RunContext &ctx, const Loader &loader, const Dataset &data, const TrainSettings &settings,
                       const std::optional<RunPosition> &resumed) {
  const bool quiet = ctx.options.quiet;
  const Manifest &manifest = ctx.manifest;
  if (!quiet && !manifest.train.summary.empty())
    fmt::print("{}\n", manifest.train.summary);
  // Training was asked for (not --steps 0 / --epochs 0) but no epoch has a batch: say so.
  if (loader.batches_per_epoch() == 0 && total_steps(ctx.options, manifest, 1) > 0)
    throw UserError(fmt::format("the dataset's {} rows make no batch of {} ({}); nothing can train", data.rows(),
                                manifest.train.batch, loader.tail_note()));
  if (!quiet && settings.steps > settings.start_step && !loader.tail_note().empty())
    fmt::print("note: {}\n", loader.tail_note());
  if (!quiet && resumed)
    fmt::print("resuming {} at step {} (epoch {}, batch {}) of {}\n", ctx.options.resume, resumed->step, resumed->epoch,
               resumed->batch_in_epoch, settings.steps);
}

// The checkpoint after `step` steps, the older ones kept as FILE.1, FILE.2, ...; refused when
// the parameters or state are not finite (the last finite checkpoint stays). During training
// a GPU build's parameters are first copied from the device; at the end they already were.
void write_checkpoint(const RunContext &ctx, RunPosition &position, int64_t step, bool from_device) {
  const Options &options = ctx.options;
  if (from_device && ctx.model.to_host)
    copy_params_to_host(ctx);
  for (const TensorSpec &t : ctx.manifest.tensors)
    if ((t.role == Role::Param || t.role == Role::State || t.role == Role::Buffer) && t.dtype == DType::f32) {
      const float *v = ctx.arena.f32(t);
      if (!std::all_of(v, v + t.numel(), [](float x) { return std::isfinite(x); }))
        throw UserError(fmt::format("'{}' is not finite after step {}: training diverged and stops here; "
                                    "{} keeps the last finite checkpoint (try a smaller --lr)",
                                    t.name, step, options.checkpoint));
    }
  rotate_checkpoints(options.checkpoint, options.checkpoint_keep);
  position.step = step;
  position.epoch = position.batches_per_epoch > 0 ? step / position.batches_per_epoch : 0;
  position.batch_in_epoch = position.batches_per_epoch > 0 ? step % position.batches_per_epoch : 0;
  save_checkpoint(options.checkpoint, ctx.manifest, ctx.arena, position);
  if (!options.quiet)
    fmt::print("saved the checkpoint (step {}) to {}\n", step, options.checkpoint);
}

// With --checkpoint-every, has the training loop write a checkpoint every so many steps.
void schedule_checkpoints(const RunContext &ctx, RunPosition &position, TrainSettings &settings) {
  if (ctx.options.checkpoint_every > 0) {
    if (ctx.options.checkpoint.empty())
      throw UserError("--checkpoint-every needs --checkpoint FILE to write to");
    settings.checkpoint_every = ctx.options.checkpoint_every;
    settings.checkpoint = [&ctx, &position](int64_t step) { write_checkpoint(ctx, position, step, true); };
  }
}

// The line after training (final loss, median step) and a data-parallel run's exchanges.
// `given_quiet` is what this rank was given, before a follower was quieted.
void report_training(const RunContext &ctx, const TrainSettings &settings, const TrainResult &result,
                     bool given_quiet) {
  if (!ctx.options.quiet && settings.steps > settings.start_step)
    fmt::print("final loss {} after {} steps, median step {} ms\n", format_loss(result.final_loss()), settings.steps,
               format_ms(result.median_step_ms()));
  if (ctx.rank.size > 1)
    report_communication(ctx.manifest, given_quiet, ctx.rank.rank == 0);
}

// The final evaluation over `eval_data` (the test split when `on_test`): printed, with the first
// predictions against their labels, and written as the final metrics line.
EvalResult evaluate_at_end(const RunContext &ctx, const Dataset &eval_data, bool on_test, int64_t steps) {
  const bool quiet = ctx.options.quiet;
  const Manifest &manifest = ctx.manifest;
  EvalResult ev = evaluate(ctx.model, manifest, ctx.arena, eval_data);
  const int64_t batch = manifest.entries[size_t(manifest.eval_entry())].batch;
  if (!quiet && ev.skipped > 0)
    fmt::print("note: evaluation skips the last {} of {} rows ({} is not a multiple of the eval batch {})\n",
               ev.skipped, eval_data.rows(), eval_data.rows(), batch);
  if (ev.rows == 0)
    return ev;
  MetricsWriter::Extra extra;
  if (on_test) {
    if (!quiet)
      fmt::print("final test loss {}\n", format_loss(float(ev.loss)));
    if (!quiet && ev.classified)
      fmt::print("final test accuracy {:.4f} ({}/{})\n", ev.accuracy(), ev.correct, ev.predicted.size());
    extra.push_back({"test_loss", ev.loss});
    if (ev.classified)
      extra.push_back({"test_accuracy", ev.accuracy()});
  } else {
    if (!quiet)
      fmt::print("full-data loss {}\n", format_loss(float(ev.loss)));
    if (!quiet && ev.classified)
      fmt::print("accuracy {:.3f} ({}/{})\n", ev.accuracy(), ev.correct, ev.predicted.size());
  }
  const int64_t shown = std::min<int64_t>(manifest.train.show_predictions, int64_t(ev.predicted.size()));
  const DataTensor *labels = ev.classified ? eval_data.find("y") : nullptr;
  if (!quiet && shown > 0 && labels && labels->dtype == DType::i32 && labels->row_numel() == 1) {
    fmt::print("predictions: {}\n", numpy_array(ev.predicted.data(), {shown}));
    fmt::print("labels:      {}\n", numpy_array(labels->i32.data(), {shown}));
  }
  extra.push_back({"peak_rss_mb", peak_rss_mb()});
  ctx.metrics.write_final(steps, ev.loss, ev.classified ? std::optional<double>(ev.accuracy()) : std::nullopt, extra);
  return ev;
}

// Whether the run reads the parameters after training: to compare the ranks', print their hash
// or write them.
bool reads_params_after_training(const RunContext &ctx) {
  const Options &options = ctx.options;
  return ctx.rank.size > 1 || options.print_param_hash || !options.save.empty() || !options.save_net.empty() ||
         !options.checkpoint.empty();
}

// The parameters' hash, printed with --print-param-hash; a data-parallel run's ranks must agree on it.
void check_param_hash(const RunContext &ctx) {
  const uint64_t hash = param_hash(ctx.manifest, ctx.arena);
  if (ctx.options.print_param_hash)
    fmt::print("rank {} parameter hash {:016x}\n", ctx.rank.rank, hash);
  const std::vector<uint64_t> all = gather_over_ranks(hash);
  for (size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0])
      throw UserError(fmt::format("rank {}'s parameters differ from rank 0's after training (hash {:016x} "
                                  "vs {:016x}): the ranks did not train one model",
                                  r, all[r], all[0]));
  if (!ctx.options.quiet && ctx.rank.size > 1)
    fmt::print("parameters identical on all {} ranks (hash {:016x})\n", ctx.rank.size, hash);
}

// Writes what the run keeps: --save, --save-net, the last checkpoint (after `steps`) and --predictions.
void save_outputs(const RunContext &ctx, RunPosition &position, int64_t steps, const Outcome &outcome) {
  const Options &options = ctx.options;
  const Manifest &manifest = ctx.manifest;
  if (!options.save.empty()) {
    save_tensors(options.save, manifest, ctx.arena,
                 {{checkpoint_key::format, "params"}, {checkpoint_key::model, manifest.model}});
    if (!options.quiet)
      fmt::print("saved parameters to {}\n", options.save);
  }
  if (!options.save_net.empty()) {
    save_tensors(options.save_net, manifest, ctx.arena,
                 {{checkpoint_key::format, "whole-net"},
                  {checkpoint_key::model, manifest.model},
                  {checkpoint_key::ir, ctx.model.model_ir ? ctx.model.model_ir : ""}});
    if (!options.quiet)
      fmt::print("saved the whole net to {}\n", options.save_net);
  }
  if (!options.checkpoint.empty())
    write_checkpoint(ctx, position, steps, false);
  if (!options.predictions.empty()) {
    write_predictions(options.predictions, manifest, *outcome.eval_data, outcome.ev);
    if (!options.quiet)
      fmt::print("wrote {}\n", options.predictions);
  }
}

// Draws the picture, or warns (when one was asked for by name) that the model has nothing to draw.
void write_picture(const RunContext &ctx, const std::string &picture, const Dataset &data, const Outcome &outcome) {
  std::string missing = draw_picture(picture, ctx.manifest, ctx.arena, data, outcome);
  if (missing.empty()) {
    if (!ctx.options.quiet)
      fmt::print("wrote {}\n", picture);
  } else if (ctx.options.output) {
    fmt::print(stderr, "warning: model '{}' has no {} to draw; {} will not be written\n", ctx.manifest.model, missing,
               picture);
  }
}

// Writes the kernel times and the kernel outputs, where they were recorded.
void write_kernel_records(const RunContext &ctx, const std::optional<KernelTimes> &kernel_times,
                          const std::optional<KernelDump> &kernel_dump) {
  if (kernel_times) {
    kernel_times->write(ctx.options.kernel_times);
    if (!ctx.options.quiet)
      fmt::print("wrote the kernel times to {}\n", ctx.options.kernel_times);
  }
  if (kernel_dump) {
    kernel_dump->write(ctx.options.dump_kernels);
    if (!ctx.options.quiet)
      fmt::print("wrote the kernel outputs to {}\n", ctx.options.dump_kernels);
  }
}

int run(const ModelAbi &model, const Options &given) {
  Manifest manifest = parse_manifest(model.manifest);
  start_ranks(manifest);
  set_comm_timeout(given.comm_timeout);
  const RankInfo &rank = ranks();
  const Options options = rank.rank == 0 ? given : follower(given);

  // Every output is checked before any work, so a typo does not cost a training run.
  const std::string picture = check_picture_path(options, manifest);
  check_saved_outputs(options, manifest);
  MetricsWriter metrics;
  if (!options.metrics.empty())
    metrics.open(options.metrics);
  check_kernel_outputs(options);

  choose_device(options, manifest, rank);
  Arena arena(manifest.arena_bytes);
  const RunContext ctx{model, manifest, options, rank, arena, metrics};
  bind_arena(ctx);
  const std::optional<RunPosition> resumed = set_initial_values(ctx);
  // The synthetic data and the shuffle order depend on the seed: a resumed run keeps its own.
  const uint64_t seed = resumed ? resumed->seed : options.seed;
  DataSplits splits = open_data(manifest, options.data, seed);
  const Dataset &data = splits.train;
  const LoaderConfig loader_config = make_loader_config(ctx, seed);
  Loader loader(manifest, data, loader_config);
  RunPosition position = make_run_position(manifest, seed, loader, data, loader_config);
  if (resumed)
    check_resumable(options.resume, *resumed, position);

  Outcome outcome;
  outcome.split = splits.has_test() ? "test" : "eval";
  outcome.eval_data = splits.has_test() ? &splits.test : &splits.train;
  TrainSettings settings = make_train_settings(ctx, loader, resumed, seed, outcome);
  check_periodic_eval(manifest, settings, outcome);
  announce_training(ctx, loader, data, settings, resumed);
  schedule_checkpoints(ctx, position, settings);

  std::optional<KernelTimes> kernel_times; // timed from here through the final evaluation
  if (!options.kernel_times.empty())
    kernel_times.emplace(manifest, options.threads);
  std::optional<KernelDump> kernel_dump;
  if (!options.dump_kernels.empty())
    kernel_dump.emplace(manifest);
  outcome.result = train(model, manifest, arena, data, loader, settings, metrics);
  report_training(ctx, settings, outcome.result, given.quiet);
  if (manifest.eval_entry() >= 0)
    outcome.ev = evaluate_at_end(ctx, *outcome.eval_data, splits.has_test(), settings.steps);
  metrics.close();
  // The last exchange between the ranks, before rank 0 alone writes what the run keeps (the
  // others wait for it in MPI_Finalize, where no timeout applies).
  // A GPU build's parameters come back from the device once, for the hash and the files.
  if (model.to_host && reads_params_after_training(ctx))
    copy_params_to_host(ctx);
  if (rank.size > 1 || options.print_param_hash)
    check_param_hash(ctx);
  if (kernel_times)
    kernel_times->stop(); // written last, after everything the run keeps
  if (kernel_dump)
    kernel_dump->stop();

  save_outputs(ctx, position, settings.steps, outcome);
  if (!picture.empty())
    write_picture(ctx, picture, data, outcome);
  if (!options.quiet)
    fmt::print("peak memory {:.1f} MB\n", peak_rss_mb());
  write_kernel_records(ctx, kernel_times, kernel_dump);
  return 0;
}

} // namespace

ModelAbi linked_model() { return {kiln_manifest, kiln_model_ir, kiln_bind, kiln_run, kiln_to_device, kiln_to_host}; }

int run_model(const ModelAbi &model, int argc, char **argv) {
  const std::string program = program_name(argc, argv);
  Options options;
  try {
    options = parse_flags(argc, argv);
  } catch (const UsageError &e) {
    fmt::print(stderr, "error: {} (see --help)\n", e.what());
    return 2;
  }
  try {
    if (options.help) {
      // Show the model's defaults when the manifest is readable; the help itself must not fail.
      try {
        Manifest m = parse_manifest(model.manifest);
        print_help(stdout, program.c_str(), &m);
      } catch (const UserError &) {
        print_help(stdout, program.c_str(), nullptr);
      }
      return 0;
    }
    int rc = run(model, options);
    finish_ranks();
    return rc;
  } catch (const UserError &e) {
    fail_ranks(e.what());
    fmt::print(stderr, "error: {}\n", e.what());
  } catch (const std::bad_alloc &) {
    fail_ranks("out of memory");
    fmt::print(stderr, "error: out of memory\n");
  } catch (const std::exception &e) {
    fail_ranks(fmt::format("internal error in the kiln runtime: {} (please report this)", e.what()));
    fmt::print(stderr, "internal error in the kiln runtime: {} (please report this)\n", e.what());
  }
  return 1;
}

} // namespace kiln

int kiln_runtime_main(int argc, char **argv) { return kiln::run_model(kiln::linked_model(), argc, argv); }
