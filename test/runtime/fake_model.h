// Hand-written stand-ins for compiled models (ABI v2), so the runtime is tested without the compiler.
//
// The regression fake is y = w * x + b (a Linear(1, 1)) with MSE loss and SGD with momentum 0.5;
// the classifier fake is a Linear(F, C) over the flattened x with cross-entropy loss and plain SGD
// (momentum 0.9 when the spec asks for it): F = 2, C = 2 for lessons 5/6, and F = 784, C = 10 for
// the image classifier that stands in for lesson 10's CNN (x of shape [B, 1, 28, 28]). Both are written in
// plain C++ in fake_model.cpp and find their tensors by name in the manifest of the model last
// handed out (model(), model_with_manifest() or classifier()), so any layout the builder below
// produces runs. The linked symbols (kiln_manifest, kiln_model_ir, kiln_bind, kiln_run) are the
// regression fake with entries train_step (batch 32), train_step_tail (batch 4, for the last 4 of
// the 100 regression rows) and eval (batch 100).
#ifndef KILN_TEST_FAKE_MODEL_H
#define KILN_TEST_FAKE_MODEL_H

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/train.h"

namespace fake {

// The failing variant returns this code from the train step given by fail_at_step, or from
// every eval run when fail_eval is set.
constexpr int kFailCode = -7;
extern int64_t fail_at_step; // 0: never fail
extern bool fail_eval;

// Every run of the active fake model, in order; cleared whenever a model is handed out.
struct Call {
  int entry;
  float step;               // the step tensor's value (train entries), else 0
  std::vector<float> x;     // the entry's x input as the kernel saw it
  std::vector<int32_t> key; // the entry's generator key (role "random"), if it has one
};
extern std::vector<Call> calls;
extern bool record_calls; // default true; off, calls stays empty (a whole-data run would keep every batch)

struct EntryDesc {
  std::string name, kind;
  int64_t batch;
};

// What the manifest builder varies. Defaults: the linked regression fake.
struct Spec {
  std::string model = "fake_linear";
  bool classifier = false;
  std::vector<EntryDesc> entries = {
      {"train_step", "train", 32}, {"train_step_tail", "train", 4}, {"eval", "eval", 100}};
  std::vector<int64_t> x_row = {1}, y_row = {1}; // per-row shapes of the inputs
  int64_t classes = 2;                           // classifier: the logits' width
  bool momentum = false;                         // classifier: SGD with momentum 0.9, so the run has optimizer state
  bool random = false;                           // train entries take the generator's key (a model with dropout)
  std::string train =
      R"("dataset": "regression", "task": "regression", "draw": true, "epochs": 25, "steps": 0, "batch": 32, )"
      R"("shuffle": true, "drop_last": false, "lr": 0.5, "log_every": 5)";
};
// The defaults of the classifier fake: dataset "classification", x rows [2], y rows [] (i32),
// entries train (batch 200) and eval (batch 200), 100 steps of lr 0.02.
Spec classifier_spec();
// The image classifier (lesson 10's layout, scaled down): dataset "mnist" read from data_dir,
// x [B, 1, 28, 28] f32, y [B] i32, logits [B, 10]; entries train_step (batch 10) and eval
// (batch 10); momentum, 1 epoch of lr 0.05, log_every 5, eval_every 4, eval_subset 20,
// show_predictions 10. Run it with classifier(manifest(spec)).
Spec image_classifier_spec(const std::string &data_dir);
// A manifest in the compiler's layout: params, state, then per entry x, y, the output
// ("prediction" or "logits"), lr and step (train entries), loss; each on its own 64-byte line.
std::string manifest(const Spec &spec);

// The linked regression fake.
kiln::ModelAbi model();
// The regression fake with another manifest text (kept alive by the fake).
kiln::ModelAbi model_with_manifest(const std::string &manifest);
// The classifier fake with the given manifest (default: manifest(classifier_spec())).
kiln::ModelAbi classifier(const std::string &manifest = "");

} // namespace fake

#endif
