// Lesson 3: activations. relu, sigmoid, tanh and softplus (composites of kiln primitives) on
// x = linspace(-5, 5, 200), run in-process, drawn as one picture of the four curves.
// usage: activations [--output FILE.svg] [--csv FILE] [--at x1,x2,...]
//   --csv writes x and the four activations (and their gradients) as CSV; --at evaluates at
//   the given points instead of the linspace (used to compare extremes with PyTorch).
#include "kiln/eager.h"
#include "kiln/nn.h"
#include "kiln/plot.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

int main(int argc, char **argv) {
  std::string output = "activations.svg", csv;
  kiln::Array x = kiln::Array::linspace(-5, 5, 200);
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if ((flag == "--output" || flag == "--csv" || flag == "--at") && i + 1 < argc) {
      std::string value = argv[++i];
      if (flag == "--output") {
        output = value;
      } else if (flag == "--csv") {
        csv = value;
      } else {
        std::vector<float> points;
        std::stringstream in(value);
        for (std::string item; std::getline(in, item, ',');)
          points.push_back(std::stof(item));
        x = kiln::Array({int64_t(points.size())}, points);
      }
    } else {
      std::fprintf(stderr, "error: unknown flag '%s' (usage: %s [--output FILE.svg] [--csv FILE] [--at x,...])\n",
                   argv[i], argv[0]);
      return 2;
    }
  }
  try {
    using kiln::Tensor;
    const std::vector<std::pair<const char *, kiln::UnaryFn>> activations = {
        {"relu", [](const Tensor &t) { return kiln::nn::relu(t); }},
        {"sigmoid", [](const Tensor &t) { return kiln::nn::sigmoid(t); }},
        {"tanh", [](const Tensor &t) { return kiln::nn::tanh(t); }},
        {"softplus", [](const Tensor &t) { return kiln::nn::softplus(t); }},
    };
    kiln::CurvesPlot plot;
    plot.title = "activation functions";
    plot.xlabel = "x";
    plot.ylabel = "activation(x)";
    std::vector<kiln::Array> values, grads;
    for (auto &[name, f] : activations) {
      values.push_back(kiln::run(f, x));
      // d/dx of sum(f(x)) is f'(x) element by element.
      grads.push_back(kiln::grad([&](const Tensor &t) { return f(t).sum({0}); }, x));
      plot.curves.push_back({name, std::vector<double>(x.data.begin(), x.data.end()),
                             std::vector<double>(values.back().data.begin(), values.back().data.end())});
    }
    if (!csv.empty()) {
      std::ofstream out(csv);
      out << "x";
      for (auto &[name, f] : activations)
        out << "," << name << ",d_" << name;
      out << "\n";
      out.precision(9);
      for (size_t i = 0; i < x.data.size(); ++i) {
        out << x.data[i];
        for (size_t a = 0; a < activations.size(); ++a)
          out << "," << values[a].data[i] << "," << grads[a].data[i];
        out << "\n";
      }
    }
    if (output != "none") {
      kiln::plot_curves_svg(output, plot);
      std::printf("wrote %s\n", output.c_str());
    }
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
