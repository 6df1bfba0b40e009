// Command-line parsing as one table of flags (contract in kiln/flags.h).
#include "kiln/flags.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "kiln/command_line.h"
#include "kiln/datasets.h"
#include "kiln/error.h"

namespace kiln {
namespace {

[[noreturn]] void bad_value(const std::string &flag, const std::string &value, const char *expected) {
  throw UsageError(fmt::format("invalid value '{}' for {}: expected {}", value, flag, expected));
}

// Integers in [lo, hi]; strtoll alone would accept "12abc", " 12" and silently clamp overflow.
int64_t parse_int(const std::string &flag, const std::string &value, int64_t lo, int64_t hi, const char *expected) {
  if (value.empty() || !(std::isdigit((unsigned char)value[0]) || value[0] == '-'))
    bad_value(flag, value, expected);
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(value.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi)
    bad_value(flag, value, expected);
  return v;
}

uint64_t parse_u64(const std::string &flag, const std::string &value) {
  const char *expected = "a non-negative integer";
  if (value.empty() || !std::isdigit((unsigned char)value[0]))
    bad_value(flag, value, expected);
  errno = 0;
  char *end = nullptr;
  unsigned long long v = std::strtoull(value.c_str(), &end, 10);
  if (errno != 0 || *end != '\0')
    bad_value(flag, value, expected);
  return v;
}

double parse_double(const std::string &flag, const std::string &value) {
  const char *expected = "a non-negative number";
  if (value.empty() || std::isspace((unsigned char)value[0]))
    bad_value(flag, value, expected);
  errno = 0;
  char *end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(v) || v < 0)
    bad_value(flag, value, expected);
  return v;
}

std::string from_model(const Manifest *m, const std::string &value) {
  return m ? value + ", from the model" : "from the model";
}

struct Flag {
  const char *name;
  const char *value; // metavariable, or null for a switch
  const char *help;
  void (*apply)(Options &o, const std::string &flag, const std::string &value);
  std::string (*default_text)(const Manifest *m);
};

const Flag kFlags[] = {
    {"--steps", "N", "total optimizer steps; overrides --epochs; 0: only evaluate",
     [](Options &o, const std::string &f, const std::string &v) {
       o.steps = parse_int(f, v, 0, INT64_MAX, "a non-negative integer");
     },
     [](const Manifest *m) {
       return m && m->train.steps > 0 ? from_model(m, std::to_string(m->train.steps)) : std::string("from --epochs");
     }},
    {"--epochs", "N", "passes over the data; 0: only evaluate",
     [](Options &o, const std::string &f, const std::string &v) {
       o.epochs = parse_int(f, v, 0, INT64_MAX, "a non-negative integer");
     },
     [](const Manifest *m) { return from_model(m, m ? std::to_string(m->train.epochs) : ""); }},
    {"--on-nonfinite", "stop|warn",
     "a NaN or infinite loss stops the run with an error, saving nothing, or is warned about once",
     [](Options &o, const std::string &f, const std::string &v) {
       if (v != "stop" && v != "warn")
         bad_value(f, v, "stop or warn");
       o.stop_on_nonfinite = v == "stop";
     },
     [](const Manifest *) { return std::string("stop"); }},
    {"--shuffle", "on|off", "shuffle the rows every epoch (seeded by --seed and the epoch)",
     [](Options &o, const std::string &f, const std::string &v) {
       if (v != "on" && v != "off")
         bad_value(f, v, "on or off");
       o.shuffle = v == "on";
     },
     [](const Manifest *m) { return from_model(m, m ? (m->train.shuffle ? "on" : "off") : ""); }},
    {"--drop-last", nullptr, "drop the short last batch of each epoch",
     [](Options &o, const std::string &, const std::string &) { o.drop_last = true; },
     [](const Manifest *m) { return from_model(m, m ? (m->train.drop_last ? "on" : "off") : ""); }},
    {"--print-batches", nullptr, "print every batch, as the tutorial's lesson 8 does",
     [](Options &o, const std::string &, const std::string &) { o.print_batches = true; },
     [](const Manifest *) { return std::string("off"); }},
    {"--lr", "F", "learning rate",
     [](Options &o, const std::string &f, const std::string &v) { o.lr = parse_double(f, v); },
     [](const Manifest *m) { return from_model(m, m ? fmt::format("{}", m->train.lr) : ""); }},
    {"--seed", "N", "seed of the random init, the synthetic data and the shuffle order",
     [](Options &o, const std::string &f, const std::string &v) {
       o.seed = parse_u64(f, v);
       o.seed_given = true;
     },
     [](const Manifest *) { return std::string("0"); }},
    {"--threads", "N", "worker threads of the compiled kernels",
     [](Options &o, const std::string &f, const std::string &v) {
       o.threads = int(parse_int(f, v, 1, 4096, "an integer from 1 to 4096"));
     },
     [](const Manifest *) { return std::string("1"); }},
    {"--denormals", "flush|keep",
     "subnormal floats (below 1.2e-38) in the kernels: flushed to zero, or kept (IEEE, as PyTorch; slower "
     "on some CPUs)",
     [](Options &o, const std::string &f, const std::string &v) {
       if (v != "flush" && v != "keep")
         bad_value(f, v, "flush or keep");
       o.flush_denormals = v == "flush";
     },
     [](const Manifest *) { return std::string("flush"); }},
    {"--comm-timeout", "SECONDS",
     "a data-parallel run (mpirun): how long a rank waits for the others in an exchange "
     "before it stops every rank, naming the exchange",
     [](Options &o, const std::string &f, const std::string &v) {
       o.comm_timeout = double(parse_int(f, v, 1, 1000000, "a whole number of seconds from 1 to 10^6"));
     },
     [](const Manifest *) { return std::string("300"); }},
    {"--print-param-hash", nullptr, "at the end, every rank prints a hash of its parameters and optimizer state",
     [](Options &o, const std::string &, const std::string &) { o.print_param_hash = true; },
     [](const Manifest *) { return std::string("off"); }},
    {"--device", "N", "the GPU to run on, for a binary built with --target=cuda or opencl",
     [](Options &o, const std::string &f, const std::string &v) {
       o.device = int(parse_int(f, v, 0, 1023, "an integer from 0 to 1023"));
     },
     [](const Manifest *m) {
       return std::string(m && m->device == "host" ? "none: the kernels run on the CPU" : "0");
     }},
    {"--init", "FILE", "initial parameters and buffers from a .safetensors file, by name (a PyTorch state_dict)",
     [](Options &o, const std::string &, const std::string &v) { o.init = v; },
     [](const Manifest *) { return std::string("random, PyTorch's default init"); }},
    {"--data", "FILE|DIR",
     "the model's inputs, by name from a .safetensors or .npz file or from NAME=FILE.npy,...; "
     "from a .csv, its columns in the inputs' order; for a dataset read from a folder (mnist), that folder",
     [](Options &o, const std::string &, const std::string &v) { o.data = v; },
     [](const Manifest *m) {
       if (!m)
         return std::string("the model's dataset");
       const DatasetEntry *e = find_dataset(m->train.dataset);
       if (e && e->load)
         return fmt::format("the '{}' files in {}", e->name,
                            !m->train.data_dir.empty() ? m->train.data_dir
                            : e->default_dir           ? e->default_dir
                                                       : "?");
       return fmt::format("the synthetic set '{}'", m->train.dataset);
     }},
    {"--eval-every", "N",
     "evaluate every N steps and after the last (on the test split when there is one); 0: only at the end",
     [](Options &o, const std::string &f, const std::string &v) {
       o.eval_every = parse_int(f, v, 0, INT64_MAX, "a non-negative integer");
     },
     [](const Manifest *m) { return from_model(m, m ? std::to_string(m->train.eval_every) : ""); }},
    {"--eval-subset", "N", "rows of those evaluations, the first N; 0: all (the final evaluation always takes all)",
     [](Options &o, const std::string &f, const std::string &v) {
       o.eval_subset = parse_int(f, v, 0, INT64_MAX, "a non-negative integer");
     },
     [](const Manifest *m) { return from_model(m, m ? std::to_string(m->train.eval_subset) : ""); }},
    {"--metrics", "FILE", "per-step metrics as JSON lines (step, epoch, loss, step_ms, lr)",
     [](Options &o, const std::string &, const std::string &v) { o.metrics = v; },
     [](const Manifest *) { return std::string("none"); }},
    {"--kernel-times", "FILE",
     "each kernel's median time per call and roofline, entry by entry, as JSON (two clock reads per call)",
     [](Options &o, const std::string &, const std::string &v) { o.kernel_times = v; },
     [](const Manifest *) { return std::string("none"); }},
    {"--dump-kernels", "FILE",
     "every kernel call's outputs in each entry's first run, as .safetensors (what kiln diff compares)",
     [](Options &o, const std::string &, const std::string &v) { o.dump_kernels = v; },
     [](const Manifest *) { return std::string("none"); }},
    {"--output", "FILE", "picture of the fit, the classes or the training curves (.svg); 'none' disables it",
     [](Options &o, const std::string &, const std::string &v) { o.output = v; },
     [](const Manifest *m) { return m ? m->model + ".svg" : std::string("<model>.svg"); }},
    {"--checkpoint", "FILE",
     "at the end, parameters, optimizer state, buffers and the step reached as .safetensors, for --resume",
     [](Options &o, const std::string &, const std::string &v) { o.checkpoint = v; },
     [](const Manifest *) { return std::string("none"); }},
    {"--checkpoint-every", "N", "also write the --checkpoint every N steps during the run (0: only at the end)",
     [](Options &o, const std::string &f, const std::string &v) {
       o.checkpoint_every = parse_int(f, v, 0, INT64_MAX, "a non-negative integer");
     },
     [](const Manifest *) { return std::string("0"); }},
    {"--checkpoint-keep", "K", "keep the last K checkpoints: FILE, then FILE.1 (the one before), ... FILE.K-1",
     [](Options &o, const std::string &f, const std::string &v) {
       o.checkpoint_keep = int(parse_int(f, v, 1, 1000, "an integer from 1 to 1000"));
     },
     [](const Manifest *) { return std::string("1"); }},
    {"--resume", "FILE", "continue the run a --checkpoint saved, up to the total --steps (or epochs)",
     [](Options &o, const std::string &, const std::string &v) { o.resume = v; },
     [](const Manifest *) { return std::string("none"); }},
    {"--save", "FILE", "final parameters and buffers (the state_dict) as .safetensors",
     [](Options &o, const std::string &, const std::string &v) { o.save = v; },
     [](const Manifest *) { return std::string("none"); }},
    {"--save-net", "FILE", "the whole net (parameters, buffers and the model's IR) as .safetensors",
     [](Options &o, const std::string &, const std::string &v) { o.save_net = v; },
     [](const Manifest *) { return std::string("none"); }},
    {"--predictions", "FILE", "the eval entry's inputs and outputs as CSV, one row per sample",
     [](Options &o, const std::string &, const std::string &v) { o.predictions = v; },
     [](const Manifest *) { return std::string("none"); }},
    {"--quiet", nullptr, "print only warnings and errors",
     [](Options &o, const std::string &, const std::string &) { o.quiet = true; },
     [](const Manifest *) { return std::string("off"); }},
    {"--help", nullptr, "show this help and exit",
     [](Options &o, const std::string &, const std::string &) { o.help = true; }, nullptr},
};

} // namespace

Options parse_flags(int argc, char **argv) {
  Options options;
  parse_command_line(
      argc, argv, kFlags,
      [&](const Flag &flag, const std::string &name, const std::string &value) {
        // An empty file name would write nothing and say nothing (or read a file named "").
        if (flag.value && std::string_view(flag.value) == "FILE" && value.empty())
          throw UsageError(fmt::format("{} '': expected a file name", name));
        flag.apply(options, name, value);
      },
      [](const std::string &arg) { throw UsageError(fmt::format("unexpected argument '{}'", arg)); });
  if (!options.resume.empty() && !options.init.empty())
    throw UsageError("--resume and --init both set the parameters; use one");
  return options;
}

void print_help(std::FILE *out, const char *program, const Manifest *manifest) {
  fmt::print(out, "usage: {} [flags]\n\n", program);
  if (manifest)
    fmt::print(out, "Trains the model '{}', compiled ahead of time by kiln.\n\n", manifest->model);
  fmt::print(out, "flags:\n{}", flag_help(kFlags, 20, [&](const Flag &f) {
               return f.default_text ? fmt::format(" (default: {})", f.default_text(manifest)) : std::string();
             }));
}

int64_t total_steps(const Options &options, const Manifest &manifest, int64_t batches_per_epoch) {
  if (options.steps)
    return *options.steps;
  if (!options.epochs && manifest.train.steps > 0)
    return manifest.train.steps;
  int64_t epochs = options.epochs.value_or(manifest.train.epochs);
  if (batches_per_epoch > 0 && epochs > INT64_MAX / batches_per_epoch)
    throw UsageError(fmt::format("{} epochs of {} steps are too many", epochs, batches_per_epoch));
  return epochs * batches_per_epoch;
}

std::string output_path(const Options &options, const Manifest &manifest) {
  if (options.output && *options.output == "none")
    return "";
  if (!manifest.train.draw) {
    if (options.output)
      throw UserError(fmt::format("--output {}: model '{}' was compiled without pictures (its TrainConfig "
                                  "has draw = false), so it cannot draw one",
                                  *options.output, manifest.model));
    return "";
  }
  if (options.output)
    return *options.output;
  // The model name becomes a file name in the current directory; keep it one path component.
  std::string name = manifest.model.empty() ? "model" : manifest.model;
  for (char &c : name)
    if (c == '/')
      c = '_';
  return name + ".svg";
}

} // namespace kiln
