// The one command-line grammar of kiln's programs (the training binary, kiln-plot): flags from
// a table, given as `--flag value` or `--flag=value`, switches without a value, and positional
// arguments. Each table entry has `name` ("--steps") and `value` (its metavariable, or null for
// a switch).
//
// Contract: parse_command_line() calls on_flag(entry, name, value) for each flag, in order, and
// on_positional(arg) for each argument that does not start with '-'. It throws UsageError for
// an unknown flag, a switch given a value, or a flag missing its value.
#ifndef KILN_COMMAND_LINE_H
#define KILN_COMMAND_LINE_H

#include <fmt/format.h>

#include <string>

#include "kiln/error.h"

namespace kiln {

template <typename Flag, size_t N, typename OnFlag, typename OnPositional>
void parse_command_line(int argc, char **argv, const Flag (&table)[N], OnFlag on_flag, OnPositional on_positional) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string name = arg, value;
    bool inline_value = false;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    const Flag *flag = nullptr;
    for (const Flag &f : table)
      if (name == f.name)
        flag = &f;
    if (!flag) {
      if (arg.rfind("-", 0) == 0)
        throw UsageError(fmt::format("unknown flag '{}'", name));
      on_positional(arg);
      continue;
    }
    if (!flag->value) {
      if (inline_value)
        throw UsageError(fmt::format("flag '{}' takes no value", name));
    } else if (!inline_value) {
      if (i + 1 >= argc)
        throw UsageError(fmt::format("flag '{}' needs a value ({})", name, flag->value));
      value = argv[++i];
    }
    on_flag(*flag, name, value);
  }
}

// One help line per flag: "  --name VALUE        help" with the flag column `width` wide.
template <typename Flag, size_t N, typename Suffix>
std::string flag_help(const Flag (&table)[N], int width, Suffix suffix) {
  std::string out;
  for (const Flag &f : table) {
    std::string left = f.value ? fmt::format("{} {}", f.name, f.value) : f.name;
    // A flag as wide as the column, or wider, keeps a space before its help.
    out += fmt::format("  {:<{}} {}{}\n", left, width - 1, f.help, suffix(f));
  }
  return out;
}

} // namespace kiln

#endif
