// The model manifest: the JSON a compiled model exports as `kiln_manifest` (ABI v2, model_abi.h).
//
// Contract: parse_manifest() either returns a Manifest that everything downstream may trust, or
// throws UserError("model manifest: ...") naming the offending field. A returned manifest has:
//   - at least one entry; entry names unique; kind train or eval; batch > 0; at most one eval entry;
//     no two train entries with the same batch; train.batch equal to some train entry's batch;
//   - tensors inside the arena, 4-byte aligned, with a known role and dtype f32 or i32 (i32 only
//     for inputs, outputs and random); params (positive fan_in), state and buffers (module
//     state that is not trained: BatchNorm's running statistics) shared (no "entry"); every other
//     role belongs to an entry in bounds; names unique among the shared tensors and within each
//     entry, and no entry tensor named like a shared one;
//   - inputs and outputs of rank >= 1 whose dim 0 is their entry's batch; every entry with the
//     same inputs (names, dtypes and per-row shapes), so one dataset feeds them all;
//   - per train entry exactly one loss, lr and step; per eval entry one loss and no lr or step;
//     loss, lr and step f32 scalars;
//   - per train entry at most one random (the generator's key, i32 [4]); none in an eval entry.
// Shared tensors keep manifest order; init and checkpoints follow it.
#ifndef KILN_MANIFEST_H
#define KILN_MANIFEST_H

#include "kiln/contract.h"
#include "kiln/types.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// Role, what a tensor holds, is declared with its spellings in kiln/contract.h.

// An entry index meaning "shared by every entry" (params and state).
constexpr int kShared = -1;

const char *role_name(Role role);
const char *dtype_name(DType dtype);        // manifest spelling: "f32", "i32"
const char *safetensors_dtype(DType dtype); // safetensors spelling: "F32", "I32"

struct TensorSpec {
  std::string name;
  Role role = Role::Param;
  DType dtype = DType::f32;
  std::vector<int64_t> shape; // [] is a scalar
  uint64_t offset = 0;        // bytes from the arena base
  uint64_t fan_in = 0;        // params only: PyTorch's fan_in for the default init
  // Params and buffers: a constant start ("init") instead of the uniform one (a param) or 0
  // (a buffer); a buffer that counts ("integer": num_batches_tracked) is int64 in files.
  std::optional<double> init;
  bool integer = false;
  int entry = kShared; // index into Manifest::entries, or kShared

  uint64_t numel() const;
  uint64_t bytes() const; // every dtype has 4 bytes
  // Inputs and outputs: the shape without dim 0 (the batch), and its element count.
  std::vector<int64_t> row_shape() const;
  uint64_t row_numel() const;
};

// An all-reduce the compiled step makes in a data-parallel build: the sum over ranks of
// `elements` f32 values, started before kernel call `start` and waited for before call `wait`.
struct CollectiveSpec {
  std::string of; // "loss", "<param>.grad"
  int64_t elements = 0;
  int64_t start = 0, wait = 0;
};

struct EntrySpec {
  std::string name;
  EntryKind kind = EntryKind::train;
  int64_t batch = 1;                // this process's rows per run (a data-parallel train step: its share)
  std::vector<std::string> kernels; // the kernel of each call, in order (may be absent)
  struct Work {
    int64_t flops = 0, bytes = 0; // a multiply-add counts two FLOPs; bytes read and written once
  };
  std::vector<Work> kernel_work; // each call's work, in order (may be absent)
  std::vector<CollectiveSpec> collectives;
};

struct TrainConfig {
  std::string dataset;             // a name in the dataset registry (datasets.h)
  std::string task = "regression"; // or "classification": what the eval and the picture show
  int64_t epochs = 1;
  int64_t steps = 0; // > 0 overrides epochs
  int64_t batch = 0; // the full batch; 0 in the JSON means "the first train entry's"
  bool shuffle = false;
  bool drop_last = false;
  double lr = 0;
  int64_t log_every = 10;
  bool print_batches = false;   // the model asks for --print-batches by default (lesson 8)
  std::string summary;          // printed before training, e.g. a Sequential's repr (lesson 6)
  bool draw = false;            // the binary draws a picture (and links PLplot)
  std::string data_dir;         // the folder of a folder-read dataset ("mnist"); "" for the dataset's default
  int64_t eval_every = 0;       // > 0: evaluate every eval_every steps and after the last one
  int64_t eval_subset = 0;      // rows of those evaluations (the first ones of the test split); 0: all
  int64_t show_predictions = 0; // classification: print this many predictions beside their labels
};

struct Manifest {
  std::string model;
  uint64_t arena_bytes = 0;
  std::vector<EntrySpec> entries;
  std::vector<TensorSpec> tensors; // in manifest order
  TrainConfig train;
  std::string device = "host"; // where the kernels run: host, cuda or opencl
  // The processes the train steps were compiled for (kiln compile --ranks): each takes
  // batch / ranks rows of every batch, and the steps add up their shares of the loss and
  // its gradients over them.
  int64_t ranks = 1;
  // The floats per vector the kernels were scheduled for (a host build), keying the measured
  // machine limits their times are set against (kiln/roofline.h); 0 where unknown.
  int64_t vector_lanes = 0;

  // The tensor called `name` in `entry` (kShared: a param or state), or null.
  const TensorSpec *find(std::string_view name, int entry = kShared) const;
  // The first tensor of `role` in `entry`, or null.
  const TensorSpec *find_role(Role role, int entry) const;
  // Every tensor of `role`, all entries included, in manifest order.
  std::vector<const TensorSpec *> with_role(Role role) const;
  // The tensors of `role` in `entry`, in manifest order.
  std::vector<const TensorSpec *> entry_tensors(int entry, Role role) const;

  int train_entry(int64_t batch) const; // the train entry of this batch, or -1
  int eval_entry() const;               // the eval entry, or -1
};

// Parses and validates; throws UserError("model manifest: ...").
Manifest parse_manifest(std::string_view json);

// "[100, 1]", the form used in every shape message.
std::string shape_string(const std::vector<int64_t> &shape);

} // namespace kiln

#endif
