// The picture functions of a model compiled without pictures (TrainConfig::draw false): the
// binary then links neither PLplot nor kiln_plot. The runtime refuses --output before training
// in such a binary, so these are reached only by a runtime bug.
#include "kiln/error.h"
#include "kiln/plot.h"

namespace kiln {
namespace {

[[noreturn]] void no_pictures(const std::string &path) {
  throw UserError(path + ": this binary was compiled without pictures");
}

} // namespace

void require_plplot() {}
void plot_fit_svg(const std::string &path, const FitPlot &) { no_pictures(path); }
void plot_classes_svg(const std::string &path, const ClassPlot &) { no_pictures(path); }
void plot_curves_svg(const std::string &path, const CurvesPlot &) { no_pictures(path); }
void plot_training_svg(const std::string &path, const TrainingPlot &) { no_pictures(path); }
void plot_bars_svg(const std::string &path, const BarsPlot &) { no_pictures(path); }

} // namespace kiln
