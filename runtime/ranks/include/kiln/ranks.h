// The processes of a data-parallel run.
//
// A model compiled with `kiln compile --ranks R` is started as R processes by `mpirun -np R`;
// each trains on its share of every batch (loader.h) and the compiled step adds up the
// ranks' shares of the loss and of its gradients (kiln_all_reduce_* below), so every rank holds the same
// parameters after every step. Rank 0 alone prints, writes metrics, pictures, checkpoints and
// saved parameters; evaluation is split between ranks and reduced.
//
// Two implementations: libkiln_mpi (Open MPI), linked into data-parallel builds (with
// libkiln_nccl for the all-reduces of a CUDA build), and libkiln_nompi, linked into every
// other build, where there is one rank and a binary started by mpirun as one of several
// processes refuses to run (it would train R separate models).
//
// Every collective here and in the step waits at most the run's timeout (set_comm_timeout);
// a rank that waits longer says which exchange it was waiting for and stops every rank, so a
// rank that died or hung never leaves the others waiting forever.
#ifndef KILN_RANKS_H
#define KILN_RANKS_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/manifest.h"

namespace kiln {

struct RankInfo {
  int rank = 0;       // 0-based
  int size = 1;       // processes in the run
  int local_size = 1; // of them, on this machine
  int local_rank = 0; // this one's place among them: the GPU it takes by default
};

// Joins the run's processes (MPI_Init) when started by mpirun, and checks that their number is
// the one the model was compiled for; throws UserError otherwise, naming both.
void start_ranks(const Manifest &manifest);
const RankInfo &ranks();

// Seconds any collective may wait for the other ranks (default 300).
void set_comm_timeout(double seconds);

// Element-wise sums over ranks, received by every rank.
void sum_over_ranks(double *values, size_t n);
void sum_over_ranks(float *values, size_t n);
void sum_over_ranks(int32_t *values, size_t n);
// Rank 0's bytes, to every rank.
void broadcast_from_rank0(void *data, size_t bytes);
// Every rank's value, in rank order.
std::vector<uint64_t> gather_over_ranks(uint64_t value);

// Called with the error of a run that fails: with several ranks, prints it with this rank's
// number and stops every rank (MPI_Abort), since the others would wait for it; returns
// otherwise, and the caller reports the error itself.
void fail_ranks(const std::string &message);
// Leaves the run after a success (MPI_Finalize).
void finish_ranks();

// What the step's all-reduces cost over the steps after the first (whose waits hold the ranks'
// start-up skew): calls, bytes sent, the bytes of those already done when the step came to
// wait for them (exchanged behind compute), and the time spent waiting for the others (the
// exchange itself, and ranks that were behind).
struct CommStats {
  int64_t steps = 0;
  int64_t all_reduces = 0;
  int64_t bytes = 0;
  int64_t bytes_done_before_wait = 0;
  double wait_ms = 0;
};
CommStats comm_stats();
// The time of one blocking all-reduce of each of `elements` (f32 counts) in turn: what the step's
// exchanges would cost with nothing to overlap them (median of `repeats`).
double blocking_all_reduce_ms(const std::vector<int64_t> &elements, int repeats);

} // namespace kiln

#endif
