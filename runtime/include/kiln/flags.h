// The training binary's command line.
//
// Contract: parse_flags() accepts exactly the flags of the table in flags.cpp, as `--flag value` or
// `--flag=value`, and throws UsageError (exit code 2) for an unknown flag, a missing value or a
// value that is not a number in range. Unset optional fields mean "the model's default".
// print_help() lists every flag with its default; defaults that come from the model are shown
// when a manifest is given.
#ifndef KILN_FLAGS_H
#define KILN_FLAGS_H

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "kiln/manifest.h"

namespace kiln {

struct Options {
    std::optional<int64_t> steps;  // unset: manifest train.steps
    std::optional<double> lr;      // unset: manifest train.lr
    uint64_t seed = 0;
    int threads = 1;
    std::string init;                   // params from this safetensors file instead of random init
    std::string data;                   // inputs from this safetensors file instead of the dataset
    std::string metrics;                // JSON lines; empty: none
    std::optional<std::string> output;  // picture; unset: "<model>.svg", "none": no picture
    std::string save;                   // final params as safetensors; empty: none
    bool quiet = false;
    bool help = false;
};

Options parse_flags(int argc, char **argv);
void print_help(std::FILE *out, const char *program, const Manifest *manifest);

// The picture path after defaults: "" when disabled.
std::string output_path(const Options &options, const Manifest &manifest);

}  // namespace kiln

#endif
