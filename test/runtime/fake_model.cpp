// The fake model of fake_model.h: kiln_manifest, kiln_bind and kiln_train_step in plain C++.
#include "fake_model.h"

#include <cmath>

#include "kiln/model_abi.h"

namespace fake {
namespace {

// Byte offsets in the arena; each tensor starts on its own 64-byte line, like the compiler's.
enum Offset : uint32_t {
    kW = 0, kB = 64, kWMom = 128, kBMom = 192, kX = 256, kY = 704, kPred = 1152, kLr = 1600, kStep = 1664,
    kLoss = 1728, kArenaBytes = 1792,
};

uint8_t *g_arena = nullptr;

float *at(uint32_t offset) { return reinterpret_cast<float *>(g_arena + offset); }

}  // namespace

int64_t fail_at_step = 0;

kiln::ModelAbi model() { return {kiln_manifest, kiln_bind, kiln_train_step}; }
kiln::ModelAbi model_with_manifest(const char *manifest) { return {manifest, kiln_bind, kiln_train_step}; }

}  // namespace fake

extern "C" {

const char kiln_manifest[] = R"({
  "model": "fake_linear",
  "arena_bytes": 1792,
  "tensors": [
    {"name": "fc.weight", "role": "param", "dtype": "f32", "shape": [1, 1], "offset": 0, "fan_in": 1},
    {"name": "fc.bias", "role": "param", "dtype": "f32", "shape": [1], "offset": 64, "fan_in": 1},
    {"name": "fc.weight.momentum_buffer", "role": "state", "dtype": "f32", "shape": [1, 1], "offset": 128},
    {"name": "fc.bias.momentum_buffer", "role": "state", "dtype": "f32", "shape": [1], "offset": 192},
    {"name": "x", "role": "input", "dtype": "f32", "shape": [100, 1], "offset": 256},
    {"name": "y", "role": "input", "dtype": "f32", "shape": [100, 1], "offset": 704},
    {"name": "prediction", "role": "output", "dtype": "f32", "shape": [100, 1], "offset": 1152},
    {"name": "lr", "role": "lr", "dtype": "f32", "shape": [], "offset": 1600},
    {"name": "step", "role": "step", "dtype": "f32", "shape": [], "offset": 1664},
    {"name": "loss", "role": "loss", "dtype": "f32", "shape": [], "offset": 1728}
  ],
  "train": {"dataset": "regression", "steps": 100, "lr": 0.5, "log_every": 5}
})";

int kiln_bind(uint8_t *arena) {
    fake::g_arena = arena;
    return 0;
}

// Forward, MSE, backward and torch.optim.SGD(momentum=0.5) written out, as the compiler would fuse them.
int kiln_train_step(void) {
    using namespace fake;
    const float t = *at(kStep);
    if (fail_at_step != 0 && t == float(fail_at_step)) return kFailCode;
    const float w = *at(kW), b = *at(kB), lr = *at(kLr);
    const float *x = at(kX), *y = at(kY);  // (N, 1)
    float *pred = at(kPred);               // (N, 1)
    double loss = 0, dw = 0, db = 0;
    for (int64_t i = 0; i < kRows; ++i) {
        pred[i] = w * x[i] + b;
        double r = double(pred[i]) - double(y[i]);
        loss += r * r;
        dw += 2 * r * x[i];  // dL/dw = mean(2 (pred - y) x)
        db += 2 * r;         // dL/db = mean(2 (pred - y))
    }
    *at(kLoss) = float(loss / kRows);
    const float grads[2] = {float(dw / kRows), float(db / kRows)};
    const uint32_t params[2] = {kW, kB}, bufs[2] = {kWMom, kBMom};
    for (int k = 0; k < 2; ++k) {
        float &buf = *at(bufs[k]);
        buf = t == 1.0f ? grads[k] : 0.5f * buf + grads[k];  // PyTorch: the first step takes the gradient
        *at(params[k]) -= lr * buf;
    }
    return 0;
}

}  // extern "C"
