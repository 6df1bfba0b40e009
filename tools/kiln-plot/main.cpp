// kiln-plot: loss curves of several training runs in one SVG; the work is kiln::plot_tool_main().
#include "kiln/plot_tool.h"

int main(int argc, char **argv) { return kiln::plot_tool_main(argc, argv); }
