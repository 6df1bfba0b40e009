// kiln-plot: loss curves of several runs in one picture (the tutorial's lesson 9 figure).
//
// Usage: kiln-plot --output FILE.svg [--title T] [--ylog] LABEL=metrics.jsonl ...
// Contract: plot_tool_main() reads each metrics file with read_loss_curve() (metrics.h), draws one
// curve per file (loss against step) labelled LABEL in the legend, in argument order, and prints
// "wrote FILE.svg". It returns 0 on success (also for --help), 2 with "error: ... (see --help)" for
// a malformed command line (unknown flag, missing --output or value, an argument without '=', an
// empty label, a repeated label, no curves), and 1 with "error: ..." naming the file (and line)
// when a metrics file is missing, malformed or has no finite loss, or the picture cannot be written.
#ifndef KILN_PLOT_TOOL_H
#define KILN_PLOT_TOOL_H

namespace kiln {

int plot_tool_main(int argc, char **argv);

} // namespace kiln

#endif
