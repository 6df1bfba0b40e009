// The training loop (contract in kiln/train.h).
#include "kiln/train.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "kiln/error.h"

namespace kiln {

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

TrainResult train(const ModelAbi &model, const Manifest &manifest, Arena &arena, const TrainSettings &settings,
                  MetricsWriter &metrics) {
    const TensorSpec *lr_spec = manifest.find_role(Role::Lr);
    const TensorSpec *step_spec = manifest.find_role(Role::Step);
    const TensorSpec *loss_spec = manifest.find_role(Role::Loss);  // present: parse_manifest checked
    float *lr = lr_spec ? arena.f32(*lr_spec) : nullptr;
    float *step = step_spec ? arena.f32(*step_spec) : nullptr;
    const float *loss = arena.f32(*loss_spec);

    // Step numbers line up in a column as wide as the last one.
    const int width = std::max<int>(3, int(std::to_string(settings.steps).size()));
    bool warned = false;
    TrainResult result;
    result.losses.reserve(size_t(settings.steps));
    result.step_ms.reserve(size_t(settings.steps));
    for (int64_t t = 1; t <= settings.steps; ++t) {
        if (lr) *lr = float(settings.lr);
        // f32 holds every integer up to 2^24 exactly, far beyond any step count here.
        if (step) *step = float(t);
        auto start = std::chrono::steady_clock::now();
        int rc = model.train_step();
        auto stop = std::chrono::steady_clock::now();
        if (rc != 0) throw UserError(fmt::format("training step {} failed with error code {}", t, rc));
        double ms = std::chrono::duration<double, std::milli>(stop - start).count();
        float l = *loss;
        result.losses.push_back(l);
        result.step_ms.push_back(ms);
        metrics.write(t, l, ms, settings.lr);
        if (!std::isfinite(l) && !warned) {
            fmt::print(stderr, "warning: the loss is {} at step {}; training continues, but diverged "
                               "(try a smaller --lr)\n", l, t);
            warned = true;
        }
        if (!settings.quiet && (t == 1 || t % settings.log_every == 0 || t == settings.steps))
            fmt::print("step {:>{}}  loss {}\n", t, width, format_loss(l));
    }
    return result;
}

}  // namespace kiln
