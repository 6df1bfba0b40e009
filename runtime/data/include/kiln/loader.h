// The data loader: epochs of batches over a Dataset, copied into the train entries' inputs.
//
// Contract (B = config.batch, N = dataset rows, r = N % B):
//   - order(epoch) is the epoch's permutation of 0..N-1: the identity when shuffle is off;
//     otherwise a Fisher-Yates shuffle drawn from Rng(seed, RngStream::Shuffle, epoch): starting
//     from the identity, for i = N-1 down to 1, j = below(i + 1), swap(order[i], order[j]).
//     Same seed and epoch, same order; the epochs of one run differ.
//   - batches(epoch) cuts that order into N / B batches of B consecutive rows, all for the train
//     entry of batch B, then, when r > 0, one tail batch of the last r rows for the train entry of
//     batch r -- unless drop_last is set, in which case those rows are left out of the epoch
//     (tail_note() says so). Without drop_last, no train entry of batch r throws UserError.
//   - data parallel (ranks R > 1): B and r are global; rank k's Batch holds the k-th of R equal
//     consecutive parts of each batch's rows, for the train entry of batch B / R (r / R for the
//     tail; a tail that does not split evenly throws UserError). Every rank draws the same order.
//   - copy(batch, arena) writes the batch's rows, in batch order, into every input of its entry.
// The Loader keeps references to the manifest and dataset; both must outlive it.
#ifndef KILN_LOADER_H
#define KILN_LOADER_H

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/arena.h"
#include "kiln/datasets.h"
#include "kiln/manifest.h"

namespace kiln {

struct LoaderConfig {
  int64_t batch = 1; // the global batch: batch / ranks must be the batch of a train entry
  bool shuffle = false;
  bool drop_last = false;
  uint64_t seed = 0;
  int ranks = 1, rank = 0; // a data-parallel run's processes, and this one
};

struct Batch {
  int entry = -1;            // the train entry that runs it
  int64_t epoch = 0;         // 0-based
  int64_t index = 0;         // 0-based position within the epoch
  std::vector<int64_t> rows; // dataset rows, in batch order (this rank's part)
};

class Loader {
public:
  Loader(const Manifest &manifest, const Dataset &data, const LoaderConfig &config);

  std::vector<int64_t> order(int64_t epoch) const;
  std::vector<Batch> batches(int64_t epoch) const;
  int64_t batches_per_epoch() const { return full_batches_ + (tail_entry_ >= 0 ? 1 : 0); }
  int tail_entry() const { return tail_entry_; } // -1 when there is no tail batch
  // "" when every row is used each epoch; otherwise why the last rows are dropped.
  const std::string &tail_note() const { return tail_note_; }
  void copy(const Batch &batch, Arena &arena) const;

private:
  const Manifest &manifest_;
  const Dataset &data_;
  LoaderConfig config_;
  int full_entry_ = -1, tail_entry_ = -1;
  int64_t full_batches_ = 0;
  std::string tail_note_;
};

// Copies dataset `rows` into every input of `entry` (rows.size() must be the entry's batch).
void copy_rows(const Manifest &manifest, const Dataset &data, int entry, const std::vector<int64_t> &rows,
               Arena &arena);

// One --print-batches line, as the tutorial prints it:
// "Epoch:  0 | Step:  0 | batch x:  [ 5.  7. 10.  3.  4.] | batch y:  [6. 4. 1. 8. 7.]".
std::string format_batch(const Manifest &manifest, const Dataset &data, const Batch &batch);

} // namespace kiln

#endif
