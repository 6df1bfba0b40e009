// A hand-written stand-in for a compiled model, so the runtime is tested without the compiler.
//
// The model is y = w * x + b (a Linear(1, 1)) with MSE loss and SGD with momentum 0.5, on the
// "regression" dataset's 100 x 1 columns, written in plain C++ in fake_model.cpp. It exports the
// three symbols of model_abi.h; kFakeLayout names where each tensor lives so tests can look.
#ifndef KILN_TEST_FAKE_MODEL_H
#define KILN_TEST_FAKE_MODEL_H

#include <cstdint>

#include "kiln/train.h"

namespace fake {

constexpr int64_t kRows = 100;

// The failing variant returns this code from the step given by fail_at_step.
constexpr int kFailCode = -7;
extern int64_t fail_at_step;  // 0: never fail

// The linked fake model (kiln_manifest, kiln_bind, kiln_train_step).
kiln::ModelAbi model();
// The same model with another manifest text, for tests of manifest and dataset errors.
kiln::ModelAbi model_with_manifest(const char *manifest);

}  // namespace fake

#endif
