// The fake models of fake_model.h: ABI v2 in plain C++, tensors found by name in the manifest.
#include "fake_model.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>

#include "kiln/manifest.h"
#include "kiln/model_abi.h"

namespace fake {

int64_t fail_at_step = 0;
bool fail_eval = false;
bool record_calls = true;
std::vector<Call> calls;

namespace {

uint8_t *g_arena = nullptr;
std::deque<std::string> g_texts; // every manifest handed out stays alive for its ModelAbi
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
  train = e.kind == kiln::EntryKind::train;
  batch = e.batch;
  const kiln::TensorSpec *x = in_entry("x", entry);
  Call call{entry, train ? *f32(in_entry("step", entry)) : 0.0f, {}};
  if (record_calls) {
    call.x.assign(f32(x), f32(x) + x->numel());
    if (const kiln::TensorSpec *key = g_manifest->find_role(kiln::Role::Random, entry))
      call.key.assign(i32(key), i32(key) + 4);
    calls.push_back(call);
  }
  return train ? fail_at_step != 0 && call.step == float(fail_at_step) : fail_eval;
}

int run_regression(int entry) {
  if (!g_manifest || entry < 0 || entry >= int(g_manifest->entries.size()))
    return -1;
  bool train;
  int64_t n;
  if (begin_run(entry, train, n))
    return kFailCode;
  float *w = f32(shared("fc.weight")), *b = f32(shared("fc.bias"));
  const float *x = f32(in_entry("x", entry)), *y = f32(in_entry("y", entry)); // (N, 1)
  float *pred = f32(in_entry("prediction", entry));                           // (N, 1)
  double loss = 0, dw = 0, db = 0;
  for (int64_t i = 0; i < n; ++i) {
    pred[i] = *w * x[i] + *b;
    double r = double(pred[i]) - double(y[i]);
    loss += r * r;
    dw += 2 * r * x[i]; // dL/dw = mean(2 (pred - y) x)
    db += 2 * r;        // dL/db = mean(2 (pred - y))
  }
  *f32(in_entry("loss", entry)) = float(loss / double(n));
  if (!train)
    return 0;
  const float t = *f32(in_entry("step", entry)), lr = *f32(in_entry("lr", entry));
  const float grads[2] = {float(dw / double(n)), float(db / double(n))};
  float *params[2] = {w, b};
  float *bufs[2] = {f32(shared("fc.weight.momentum_buffer")), f32(shared("fc.bias.momentum_buffer"))};
  for (int k = 0; k < 2; ++k) {
    *bufs[k] = t == 1.0f ? grads[k] : 0.5f * *bufs[k] + grads[k]; // PyTorch: the first step takes the gradient
    *params[k] -= lr * *bufs[k];
  }
  return 0;
}

// Linear(F, C) and cross-entropy: dL/dlogits = (softmax - onehot) / N. Plain SGD, or SGD with
// momentum 0.9 when the manifest has momentum buffers (PyTorch's rule: the first step takes the
// gradient). F and C come from fc.weight's shape (C, F); x is read as (N, F) whatever its rank.
int run_classifier(int entry) {
  if (!g_manifest || entry < 0 || entry >= int(g_manifest->entries.size()))
    return -1;
  bool train;
  int64_t n;
  if (begin_run(entry, train, n))
    return kFailCode;
  const kiln::TensorSpec *ws = shared("fc.weight");
  const int64_t classes = ws->shape[0], features = ws->shape[1];
  float *w = f32(ws), *b = f32(shared("fc.bias")); // (C, F) as (out, in), (C,)
  const float *x = f32(in_entry("x", entry));      // (N, F)
  const int32_t *y = i32(in_entry("y", entry));    // (N,)
  float *logits = f32(in_entry("logits", entry));  // (N, C)
  double loss = 0;
  std::vector<double> dw(static_cast<size_t>(classes * features)), db(static_cast<size_t>(classes));
  std::vector<double> z(static_cast<size_t>(classes)), p(static_cast<size_t>(classes));
  for (int64_t i = 0; i < n; ++i) {
    const float *xi = x + i * features;
    for (int64_t o = 0; o < classes; ++o) {
      float acc = 0;
      for (int64_t k = 0; k < features; ++k)
        acc += w[o * features + k] * xi[k];
      z[size_t(o)] = logits[i * classes + o] = acc + b[o];
    }
    double m = *std::max_element(z.begin(), z.end()), s = 0;
    for (int64_t o = 0; o < classes; ++o)
      s += std::exp(z[size_t(o)] - m);
    for (int64_t o = 0; o < classes; ++o)
      p[size_t(o)] = std::exp(z[size_t(o)] - m) / s;
    loss += -(z[size_t(y[i])] - m - std::log(s));
    for (int64_t o = 0; o < classes; ++o) {
      double g = (p[size_t(o)] - (y[i] == o)) / double(n);
      db[size_t(o)] += g;
      for (int64_t k = 0; k < features; ++k)
        dw[size_t(o * features + k)] += g * xi[k];
    }
  }
  *f32(in_entry("loss", entry)) = float(loss / double(n));
  if (!train)
    return 0;
  const float lr = *f32(in_entry("lr", entry)), t = *f32(in_entry("step", entry));
  const kiln::TensorSpec *wbuf = shared("fc.weight.momentum_buffer"), *bbuf = shared("fc.bias.momentum_buffer");
  auto update = [&](float *param, float *buf, const std::vector<double> &grad) {
    for (size_t k = 0; k < grad.size(); ++k) {
      float g = float(grad[k]);
      if (buf)
        g = buf[k] = t == 1.0f ? g : 0.9f * buf[k] + g;
      param[k] -= lr * g;
    }
  };
  update(b, bbuf ? f32(bbuf) : nullptr, db);
  update(w, wbuf ? f32(wbuf) : nullptr, dw);
  return 0;
}

int bind(uint8_t *arena) {
  g_arena = arena;
  return 0;
}

} // namespace

Spec classifier_spec() {
  Spec s;
  s.model = "fake_classifier";
  s.classifier = true;
  s.entries = {{"train_step", "train", 200}, {"eval", "eval", 200}};
  s.x_row = {2};
  s.y_row = {};
  s.train =
      R"("dataset": "classification", "task": "classification", "draw": true, "epochs": 100, "steps": 0, "batch": 200, )"
      R"("shuffle": false, "drop_last": false, "lr": 0.02, "log_every": 10)";
  return s;
}

std::string manifest(const Spec &spec) {
  uint64_t offset = 0;
  std::vector<std::string> tensors;
  auto add = [&](const std::string &name, const char *role, int entry, const char *dtype, std::vector<int64_t> shape,
                 int64_t fan_in) {
    uint64_t numel = 1;
    for (int64_t d : shape)
      numel *= uint64_t(d);
    std::string t = fmt::format(R"({{"name": "{}", "role": "{}", )", name, role);
    if (entry >= 0)
      t += fmt::format(R"("entry": {}, )", entry);
    t += fmt::format(R"("dtype": "{}", "shape": [{}], "offset": {})", dtype, fmt::join(shape, ", "), offset);
    if (fan_in > 0)
      t += fmt::format(R"(, "fan_in": {})", fan_in);
    tensors.push_back(t + "}");
    offset += (numel * 4 + 63) / 64 * 64;
  };
  int64_t features = 1;
  for (int64_t d : spec.x_row)
    features *= d;
  const int64_t in = spec.classifier ? features : 1, out = spec.classifier ? spec.classes : 1;
  add("fc.weight", "param", -1, "f32", {out, in}, in);
  add("fc.bias", "param", -1, "f32", {out}, in);
  if (!spec.classifier || spec.momentum) {
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
        rows(spec.classifier ? std::vector<int64_t>{spec.classes} : spec.x_row), 0);
    if (d.kind == "train") {
      add("lr", "lr", int(e), "f32", {}, 0);
      add("step", "step", int(e), "f32", {}, 0);
      if (spec.random)
        add("random", "random", int(e), "i32", {4}, 0);
    }
    add("loss", "loss", int(e), "f32", {}, 0);
  }
  return fmt::format("{{\n  \"model\": \"{}\",\n  \"arena_bytes\": {},\n  \"entries\": [\n    {}\n  ],\n"
                     "  \"tensors\": [\n    {}\n  ],\n  \"train\": {{{}}}\n}}",
                     spec.model, offset, fmt::join(entries, ",\n    "), fmt::join(tensors, ",\n    "), spec.train);
}

Spec image_classifier_spec(const std::string &data_dir) {
  Spec s;
  s.model = "fake_cnn";
  s.classifier = true;
  s.momentum = true;
  s.classes = 10;
  s.entries = {{"train_step", "train", 10}, {"eval", "eval", 10}};
  s.x_row = {1, 28, 28};
  s.y_row = {};
  s.train = fmt::format(R"("dataset": "mnist", "data_dir": "{}", "task": "classification", "draw": true, "epochs": 1, )"
                        R"("batch": 10, "shuffle": true, "lr": 0.05, "log_every": 5, "eval_every": 4, )"
                        R"("eval_subset": 20, "show_predictions": 10)",
                        data_dir);
  return s;
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

} // namespace fake

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
  "train": {"dataset": "regression", "task": "regression", "draw": true, "epochs": 25, "steps": 0, "batch": 32,
            "shuffle": true, "drop_last": false, "lr": 0.5, "log_every": 5}
})";

const char kiln_model_ir[] = "module @fake_linear {\n  // Linear(1, 1), MSE, SGD(momentum=0.5)\n}\n";

int kiln_bind(uint8_t *arena) { return fake::bind(arena); }

int kiln_run(int entry) { return fake::run_regression(entry); }
// A host build's transfers: nothing to move.
int kiln_to_device(void) { return 0; }
int kiln_to_host(void) { return 0; }

} // extern "C"
