// kiln-plot's command line and work (contract in kiln/plot_tool.h).
#include "kiln/plot_tool.h"

#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "kiln/command_line.h"
#include "kiln/error.h"
#include "kiln/metrics.h"
#include "kiln/plot.h"

namespace kiln {
namespace {

struct PlotArgs {
  std::string output;
  CurvesPlot plot;
  std::vector<std::string> files; // parallel to plot.curves
  bool help = false;
};

struct PlotFlag {
  const char *name;
  const char *value; // null for a switch
  const char *help;
  void (*apply)(PlotArgs &a, const std::string &value);
};

const PlotFlag kPlotFlags[] = {
    {"--output", "FILE", "the picture (.svg); required", [](PlotArgs &a, const std::string &v) { a.output = v; }},
    {"--title", "T", "the picture's title (default: \"loss\")",
     [](PlotArgs &a, const std::string &v) { a.plot.title = v; }},
    {"--ylog", nullptr, "logarithmic loss axis", [](PlotArgs &a, const std::string &) { a.plot.ylog = true; }},
    {"--help", nullptr, "show this help and exit", [](PlotArgs &a, const std::string &) { a.help = true; }},
};

std::string usage() {
  return "usage: kiln-plot --output FILE.svg [--title T] [--ylog] LABEL=metrics.jsonl ...\n\n"
         "Draws the loss of each metrics file (JSON lines written by a kiln training binary's --metrics)\n"
         "against the step, one curve per LABEL, with a legend.\n\n"
         "flags:\n" +
         flag_help(kPlotFlags, 16, [](const PlotFlag &) { return std::string(); });
}

PlotArgs parse(int argc, char **argv) {
  PlotArgs a;
  a.plot.title = "loss";
  parse_command_line(
      argc, argv, kPlotFlags, [&](const PlotFlag &f, const std::string &, const std::string &v) { f.apply(a, v); },
      [&](const std::string &arg) {
        size_t eq = arg.find('=');
        if (eq == std::string::npos)
          throw UsageError(fmt::format("'{}' is not LABEL=FILE (for example adam=adam.jsonl)", arg));
        std::string label = arg.substr(0, eq), file = arg.substr(eq + 1);
        if (label.empty())
          throw UsageError(fmt::format("'{}' has an empty label", arg));
        if (file.empty())
          throw UsageError(fmt::format("'{}' has an empty file name", arg));
        for (const Curve &c : a.plot.curves)
          if (c.label == label)
            throw UsageError(fmt::format("label '{}' is given twice", label));
        a.plot.curves.push_back({label, {}, {}});
        a.files.push_back(file);
      });
  if (a.help)
    return a;
  if (a.output.empty())
    throw UsageError("--output FILE.svg is required");
  if (a.plot.curves.empty())
    throw UsageError("no curves: give at least one LABEL=metrics.jsonl");
  return a;
}

} // namespace

int plot_tool_main(int argc, char **argv) {
  PlotArgs args;
  try {
    args = parse(argc, argv);
  } catch (const UsageError &e) {
    fmt::print(stderr, "error: {} (see --help)\n", e.what());
    return 2;
  }
  if (args.help) {
    fmt::print("{}", usage());
    return 0;
  }
  try {
    for (size_t i = 0; i < args.files.size(); ++i) {
      LossCurve c = read_loss_curve(args.files[i]);
      if (c.step.empty())
        throw UserError(fmt::format("{}: has no finite loss to draw", args.files[i]));
      args.plot.curves[i].x = std::move(c.step);
      args.plot.curves[i].y = std::move(c.loss);
    }
    plot_curves_svg(args.output, args.plot);
    fmt::print("wrote {}\n", args.output);
    return 0;
  } catch (const UserError &e) {
    fmt::print(stderr, "error: {}\n", e.what());
  } catch (const std::exception &e) {
    fmt::print(stderr, "internal error in kiln-plot: {} (please report this)\n", e.what());
  }
  return 1;
}

} // namespace kiln
