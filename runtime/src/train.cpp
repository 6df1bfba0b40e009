// The training loop and the evaluation (contract in kiln/train.h).
#include "kiln/train.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>

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

}  // namespace


void TrainResult::record(float loss, double ms) {
    if (steps_run++ % stride == 0) {
        losses.push_back(loss);
        step_ms.push_back(ms);
    }
    last_loss = loss;
    if (losses.size() == kMaxRecords) {
        for (size_t i = 0; 2 * i < losses.size(); ++i) losses[i] = losses[2 * i], step_ms[i] = step_ms[2 * i];
        losses.resize((losses.size() + 1) / 2);
        step_ms.resize(losses.size());
        stride *= 2;
    }
}

double TrainResult::median_step_ms() const {
    if (step_ms.empty()) return 0;
    std::vector<double> sorted = step_ms;
    std::sort(sorted.begin(), sorted.end());
    size_t mid = sorted.size() / 2;
    return sorted.size() % 2 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
}

std::string format_loss(float loss) {
    float mag = std::fabs(loss);
    if (std::isfinite(loss) && mag != 0 && mag < 1e-3f) return fmt::format("{:.3e}", loss);
    return fmt::format("{:.6f}", loss);
}

TrainResult train(const ModelAbi &model, const Manifest &manifest, Arena &arena, const Dataset &data,
                  const Loader &loader, const TrainSettings &settings, MetricsWriter &metrics) {
    TrainResult result;
    result.first_step = settings.start_step + 1;
    if (settings.steps <= settings.start_step) return result;
    const int64_t per_epoch = loader.batches_per_epoch();
    if (per_epoch == 0)
        throw UserError(fmt::format("the dataset's {} rows make no batch of {} ({}); nothing can train", data.rows(),
                                    manifest.train.batch, loader.tail_note()));
    const bool periodic = settings.eval_every > 0 && settings.eval_data && manifest.eval_entry() >= 0;

    // Step numbers line up in a column as wide as the last one.
    const int width = std::max<int>(3, int(std::to_string(settings.steps).size()));
    bool warned = false;
    const size_t ahead = size_t(std::min<int64_t>(settings.steps - settings.start_step, TrainResult::kMaxRecords));
    result.losses.reserve(ahead);
    result.step_ms.reserve(ahead);
    ProgressLine progress(settings.progress && !settings.quiet, settings.start_step, settings.steps);
    // Each train entry's scalars, looked up once rather than every step. Present: parse_manifest
    // checked that every train entry has one lr, step and loss (and at most one key).
    struct Scalars {
        const TensorSpec *lr = nullptr, *step = nullptr, *loss = nullptr, *key = nullptr;
    };
    std::vector<Scalars> scalars(manifest.entries.size());
    for (size_t e = 0; e < manifest.entries.size(); ++e)
        if (manifest.entries[e].kind == EntryKind::train)
            scalars[e] = {manifest.find_role(Role::Lr, int(e)), manifest.find_role(Role::Step, int(e)),
                          manifest.find_role(Role::Loss, int(e)), manifest.find_role(Role::Random, int(e))};
    int64_t t = settings.start_step;
    for (int64_t epoch = t / per_epoch; t < settings.steps; ++epoch) {
        const std::vector<Batch> batches = loader.batches(epoch);
        for (size_t b = size_t(t % per_epoch); b < batches.size() && t < settings.steps; ++b) {
            const Batch &batch = batches[b];
            ++t;
            loader.copy(batch, arena);
            const Scalars &entry = scalars[size_t(batch.entry)];
            *arena.f32(*entry.lr) = float(settings.lr);
            // f32 holds every integer up to 2^24 exactly, far beyond any step count here.
            *arena.f32(*entry.step) = float(t);
            if (entry.key) {
                const uint32_t values[4] = {uint32_t(settings.seed), uint32_t(settings.seed >> 32), uint32_t(t),
                                            uint32_t(settings.rank)};
                std::memcpy(arena.i32(*entry.key), values, sizeof values);
            }
            if (settings.print_batches) {
                progress.clear();
                fmt::print("{}\n", format_batch(manifest, data, batch));
            }
            const int64_t crossed = device_bytes();
            auto start = std::chrono::steady_clock::now();
            int rc = model.run(batch.entry);
            auto stop = std::chrono::steady_clock::now();
            if (rc != 0) {
                progress.clear();
                throw UserError(fmt::format("training step {} (entry '{}') failed with error code {}{}", t,
                                            manifest.entries[size_t(batch.entry)].name, rc,
                                            kernel_error_detail(manifest)));
            }
            double ms = std::chrono::duration<double, std::milli>(stop - start).count();
            float l = *arena.f32(*entry.loss);
            result.record(l, ms);
            result.last_entry = batch.entry;

            MetricsWriter::Extra extra;
            if (manifest.device != "host") extra.push_back({"device_bytes", double(device_bytes() - crossed)});
            std::string measured;
            if (periodic && (t % settings.eval_every == 0 || t == settings.steps)) {
                EvalResult ev = evaluate(model, manifest, arena, *settings.eval_data,
                                         settings.eval_rows > 0 ? settings.eval_rows : -1);
                EvalPoint point{t, ev.loss, ev.classified ? ev.accuracy() : NAN};
                result.evals.push_back(point);
                extra.push_back({settings.eval_split + "_loss", point.loss});
                if (ev.classified) {
                    extra.push_back({settings.eval_split + "_accuracy", point.accuracy});
                    measured = fmt::format("{} accuracy {:.4f}", settings.eval_split, point.accuracy);
                } else {
                    measured = fmt::format("{} loss {:.4f}", settings.eval_split, point.loss);
                }
            }
            metrics.write(t, epoch, l, ms, settings.lr, extra);
            if (!std::isfinite(l) && settings.stop_on_nonfinite) {
                progress.clear();
                throw UserError(fmt::format("the loss is {} at step {}: training diverged and stops here, saving "
                                            "nothing (try a smaller --lr; --on-nonfinite warn trains on)",
                                            l, t));
            }
            if (!std::isfinite(l) && !warned && settings.warn) {
                progress.clear();
                fmt::print(stderr, "warning: the loss is {} at step {}; training continues, but diverged "
                                   "(try a smaller --lr)\n", l, t);
                warned = true;
            }
            if (!settings.quiet && !measured.empty()) {
                progress.clear();
                fmt::print("step {:>{}}  train loss {:.4f}  {}\n", t, width, l, measured);
            } else if (!settings.quiet && (t == 1 || t % settings.log_every == 0 || t == settings.steps)) {
                progress.clear();
                fmt::print("step {:>{}}  loss {}\n", t, width, format_loss(l));
            }
            progress.update(t, l);
            if (settings.checkpoint_every > 0 && t % settings.checkpoint_every == 0 && t < settings.steps) {
                progress.clear();
                settings.checkpoint(t);
            }
        }
    }
    progress.clear();
    return result;
}

EvalResult evaluate(const ModelAbi &model, const Manifest &manifest, Arena &arena, const Dataset &data,
                    int64_t max_rows) {
    const int entry = manifest.eval_entry();
    if (entry < 0) throw UserError(fmt::format("model '{}' has no eval entry", manifest.model));
    const int64_t available = max_rows >= 0 ? std::min(max_rows, data.rows()) : data.rows();
    const int64_t batch = manifest.entries[size_t(entry)].batch, chunks = available / batch;
    std::vector<const TensorSpec *> outputs = manifest.entry_tensors(entry, Role::Output);

    EvalResult result;
    result.rows = chunks * batch;
    result.skipped = available - result.rows;
    for (const TensorSpec *out : outputs) {
        DataTensor t;
        t.name = out->name;
        t.dtype = out->dtype;
        t.shape = out->shape;
        t.shape[0] = result.rows;
        (t.dtype == DType::i32 ? t.i32.resize(size_t(result.rows) * out->row_numel())
                               : t.f32.resize(size_t(result.rows) * out->row_numel()));
        result.outputs.tensors.push_back(std::move(t));
    }

    const TensorSpec *scores = nullptr, *labels = nullptr;
    if (manifest.train.task == "classification") {
        for (const TensorSpec *out : outputs)
            if (!scores && out->dtype == DType::f32 && out->row_shape().size() == 1) scores = out;
        for (const TensorSpec *in : manifest.entry_tensors(entry, Role::Input))
            if (!labels && in->dtype == DType::i32 && in->row_numel() == 1) labels = in;
        if (!scores || !labels)
            throw UserError(fmt::format("task 'classification' needs an i32 labels input of shape [{}] and an f32 "
                                        "scores output of shape [{}, classes] in eval entry '{}'",
                                        batch, batch, manifest.entries[size_t(entry)].name));
        result.classified = true;
        result.predicted.assign(size_t(result.rows), 0);
    }

    // A data-parallel run splits the chunks between ranks (chunk c on rank c % ranks) and adds up
    // what each measured; every other row of a rank's outputs is 0, so the sums assemble them.
    const RankInfo &rank = ranks();
    double loss_sum = 0;
    std::vector<int64_t> rows(static_cast<size_t>(batch));
    for (int64_t c = 0; c < chunks; ++c) {
        if (c % rank.size != rank.rank) continue;
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
        if (scores) {
            const float *s = arena.f32(*scores);
            const int32_t *y = arena.i32(*labels);
            const int64_t classes = scores->shape[1];
            for (int64_t i = 0; i < batch; ++i) {
                const float *row = s + i * classes;
                int32_t best = int32_t(std::max_element(row, row + classes, [](float a, float b) {
                                           return a < b || (std::isnan(b) && !std::isnan(a));
                                       }) - row);
                result.predicted[size_t(c * batch + i)] = best;
                result.correct += best == y[i];
            }
        }
    }
    if (rank.size > 1) {
        double sums[2] = {loss_sum, double(result.correct)};
        sum_over_ranks(sums, 2);
        loss_sum = sums[0];
        result.correct = int64_t(sums[1]);
        for (DataTensor &t : result.outputs.tensors)
            t.dtype == DType::i32 ? sum_over_ranks(t.i32.data(), t.i32.size()) : sum_over_ranks(t.f32.data(), t.f32.size());
        sum_over_ranks(result.predicted.data(), result.predicted.size());
    }
    if (chunks > 0) result.loss = loss_sum / double(chunks);
    return result;
}

}  // namespace kiln
