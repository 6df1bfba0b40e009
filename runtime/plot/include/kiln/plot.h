// Pictures drawn by PLplot into SVG files: a fit, classified points, and loss curves.
//
// Contract: every plot_*_svg() writes `path` (which must end in .svg) or throws UserError; none
// exits the process or prints on stdout. PLplot reacts to fatal errors by calling exit(), so the
// drawing runs in a forked child whose stdout goes to /dev/null and whose stderr is captured for
// the error message. The file appears atomically (temp file, rename).
//   plot_fit_svg: data points (x, y) and the model's curve (fit_x, fit) in x order.
//   plot_classes_svg: points (x0, x1) colored by predicted class (one color per class).
//   plot_curves_svg: one line per curve (y against x) with a legend of the labels; with ylog the
//     y axis is logarithmic and values <= 0 are left out.
//   plot_bars_svg: grouped bars, one group per category and one bar per series.
//   plot_training_svg: the train loss against the step on the left axis, the evaluations (dots
//     joined by a line) against their steps on a right axis of their own.
// Non-finite values are left out of every picture.
// PLplot is loaded when the first picture is drawn (dlopen), not linked, so a binary that draws
// runs where PLplot is missing; require_plplot() loads it now, or throws UserError saying why.
#ifndef KILN_PLOT_H
#define KILN_PLOT_H

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

void require_plplot();

struct FitPlot {
  std::string title;
  std::vector<float> x, y;       // (N,) the data points
  std::vector<float> fit_x, fit; // (M,) the model's output at fit_x
};
void plot_fit_svg(const std::string &path, const FitPlot &plot);

struct ClassPlot {
  std::string title;
  std::vector<float> x0, x1;      // (N,) the points
  std::vector<int32_t> predicted; // (N,) their predicted classes
};
void plot_classes_svg(const std::string &path, const ClassPlot &plot);

struct Curve {
  std::string label;
  std::vector<double> x, y;
};
struct CurvesPlot {
  std::string title, xlabel = "step", ylabel = "loss";
  bool ylog = false;
  std::vector<Curve> curves;
};
void plot_curves_svg(const std::string &path, const CurvesPlot &plot);

// A training run: the train loss at every step (left axis) and the periodic evaluations (right
// axis, 0..1 when they are accuracies, else their own range), one picture, with a legend.
struct TrainingPlot {
  std::string title;
  std::vector<double> steps, loss;      // (T,) the train loss per step
  std::vector<double> eval_steps, eval; // (E,) the evaluations; may be empty
  std::string loss_label = "train loss", eval_label = "test accuracy";
  bool eval_is_accuracy = true;
};
void plot_training_svg(const std::string &path, const TrainingPlot &plot);

// Grouped bars: one group per category, one bar per series in it (e.g. fused and unfused
// time per kind of kernel), with a legend of the series.
struct BarSeries {
  std::string label;
  std::vector<double> values; // one per category
};
struct BarsPlot {
  std::string title, ylabel;
  std::vector<std::string> categories;
  std::vector<BarSeries> series;
};
void plot_bars_svg(const std::string &path, const BarsPlot &plot);

} // namespace kiln

#endif
