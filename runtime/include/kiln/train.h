// The training loop over a bound arena.
//
// Contract: train() runs steps t = 1..settings.steps; before each it writes lr and t (as f32)
// into the model's lr and step tensors (when it has them), times kiln_train_step with
// steady_clock, reads the loss, writes one metrics line, and prints "step   t  loss L" for t = 1,
// every log_every steps and the last step unless quiet. A failing step throws UserError naming
// the step; a NaN/inf loss is warned about once on stderr and training continues.
#ifndef KILN_TRAIN_H
#define KILN_TRAIN_H

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/arena.h"
#include "kiln/manifest.h"
#include "kiln/metrics.h"

namespace kiln {

// The three symbols of model_abi.h, as values, so tests can run a model other than the linked one.
struct ModelAbi {
    const char *manifest;
    int (*bind)(uint8_t *arena);
    int (*train_step)();
};

struct TrainSettings {
    int64_t steps = 1;
    double lr = 0;
    int64_t log_every = 10;
    bool quiet = false;
};

struct TrainResult {
    std::vector<float> losses;    // (steps,)
    std::vector<double> step_ms;  // (steps,)
    float final_loss() const { return losses.empty() ? NAN : losses.back(); }
    double median_step_ms() const;
};

TrainResult train(const ModelAbi &model, const Manifest &manifest, Arena &arena, const TrainSettings &settings,
                  MetricsWriter &metrics);

// The console form of a loss: 6 decimals, or scientific when that would hide the value.
std::string format_loss(float loss);

}  // namespace kiln

#endif
