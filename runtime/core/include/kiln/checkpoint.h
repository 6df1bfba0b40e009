// Training checkpoints: --checkpoint writes one at the end of a run, --resume continues it.
//
// Contract: save_checkpoint() writes, atomically (write_safetensors), every param, state and
// buffer tensor of the manifest in manifest order (a buffer as the arena holds it, f32), and the run's position as
// string metadata:
//   kiln.format "checkpoint", kiln.model, kiln.dataset, kiln.seed, kiln.step (optimizer steps
//   done), kiln.epoch and kiln.batch_in_epoch (where the next batch is: the loader's order is a
//   function of seed and epoch, so these continue it exactly), kiln.batches_per_epoch,
//   kiln.batch, kiln.data_rows, kiln.shuffle and kiln.drop_last ("true"/"false": the loader
//   settings the position is only meaningful with).
// load_checkpoint() refuses, with UserError "FILE: ...", a file that is not a kiln training
// checkpoint (a --save params file included), one of another model, one whose metadata is missing
// or inconsistent (epoch * batches_per_epoch + batch_in_epoch != step), and one whose tensors
// differ from the model's params, state and buffers (missing, extra, other dtype or shape: the message
// names the tensor); only then does it copy the tensors into the arena and return the position.
// check_resumable() refuses a position that this run's loader would not continue exactly: another
// seed, batch, number of training rows or batches per epoch, shuffle or drop_last setting.
// Resumed for the same total steps, a run gives bit-identical params and state to one that
// never stopped (the train loop restarts at batch kiln.batch_in_epoch of epoch kiln.epoch with
// the step counter at kiln.step + 1).
#ifndef KILN_CHECKPOINT_H
#define KILN_CHECKPOINT_H

#include <cstdint>
#include <string>

#include "kiln/arena.h"
#include "kiln/manifest.h"

namespace kiln {

struct RunPosition {
  std::string model, dataset;
  uint64_t seed = 0;
  int64_t step = 0;           // optimizer steps done
  int64_t epoch = 0;          // the epoch of the next batch
  int64_t batch_in_epoch = 0; // the next batch's index within that epoch
  int64_t batches_per_epoch = 0;
  int64_t batch = 0;     // the loader's full batch
  int64_t data_rows = 0; // rows of the training data
  bool shuffle = false, drop_last = false;
};

void save_checkpoint(const std::string &path, const Manifest &manifest, const Arena &arena, const RunPosition &pos);
RunPosition load_checkpoint(const std::string &path, const Manifest &manifest, Arena &arena);
void check_resumable(const std::string &path, const RunPosition &saved, const RunPosition &now);

} // namespace kiln

#endif
