// The fake models of fake_model.h: ABI v2 in plain C++, tensors found by name in the manifest.
#include "fake_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <deque>
#include <memory>

#include "kiln/manifest.h"
#include "kiln/model_abi.h"

namespace fake {

int64_t fail_at_step = 0;
bool fail_eval = false;
std::vector<Call> calls;

namespace {

uint8_t *g_arena = nullptr;
std::deque<std::string> g_texts;  // every manifest handed out stays alive for its ModelAbi
std::unique_ptr<kiln::Manifest> g_manifest;

float *f32(const kiln::TensorSpec *t) { return reinterpret_cast<float *>(g_arena + t->offset); }
int32_t *i32(const kiln::TensorSpec *t) { return reinterpret_cast<int32_t *>(g_arena + t->offset); }
const kiln::TensorSpec *shared(const char *name) { return g_manifest->find(name); }
const kiln::TensorSpec *in_entry(const char *name, int entry) { return g_manifest->find(name, entry); }

void activate(const char *text) {
    g_manifest = std::make_unique<kiln::Manifest>(kiln::parse_manifest(text));
    calls.clear();
}

// Common prologue: records the call and says whether this run must fail.
bool begin_run(int entry, bool &train, int64_t &batch) {
    const kiln::EntrySpec &e = g_manifest->entries[size_t(entry)];
    train = e.kind == kiln::EntryKind::Train;
    batch = e.batch;
    const kiln::TensorSpec *x = in_entry("x", entry);
    Call call{entry, train ? *f32(in_entry("step", entry)) : 0.0f, std::vector<float>(f32(x), f32(x) + x->numel())};
    calls.push_back(call);
    return train ? fail_at_step != 0 && call.step == float(fail_at_step) : fail_eval;
}

int run_regression(int entry) {
    if (!g_manifest || entry < 0 || entry >= int(g_manifest->entries.size())) return -1;
    bool train;
    int64_t n;
    if (begin_run(entry, train, n)) return kFailCode;
    float *w = f32(shared("fc.weight")), *b = f32(shared("fc.bias"));
    const float *x = f32(in_entry("x", entry)), *y = f32(in_entry("y", entry));  // (N, 1)
    float *pred = f32(in_entry("prediction", entry));                           // (N, 1)
    double loss = 0, dw = 0, db = 0;
    for (int64_t i = 0; i < n; ++i) {
        pred[i] = *w * x[i] + *b;
        double r = double(pred[i]) - double(y[i]);
        loss += r * r;
        dw += 2 * r * x[i];  // dL/dw = mean(2 (pred - y) x)
        db += 2 * r;         // dL/db = mean(2 (pred - y))
    }
    *f32(in_entry("loss", entry)) = float(loss / double(n));
    if (!train) return 0;
    const float t = *f32(in_entry("step", entry)), lr = *f32(in_entry("lr", entry));
    const float grads[2] = {float(dw / double(n)), float(db / double(n))};
    float *params[2] = {w, b};
    float *bufs[2] = {f32(shared("fc.weight.momentum_buffer")), f32(shared("fc.bias.momentum_buffer"))};
    for (int k = 0; k < 2; ++k) {
        *bufs[k] = t == 1.0f ? grads[k] : 0.5f * *bufs[k] + grads[k];  // PyTorch: the first step takes the gradient
        *params[k] -= lr * *bufs[k];
    }
    return 0;
}

// Linear(2, 2) and cross-entropy: dL/dlogits = (softmax - onehot) / N.
int run_classifier(int entry) {
    if (!g_manifest || entry < 0 || entry >= int(g_manifest->entries.size())) return -1;
    bool train;
    int64_t n;
    if (begin_run(entry, train, n)) return kFailCode;
    float *w = f32(shared("fc.weight")), *b = f32(shared("fc.bias"));  // (2, 2) as (out, in), (2,)
    const float *x = f32(in_entry("x", entry));                         // (N, 2)
    const int32_t *y = i32(in_entry("y", entry));                       // (N,)
    float *logits = f32(in_entry("logits", entry));                     // (N, 2)
    double loss = 0, dw[2][2] = {}, db[2] = {};
    for (int64_t i = 0; i < n; ++i) {
        double z[2], p[2];
        for (int o = 0; o < 2; ++o) z[o] = logits[2 * i + o] = w[2 * o] * x[2 * i] + w[2 * o + 1] * x[2 * i + 1] + b[o];
        double m = std::max(z[0], z[1]), s = std::exp(z[0] - m) + std::exp(z[1] - m);
        for (int o = 0; o < 2; ++o) p[o] = std::exp(z[o] - m) / s;
        loss += -(z[y[i]] - m - std::log(s));
        for (int o = 0; o < 2; ++o) {
            double g = (p[o] - (y[i] == o)) / double(n);
            db[o] += g;
            for (int k = 0; k < 2; ++k) dw[o][k] += g * x[2 * i + k];
        }
    }
    *f32(in_entry("loss", entry)) = float(loss / double(n));
    if (!train) return 0;
    const float lr = *f32(in_entry("lr", entry));
    for (int o = 0; o < 2; ++o) {
        b[o] -= lr * float(db[o]);
        for (int k = 0; k < 2; ++k) w[2 * o + k] -= lr * float(dw[o][k]);
    }
    return 0;
}

int bind(uint8_t *arena) {
    g_arena = arena;
    return 0;
}

}  // namespace

Spec classifier_spec() {
    Spec s;
    s.model = "fake_classifier";
    s.classifier = true;
    s.entries = {{"train_step", "train", 200}, {"eval", "eval", 200}};
    s.x_row = {2};
    s.y_row = {};
    s.train = R"("dataset": "classification", "task": "classification", "epochs": 100, "steps": 0, "batch": 200, )"
              R"("shuffle": false, "drop_last": false, "lr": 0.02, "log_every": 10)";
    return s;
}

std::string manifest(const Spec &spec) {
    uint64_t offset = 0;
    std::vector<std::string> tensors;
    auto add = [&](const std::string &name, const char *role, int entry, const char *dtype, std::vector<int64_t> shape,
                   int64_t fan_in) {
        uint64_t numel = 1;
        for (int64_t d : shape) numel *= uint64_t(d);
        std::string t = fmt::format(R"({{"name": "{}", "role": "{}", )", name, role);
        if (entry >= 0) t += fmt::format(R"("entry": {}, )", entry);
        t += fmt::format(R"("dtype": "{}", "shape": [{}], "offset": {})", dtype, fmt::join(shape, ", "), offset);
        if (fan_in > 0) t += fmt::format(R"(, "fan_in": {})", fan_in);
        tensors.push_back(t + "}");
        offset += (numel * 4 + 63) / 64 * 64;
    };
    const int64_t in = spec.classifier ? 2 : 1, out = spec.classifier ? 2 : 1;
    add("fc.weight", "param", -1, "f32", {out, in}, in);
    add("fc.bias", "param", -1, "f32", {out}, in);
    if (!spec.classifier) {
        add("fc.weight.momentum_buffer", "state", -1, "f32", {out, in}, 0);
        add("fc.bias.momentum_buffer", "state", -1, "f32", {out}, 0);
    }
    std::vector<std::string> entries;
    for (size_t e = 0; e < spec.entries.size(); ++e) {
        const EntryDesc &d = spec.entries[e];
        entries.push_back(fmt::format(R"({{"name": "{}", "kind": "{}", "batch": {}}})", d.name, d.kind, d.batch));
        auto rows = [&](const std::vector<int64_t> &row) {
            std::vector<int64_t> s = {d.batch};
            s.insert(s.end(), row.begin(), row.end());
            return s;
        };
        add("x", "input", int(e), "f32", rows(spec.x_row), 0);
        add("y", "input", int(e), spec.classifier ? "i32" : "f32", rows(spec.y_row), 0);
        add(spec.classifier ? "logits" : "prediction", "output", int(e), "f32",
            rows(spec.classifier ? std::vector<int64_t>{2} : spec.x_row), 0);
        if (d.kind == "train") {
            add("lr", "lr", int(e), "f32", {}, 0);
            add("step", "step", int(e), "f32", {}, 0);
        }
        add("loss", "loss", int(e), "f32", {}, 0);
    }
    return fmt::format("{{\n  \"model\": \"{}\",\n  \"arena_bytes\": {},\n  \"entries\": [\n    {}\n  ],\n"
                       "  \"tensors\": [\n    {}\n  ],\n  \"train\": {{{}}}\n}}",
                       spec.model, offset, fmt::join(entries, ",\n    "), fmt::join(tensors, ",\n    "), spec.train);
}

kiln::ModelAbi model() {
    activate(kiln_manifest);
    return {kiln_manifest, kiln_model_ir, kiln_bind, kiln_run};
}

kiln::ModelAbi model_with_manifest(const std::string &text) {
    const char *kept = g_texts.emplace_back(text).c_str();
    // A manifest the runtime must refuse is never run; the fake only needs to parse what runs.
    try {
        activate(kept);
    } catch (const std::exception &) {
        g_manifest.reset();
        calls.clear();
    }
    return {kept, kiln_model_ir, bind, run_regression};
}

kiln::ModelAbi classifier(const std::string &text) {
    const char *kept = g_texts.emplace_back(text.empty() ? manifest(classifier_spec()) : text).c_str();
    try {
        activate(kept);
    } catch (const std::exception &) {
        g_manifest.reset();
        calls.clear();
    }
    return {kept, "module @fake_classifier {}\n", bind, run_classifier};
}

}  // namespace fake

extern "C" {

const char kiln_manifest[] = R"({
  "model": "fake_linear",
  "arena_bytes": 2624,
  "entries": [
    {"name": "train_step", "kind": "train", "batch": 32},
    {"name": "train_step_tail", "kind": "train", "batch": 4},
    {"name": "eval", "kind": "eval", "batch": 100}
  ],
  "tensors": [
    {"name": "fc.weight", "role": "param", "dtype": "f32", "shape": [1, 1], "offset": 0, "fan_in": 1},
    {"name": "fc.bias", "role": "param", "dtype": "f32", "shape": [1], "offset": 64, "fan_in": 1},
    {"name": "fc.weight.momentum_buffer", "role": "state", "dtype": "f32", "shape": [1, 1], "offset": 128},
    {"name": "fc.bias.momentum_buffer", "role": "state", "dtype": "f32", "shape": [1], "offset": 192},
    {"name": "x", "role": "input", "entry": 0, "dtype": "f32", "shape": [32, 1], "offset": 256},
    {"name": "y", "role": "input", "entry": 0, "dtype": "f32", "shape": [32, 1], "offset": 384},
    {"name": "prediction", "role": "output", "entry": 0, "dtype": "f32", "shape": [32, 1], "offset": 512},
    {"name": "lr", "role": "lr", "entry": 0, "dtype": "f32", "shape": [], "offset": 640},
    {"name": "step", "role": "step", "entry": 0, "dtype": "f32", "shape": [], "offset": 704},
    {"name": "loss", "role": "loss", "entry": 0, "dtype": "f32", "shape": [], "offset": 768},
    {"name": "x", "role": "input", "entry": 1, "dtype": "f32", "shape": [4, 1], "offset": 832},
    {"name": "y", "role": "input", "entry": 1, "dtype": "f32", "shape": [4, 1], "offset": 896},
    {"name": "prediction", "role": "output", "entry": 1, "dtype": "f32", "shape": [4, 1], "offset": 960},
    {"name": "lr", "role": "lr", "entry": 1, "dtype": "f32", "shape": [], "offset": 1024},
    {"name": "step", "role": "step", "entry": 1, "dtype": "f32", "shape": [], "offset": 1088},
    {"name": "loss", "role": "loss", "entry": 1, "dtype": "f32", "shape": [], "offset": 1152},
    {"name": "x", "role": "input", "entry": 2, "dtype": "f32", "shape": [100, 1], "offset": 1216},
    {"name": "y", "role": "input", "entry": 2, "dtype": "f32", "shape": [100, 1], "offset": 1664},
    {"name": "prediction", "role": "output", "entry": 2, "dtype": "f32", "shape": [100, 1], "offset": 2112},
    {"name": "loss", "role": "loss", "entry": 2, "dtype": "f32", "shape": [], "offset": 2560}
  ],
  "train": {"dataset": "regression", "task": "regression", "epochs": 25, "steps": 0, "batch": 32,
            "shuffle": true, "drop_last": false, "lr": 0.5, "log_every": 5}
})";

const char kiln_model_ir[] = "module @fake_linear {\n  // Linear(1, 1), MSE, SGD(momentum=0.5)\n}\n";

int kiln_bind(uint8_t *arena) { return fake::bind(arena); }

int kiln_run(int entry) { return fake::run_regression(entry); }

}  // extern "C"
