// The picture of a fit: data points and the model's curve, drawn by PLplot into an SVG file.
//
// Contract: plot_fit_svg() writes `path` (which must end in .svg) or throws UserError; it never
// exits the process and prints nothing on stdout. PLplot reacts to fatal errors by calling exit(),
// so the drawing runs in a forked child whose stdout goes to /dev/null and whose stderr is
// captured for the error message. The file appears atomically (temp file, rename).
// find_fit_tensors() says whether a model has what the picture needs: inputs x and y and an
// output of the same shape, all (N, 1).
#ifndef KILN_PLOT_H
#define KILN_PLOT_H

#include <string>
#include <vector>

#include "kiln/manifest.h"

namespace kiln {

struct FitPlot {
    std::string title;
    std::vector<float> x, y;  // (N,) the data points
    std::vector<float> fit;   // (N,) the model's output at x; non-finite values are left out
};

void plot_fit_svg(const std::string &path, const FitPlot &plot);

struct FitTensors {
    const TensorSpec *x = nullptr, *y = nullptr, *fit = nullptr;
};
// All three set, or none.
FitTensors find_fit_tensors(const Manifest &manifest);

}  // namespace kiln

#endif
