// The C interface between a compiled model and the kiln runtime.
//
// `kiln compile` emits these symbols into the model's host object; the runtime's main() reads
// the manifest, allocates one arena of `arena_bytes`, fills parameters, optimizer state and
// inputs at the offsets the manifest gives, and runs the entries.
#ifndef KILN_MODEL_ABI_H
#define KILN_MODEL_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// NUL-terminated JSON describing the entries, the arena layout and the training defaults:
// {
//   "model": "optimizers_adam",
//   "arena_bytes": 40960,                        // needs a 64-byte aligned base
//   "entries": [                                 // what kiln_run(i) runs
//     {"name": "train_step",      "kind": "train", "batch": 32,
//      "kernels": ["kiln_add_matmul_0", ...]},  // optional: the kernel of each call, in order
//     {"name": "train_step_tail", "kind": "train", "batch": 8},   // the short last batch
//     {"name": "eval",            "kind": "eval",  "batch": 1000} // forward only, no update
//   ],
//   "tensors": [
//     // Shared by every entry (no "entry" key):
//     {"name": "hidden.weight", "role": "param", "dtype": "f32", "shape": [10, 1],
//      "offset": 0, "fan_in": 1},                // PyTorch default init: U(-1/sqrt(fan_in), +)
//     {"name": "hidden.weight.exp_avg", "role": "state", ...},    // starts at zero
//     // Per entry ("entry" is the index into "entries"); dimension 0 of inputs and outputs
//     // is that entry's batch:
//     {"name": "x",    "role": "input",  "entry": 0, "dtype": "f32", "shape": [32, 1], ...},
//     {"name": "y",    "role": "input",  "entry": 0, "dtype": "i32", "shape": [32], ...},
//     {"name": "lr",   "role": "lr",     "entry": 0, "shape": [], ...},  // f32, train entries
//     {"name": "step", "role": "step",   "entry": 0, "shape": [], ...},  // f32 t = 1, 2, ...
//     // A train entry that draws random numbers (dropout): the generator's key, i32
//     // (seed & 0xffffffff, seed >> 32, t, rank), written before every run:
//     {"name": "random", "role": "random", "entry": 0, "dtype": "i32", "shape": [4], ...},
//     {"name": "loss", "role": "loss",   "entry": 0, "shape": [], ...},  // f32
//     {"name": "prediction", "role": "output", "entry": 0, ...}          // other results
//   ],
//   "train": {"dataset": "optimizers", "task": "regression",   // or "classification"
//             "epochs": 12, "steps": 0,                          // steps > 0 overrides epochs
//             "batch": 32, "shuffle": true, "drop_last": false,
//             "lr": 0.01, "log_every": 10,
//             // Optional (defaults: "", 0, 0, 0): the folder of a folder-read dataset such as
//             // "mnist"; evaluate every N steps on the first M test rows (0: all); print K
//             // predictions beside their labels at the end.
//             "data_dir": "/usr/share/datasets/fashion-mnist",
//             "eval_every": 50, "eval_subset": 2000, "show_predictions": 10}
// }
extern const char kiln_manifest[];

// The model as traced (the kiln IR module text), stored in whole-net checkpoints so that a
// model can be restored without its C++ source.
extern const char kiln_model_ir[];

// Points every kernel buffer at `arena` (+ its offset) and computes constants. Returns 0.
int kiln_bind(uint8_t *arena);

// Null unless the runtime times kernels (--kernel-times): then kiln_run calls it with
// (entry, i) just before the entry's kernel call i and with (entry, number of calls) after
// the last one. The manifest's "kernels" of each entry name those calls.
extern void (*kiln_kernel_clock)(int entry, int call);

// Null unless the runtime keeps kernel outputs (--dump-kernels): then kiln_run calls it after
// each kernel call of an entry, once per output, with the output's element type (a kiln::DType,
// kiln/types.h), its shape as the IR types the value, and its bytes on the host (a GPU build
// copies them there first).
extern void (*kiln_kernel_probe)(int entry, int call, int output, int dtype, int rank, const int64_t *shape,
                                 const void *data);

// Runs entry `entry` over the bound arena. A train entry reads params, state, its inputs, lr
// and step; writes its loss and outputs, then the updated params and state in place. An eval
// entry reads params and its inputs and writes its loss and outputs. Returns 0, or the failing
// kernel's Halide error code (-1 for an unknown entry).
int kiln_run(int entry);

// A GPU build keeps every buffer that lives across steps (parameters, optimizer state) on the
// device; a run copies only its inputs, lr and step in and its loss and outputs out. The runtime
// calls kiln_to_device after writing parameters or state into the arena, and kiln_to_host
// before reading them. Both return 0 or Halide's error code; a host build's do nothing.
int kiln_to_device(void);
int kiln_to_host(void);

// Data-parallel builds (kiln compile --ranks R; the manifest's "ranks" > 1) call the runtime's
// collectives (kiln/ranks.h) where the manifest's "collectives" of each entry say:
// kiln_all_reduce_start(entry, k, input, output) starts collective k of the entry, the sum over
// ranks of the f32 buffer `input` into `output` (Halide buffer descriptors, both left alone
// until the wait); kiln_all_reduce_wait(entry, k) returns when `output` holds the sum. Between
// kernel calls while one is in flight, kiln_all_reduce_poll() lets the exchange progress. The
// first two return 0 or an error code.
struct halide_buffer_t;
int kiln_all_reduce_start(int entry, int collective, struct halide_buffer_t *input, struct halide_buffer_t *output);
int kiln_all_reduce_wait(int entry, int collective);
void kiln_all_reduce_poll(void);

// Points at the number of bytes copied between host and device so far (0 for a host build); a
// run's share is its difference.
extern int64_t *kiln_device_bytes;

#ifdef __cplusplus
}
#endif

#endif
