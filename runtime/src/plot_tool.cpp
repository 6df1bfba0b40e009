// kiln-plot's command line and work (contract in kiln/plot_tool.h).
#include "kiln/plot_tool.h"

#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "kiln/error.h"
#include "kiln/metrics.h"
#include "kiln/plot.h"

namespace kiln {
namespace {

struct PlotArgs {
    std::string output;
    CurvesPlot plot;
    std::vector<std::string> files;  // parallel to plot.curves
    bool help = false;
};

const char kUsage[] =
    "usage: kiln-plot --output FILE.svg [--title T] [--ylog] LABEL=metrics.jsonl ...\n\n"
    "Draws the loss of each metrics file (JSON lines written by a kiln training binary's --metrics)\n"
    "against the step, one curve per LABEL, with a legend.\n\n"
    "flags:\n"
    "  --output FILE   the picture (.svg); required\n"
    "  --title T       the picture's title (default: \"loss\")\n"
    "  --ylog          logarithmic loss axis\n"
    "  --help          show this help and exit\n";

PlotArgs parse(int argc, char **argv) {
    PlotArgs a;
    a.plot.title = "loss";
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i], name = arg, value;
        bool inline_value = false;
        if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos)
            name = arg.substr(0, eq), value = arg.substr(eq + 1), inline_value = true;
        auto take_value = [&]() {
            if (inline_value) return value;
            if (i + 1 >= argc) throw UsageError(fmt::format("flag '{}' needs a value", name));
            return std::string(argv[++i]);
        };
        if (name == "--output") {
            a.output = take_value();
        } else if (name == "--title") {
            a.plot.title = take_value();
        } else if (name == "--ylog" || name == "--help") {
            if (inline_value) throw UsageError(fmt::format("flag '{}' takes no value", name));
            (name == "--ylog" ? a.plot.ylog : a.help) = true;
        } else if (arg.rfind("-", 0) == 0) {
            throw UsageError(fmt::format("unknown flag '{}'", name));
        } else {
            size_t eq = arg.find('=');
            if (eq == std::string::npos)
                throw UsageError(fmt::format("'{}' is not LABEL=FILE (for example adam=adam.jsonl)", arg));
            std::string label = arg.substr(0, eq), file = arg.substr(eq + 1);
            if (label.empty()) throw UsageError(fmt::format("'{}' has an empty label", arg));
            if (file.empty()) throw UsageError(fmt::format("'{}' has an empty file name", arg));
            for (const Curve &c : a.plot.curves)
                if (c.label == label) throw UsageError(fmt::format("label '{}' is given twice", label));
            a.plot.curves.push_back({label, {}, {}});
            a.files.push_back(file);
        }
    }
    if (a.help) return a;
    if (a.output.empty()) throw UsageError("--output FILE.svg is required");
    if (a.plot.curves.empty()) throw UsageError("no curves: give at least one LABEL=metrics.jsonl");
    return a;
}

}  // namespace

int plot_tool_main(int argc, char **argv) {
    PlotArgs args;
    try {
        args = parse(argc, argv);
    } catch (const UsageError &e) {
        fmt::print(stderr, "error: {} (see --help)\n", e.what());
        return 2;
    }
    if (args.help) {
        fmt::print("{}", kUsage);
        return 0;
    }
    try {
        for (size_t i = 0; i < args.files.size(); ++i) {
            LossCurve c = read_loss_curve(args.files[i]);
            if (c.step.empty()) throw UserError(fmt::format("{}: has no finite loss to draw", args.files[i]));
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

}  // namespace kiln
