// The training binary's command line.
//
// Contract: parse_flags() accepts exactly the flags of the table in flags.cpp, as `--flag value` or
// `--flag=value`, and throws UsageError (exit code 2) for an unknown flag, a missing value, a
// value that is not a number in range, or --resume together with --init. Unset optional fields mean "the model's
// default". print_help() lists every flag with its default; defaults that come from the model are shown when a manifest
// is given.
#ifndef KILN_FLAGS_H
#define KILN_FLAGS_H

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "kiln/manifest.h"

namespace kiln {

struct Options {
  std::optional<int64_t> steps;  // total optimizer steps; overrides epochs; unset: the model's
  std::optional<int64_t> epochs; // unset: the model's
  std::optional<double> lr;      // unset: manifest train.lr
  std::optional<bool> shuffle;   // unset: manifest train.shuffle
  bool stop_on_nonfinite = true; // --on-nonfinite stop (the default) or warn
  bool drop_last = false;        // also drop the short last batch when the model has an entry for it
  bool print_batches = false;
  uint64_t seed = 0;
  bool seed_given = false; // --seed was on the command line (a resumed run checks it)
  int threads = 1;
  bool flush_denormals = true; // --denormals flush (the default) or keep
  double comm_timeout = 300;   // seconds a rank of a data-parallel run waits for the others
  bool print_param_hash = false;
  std::optional<int> device;          // the GPU's index (a GPU build); unset: the first
  std::string init;                   // params from this safetensors file instead of random init
  std::string data;                   // a safetensors file of inputs, or the folder of a folder-read dataset
  std::string checkpoint;             // params, optimizer state and loader position at the end; empty: none
  int64_t checkpoint_every = 0;       // > 0: also every this many steps
  int checkpoint_keep = 1;            // checkpoints kept: FILE, FILE.1, ... FILE.(keep-1)
  std::string resume;                 // continue the run saved by --checkpoint in this file; empty: none
  std::optional<int64_t> eval_every;  // unset: manifest train.eval_every
  std::optional<int64_t> eval_subset; // unset: manifest train.eval_subset
  std::string metrics;                // JSON lines; empty: none
  std::string kernel_times;           // per-kernel times of the run as JSON; empty: not timed
  std::string dump_kernels;           // kernel outputs of each entry's first run; empty: none
  std::optional<std::string> output;  // picture; unset: "<model>.svg" if the model draws, "none": no picture
  std::string save;                   // final params as safetensors; empty: none
  std::string save_net;               // params + model IR as a whole-net safetensors; empty: none
  std::string predictions;            // CSV of the eval entry's inputs and outputs; empty: none
  bool quiet = false;
  bool help = false;
};

Options parse_flags(int argc, char **argv);
void print_help(std::FILE *out, const char *program, const Manifest *manifest);

// The total optimizer steps of a run: --steps, else --epochs * batches_per_epoch, else the
// model's train.steps when > 0, else the model's epochs * batches_per_epoch.
int64_t total_steps(const Options &options, const Manifest &manifest, int64_t batches_per_epoch);

// The picture path after defaults: "" when disabled.
std::string output_path(const Options &options, const Manifest &manifest);

} // namespace kiln

#endif
