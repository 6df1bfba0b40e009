// The C interface between a compiled model and the kiln runtime.
//
// `kiln compile` emits these three symbols into the model's host object; the runtime's
// main() reads the manifest, allocates one arena of `arena_bytes`, fills parameters,
// optimizer state and inputs at the offsets the manifest gives, and calls the step.
#ifndef KILN_MODEL_ABI_H
#define KILN_MODEL_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// NUL-terminated JSON describing the arena layout and the training defaults:
// {
//   "model": "regression",
//   "arena_bytes": 40960,                       // 64-byte aligned base required
//   "tensors": [                                // every tensor the runtime touches
//     {"name": "fc1.weight", "role": "param",  "dtype": "f32", "shape": [10, 1],
//      "offset": 0, "fan_in": 1},               // PyTorch default init: U(-1/sqrt(fan_in), +)
//     {"name": "fc1.weight.momentum_buffer", "role": "state", ...},   // starts at zero
//     {"name": "x",    "role": "input",  ...},  // fed from the dataset (or --data)
//     {"name": "lr",   "role": "lr",     "shape": [], ...},  // f32 learning rate, written per step
//     {"name": "step", "role": "step",   "shape": [], ...},  // f32 step count t = 1, 2, ...
//     {"name": "loss", "role": "loss",   "shape": [], ...},  // f32 loss of this step's forward
//     {"name": "prediction", "role": "output", ...}          // other forward results
//   ],
//   "train": {"dataset": "regression", "steps": 100, "lr": 0.5, "log_every": 5}
// }
extern const char kiln_manifest[];

// Points every kernel buffer at `arena` (+ its offset). Returns 0.
int kiln_bind(uint8_t *arena);

// One training step over the bound arena: reads params, state, inputs, lr and step; writes
// loss and outputs, then the updated params and state in place. Returns 0, or the failing
// kernel's Halide error code.
int kiln_train_step(void);

#ifdef __cplusplus
}
#endif

#endif
