// SVG pictures with PLplot, each drawn in a child process (contract in kiln/plot.h).
#include "kiln/plot.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <plplot/plplot.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <numeric>

#include "kiln/error.h"

namespace kiln {
namespace {

constexpr int kExitPlplotFatal = 3; // PLplot called plexit()
constexpr int kExitPlplotAbort = 4; // PLplot reported a non-fatal abort: the picture is incomplete

bool g_aborted = false; // child process only

// PLplot is loaded when a picture is drawn, not linked: a binary that draws still runs where
// PLplot is not installed, and only its pictures are refused there. Each member is named and
// typed after plplot.h's declaration (its macros make `plinit` c_plinit).
// clang-format off
#define KILN_PLPLOT_FUNCTIONS(X)                                                                  \
  X(pladv) X(plbox) X(plcol0) X(plend) X(plenv) X(plfill) X(plinit) X(pllab) X(pllegend)         \
  X(plline) X(plmtex) X(plpoin) X(plsabort) X(plschr) X(plscol0) X(plscolbg) X(plsdev)           \
  X(plsexit) X(plsfnam) X(plvpor) X(plwidth) X(plwind)
// clang-format on
#define KILN_SYMBOL_NAME(f) KILN_SYMBOL_TEXT(f)
#define KILN_SYMBOL_TEXT(f) #f

struct Plplot {
#define KILN_PLPLOT_MEMBER(f) decltype(&::f) f = nullptr;
  KILN_PLPLOT_FUNCTIONS(KILN_PLPLOT_MEMBER)
#undef KILN_PLPLOT_MEMBER
};

// The library and its functions, loaded once; null with the reason in `why` when it cannot be.
const Plplot *load_plplot(std::string &why) {
  static Plplot api;
  static std::string error;
  static bool tried = false;
  if (!tried) {
    tried = true;
    void *library = ::dlopen(KILN_PLPLOT_SONAME, RTLD_NOW | RTLD_GLOBAL);
    if (!library)
      error = fmt::format("PLplot ({}) cannot be loaded: {}", KILN_PLPLOT_SONAME, ::dlerror());
#define KILN_PLPLOT_LOAD(f)                                                                                            \
  if (library && error.empty()) {                                                                                      \
    api.f = reinterpret_cast<decltype(api.f)>(::dlsym(library, KILN_SYMBOL_NAME(f)));                                  \
    if (!api.f)                                                                                                        \
      error = fmt::format("{} has no function {}", KILN_PLPLOT_SONAME, KILN_SYMBOL_NAME(f));                           \
  }
    KILN_PLPLOT_FUNCTIONS(KILN_PLPLOT_LOAD)
#undef KILN_PLPLOT_LOAD
  }
  why = error;
  return error.empty() ? &api : nullptr;
}

const Plplot *pl = nullptr; // child process only: set by draw()

int on_plplot_exit(PLCHAR_VECTOR message) {
  // Leave without PLplot's cleanup or the parent's atexit handlers, which belong to the parent.
  std::fprintf(stderr, "%s\n", message);
  std::fflush(stderr);
  _exit(kExitPlplotFatal);
}

void on_plplot_abort(PLCHAR_VECTOR message) {
  std::fprintf(stderr, "%s\n", message);
  g_aborted = true;
}

// Range of the finite values, widened by 5% so no point sits on the frame.
std::pair<double, double> padded_range(const std::vector<float> &a, const std::vector<float> &b) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto *v : {&a, &b})
    for (float f : *v)
      if (std::isfinite(f))
        lo = std::min(lo, double(f)), hi = std::max(hi, double(f));
  if (!(lo <= hi))
    return {-1, 1};
  double pad = hi > lo ? 0.05 * (hi - lo) : 1.0;
  return {lo - pad, hi + pad};
}

// The class and curve colors (matplotlib's tab10), as PLplot cmap0 indices from kFirstColor.
constexpr int kFirstColor = 2;
constexpr unsigned char kPalette[][3] = {
    {31, 119, 180}, {214, 39, 40},   {44, 160, 44},   {255, 127, 14}, {148, 103, 189},
    {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
};
constexpr int kColors = int(sizeof kPalette / sizeof kPalette[0]);

int color(size_t i) { return kFirstColor + int(i % kColors); }

// A boxed legend inside the plot, label i in color(i): line samples for curves, color boxes
// for bars.
void legend(const std::vector<std::string> &labels, bool boxes, PLINT position, PLFLT x) {
  const size_t n = labels.size();
  std::vector<PLINT> opts(n, boxes ? PL_LEGEND_COLOR_BOX : PL_LEGEND_LINE), colors(n), text_colors(n, 1), styles(n, 1),
      patterns(n, 0);
  std::vector<PLFLT> widths(n, boxes ? 1.0 : 2.0), scales(n, 1.0);
  std::vector<const char *> text(n);
  for (size_t i = 0; i < n; ++i)
    colors[i] = color(i), text[i] = labels[i].c_str();
  PLFLT w, h;
  pl->plcol0(1);
  pl->pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, position | PL_POSITION_INSIDE, x, 0.02, 0.08, 0,
               1, 1, 0, 0, PLINT(n), opts.data(), 1.0, 0.8, 2.0, 0.0, text_colors.data(), text.data(),
               boxes ? colors.data() : nullptr, boxes ? patterns.data() : nullptr, boxes ? scales.data() : nullptr,
               boxes ? widths.data() : nullptr, boxes ? nullptr : colors.data(), boxes ? nullptr : styles.data(),
               boxes ? nullptr : widths.data(), nullptr, nullptr, nullptr, nullptr);
}

// Runs in the child: sets PLplot up, draws, and returns the child's exit code.
int draw(const std::string &file, const std::function<void()> &body) {
  std::string why;
  pl = load_plplot(why);
  if (!pl) {
    std::fprintf(stderr, "%s\n", why.c_str());
    return kExitPlplotFatal;
  }
  pl->plsexit(on_plplot_exit);
  pl->plsabort(on_plplot_abort);
  pl->plsdev("svg");
  pl->plsfnam(file.c_str());
  pl->plscolbg(255, 255, 255);
  pl->plinit();
  pl->plscol0(1, 0, 0, 0); // frame and labels in black on the white background
  for (int i = 0; i < kColors; ++i)
    pl->plscol0(kFirstColor + i, kPalette[i][0], kPalette[i][1], kPalette[i][2]);
  pl->plcol0(1);
  body();
  pl->plend();
  return g_aborted ? kExitPlplotAbort : 0;
}

void draw_fit(const FitPlot &p) {
  auto [x0, x1] = padded_range(p.x, p.fit_x);
  auto [y0, y1] = padded_range(p.y, p.fit);
  pl->plenv(x0, x1, y0, y1, 0, 0);
  pl->pllab("x", "y", p.title.c_str());

  std::vector<PLFLT> px, py;
  for (size_t i = 0; i < std::min(p.x.size(), p.y.size()); ++i)
    if (std::isfinite(p.x[i]) && std::isfinite(p.y[i]))
      px.push_back(p.x[i]), py.push_back(p.y[i]);
  pl->plcol0(color(0));
  if (!px.empty())
    pl->plpoin(PLINT(px.size()), px.data(), py.data(), 17);

  // The curve in x order, skipping points where the model produced NaN/inf.
  std::vector<size_t> order(std::min(p.fit_x.size(), p.fit.size()));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p.fit_x[a] < p.fit_x[b]; });
  std::vector<PLFLT> lx, ly;
  for (size_t i : order)
    if (std::isfinite(p.fit[i]) && std::isfinite(p.fit_x[i]))
      lx.push_back(p.fit_x[i]), ly.push_back(p.fit[i]);
  pl->plcol0(color(1));
  pl->plwidth(2.0);
  if (lx.size() >= 2)
    pl->plline(PLINT(lx.size()), lx.data(), ly.data());
}

void draw_classes(const ClassPlot &p) {
  auto [x0, x1] = padded_range(p.x0, {});
  auto [y0, y1] = padded_range(p.x1, {});
  pl->plenv(x0, x1, y0, y1, 0, 0);
  pl->pllab("x0", "x1", p.title.c_str());
  std::map<int32_t, std::pair<std::vector<PLFLT>, std::vector<PLFLT>>> by_class;
  for (size_t i = 0; i < std::min({p.x0.size(), p.x1.size(), p.predicted.size()}); ++i)
    if (std::isfinite(p.x0[i]) && std::isfinite(p.x1[i]))
      by_class[p.predicted[i]].first.push_back(p.x0[i]), by_class[p.predicted[i]].second.push_back(p.x1[i]);
  for (auto &[label, points] : by_class) {
    pl->plcol0(color(size_t(std::max(label, 0))));
    pl->plpoin(PLINT(points.first.size()), points.first.data(), points.second.data(), 17);
  }
}

void draw_curves(const CurvesPlot &p) {
  // The values to draw: finite, and positive on a log axis (PLplot wants log10 of them).
  std::vector<std::vector<PLFLT>> xs(p.curves.size()), ys(p.curves.size());
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (size_t c = 0; c < p.curves.size(); ++c) {
    const Curve &curve = p.curves[c];
    for (size_t i = 0; i < std::min(curve.x.size(), curve.y.size()); ++i) {
      double x = curve.x[i], y = curve.y[i];
      if (!std::isfinite(x) || !std::isfinite(y) || (p.ylog && y <= 0))
        continue;
      if (p.ylog)
        y = std::log10(y);
      xs[c].push_back(x), ys[c].push_back(y);
      xlo = std::min(xlo, x), xhi = std::max(xhi, x), ylo = std::min(ylo, y), yhi = std::max(yhi, y);
    }
  }
  if (!(xlo <= xhi))
    xlo = 0, xhi = 1;
  if (!(ylo <= yhi))
    ylo = 0, yhi = 1;
  if (xhi == xlo)
    xlo -= 1, xhi += 1;
  double pad = yhi > ylo ? 0.05 * (yhi - ylo) : 0.5;
  pl->plenv(xlo, xhi, ylo - pad, yhi + pad, 0, p.ylog ? 20 : 0); // 20: logarithmic y axis
  pl->pllab(p.xlabel.c_str(), p.ylabel.c_str(), p.title.c_str());
  pl->plwidth(2.0);
  for (size_t c = 0; c < p.curves.size(); ++c) {
    pl->plcol0(color(c));
    if (xs[c].size() >= 2)
      pl->plline(PLINT(xs[c].size()), xs[c].data(), ys[c].data());
    else if (xs[c].size() == 1)
      pl->plpoin(1, xs[c].data(), ys[c].data(), 17);
  }

  std::vector<std::string> labels;
  for (const auto &curve : p.curves)
    labels.push_back(curve.label);
  legend(labels, false, PL_POSITION_RIGHT | PL_POSITION_TOP, 0.02);
}

// Finite (x, y) pairs and their ranges.
struct Points {
  std::vector<PLFLT> x, y;
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  Points(const std::vector<double> &xs, const std::vector<double> &ys) {
    for (size_t i = 0; i < std::min(xs.size(), ys.size()); ++i) {
      if (!std::isfinite(xs[i]) || !std::isfinite(ys[i]))
        continue;
      x.push_back(xs[i]), y.push_back(ys[i]);
      xlo = std::min(xlo, xs[i]), xhi = std::max(xhi, xs[i]), ylo = std::min(ylo, ys[i]), yhi = std::max(yhi, ys[i]);
    }
  }
  void draw(bool dots) const {
    if (x.size() >= 2)
      pl->plline(PLINT(x.size()), x.data(), y.data());
    if (dots || x.size() == 1)
      pl->plpoin(PLINT(x.size()), x.data(), y.data(), 17);
  }
};

void draw_training(const TrainingPlot &p) {
  Points loss(p.steps, p.loss), eval(p.eval_steps, p.eval);
  double xlo = std::min(loss.xlo, eval.xlo), xhi = std::max(loss.xhi, eval.xhi);
  if (!(xlo <= xhi))
    xlo = 0, xhi = 1;
  if (xhi == xlo)
    xlo -= 1, xhi += 1;
  auto padded = [](double lo, double hi) {
    if (!(lo <= hi))
      return std::pair<double, double>{0, 1};
    double pad = hi > lo ? 0.05 * (hi - lo) : 0.5;
    return std::pair<double, double>{lo - pad, hi + pad};
  };
  // Room on the right for the second axis' labels.
  pl->pladv(0);
  pl->plvpor(0.12, 0.86, 0.12, 0.88);
  auto [l0, l1] = padded(loss.ylo, loss.yhi);
  pl->plwind(xlo, xhi, l0, l1);
  pl->plcol0(1);
  pl->plbox("bcnst", 0, 0, "bnstv", 0, 0);
  pl->pllab("step", p.loss_label.c_str(), p.title.c_str());
  pl->plwidth(2.0);
  pl->plcol0(color(0));
  loss.draw(false);

  const bool has_eval = !eval.x.empty();
  if (has_eval) {
    auto [e0, e1] = p.eval_is_accuracy ? std::pair<double, double>{0, 1.02} : padded(eval.ylo, eval.yhi);
    pl->plwind(xlo, xhi, e0, e1);
    pl->plcol0(1);
    pl->plwidth(1.0);
    pl->plbox("", 0, 0, "cmstv", 0, 0);
    pl->plmtex("r", 4.0, 0.5, 0.5, p.eval_label.c_str());
    pl->plwidth(2.0);
    pl->plcol0(color(1));
    eval.draw(true);
  }

  std::vector<std::string> labels = {p.loss_label};
  if (has_eval)
    labels.push_back(p.eval_label);
  legend(labels, false, PL_POSITION_RIGHT | PL_POSITION_TOP, 0.02);
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace((unsigned char)s.back()))
    s.pop_back();
  size_t start = s.find_first_not_of(" \t\n");
  return start == std::string::npos ? "" : s.substr(start);
}

} // namespace

namespace {

void draw_bars(const BarsPlot &p) {
  const size_t groups = p.categories.size(), n = p.series.size();
  double top = 0;
  for (const BarSeries &series : p.series)
    for (double v : series.values)
      if (std::isfinite(v))
        top = std::max(top, v);
  if (top <= 0)
    top = 1;
  pl->plenv(0, double(std::max<size_t>(groups, 1)), 0, 1.1 * top, 0, -2); // -2: the box is drawn below
  pl->plbox("bc", 0, 0, "bcnstv", 0, 0);
  pl->pllab("", p.ylabel.c_str(), p.title.c_str());
  const double width = 0.8 / double(std::max<size_t>(n, 1));
  for (size_t s = 0; s < n; ++s) {
    pl->plcol0(color(s));
    for (size_t g = 0; g < groups && g < p.series[s].values.size(); ++g) {
      double v = p.series[s].values[g];
      if (!std::isfinite(v) || v <= 0)
        continue;
      PLFLT x0 = double(g) + 0.1 + double(s) * width;
      PLFLT xs[4] = {x0, x0, x0 + width, x0 + width}, ys[4] = {0, v, v, 0};
      pl->plfill(4, xs, ys);
    }
  }
  pl->plcol0(1);
  pl->plschr(0, 0.6);
  for (size_t g = 0; g < groups; ++g) // category names under their group, on two staggered rows
    pl->plmtex("b", g % 2 ? 2.6 : 1.2, (double(g) + 0.5) / double(groups), 0.5, p.categories[g].c_str());
  pl->plschr(0, 1.0);
  std::vector<std::string> labels;
  for (const BarSeries &series : p.series)
    labels.push_back(series.label);
  legend(labels, true, PL_POSITION_TOP, 0.0);
}

void render_svg(const std::string &path, const std::function<void()> &body) {
  if (path.size() < 4 || path.compare(path.size() - 4, 4, ".svg") != 0)
    throw UserError(fmt::format("{}: pictures are written as SVG; use a name ending in .svg", path));

  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    throw UserError(fmt::format("{}: cannot create the picture: {}", path, std::strerror(errno)));
  ::close(fd); // PLplot opens the file by name
  int err_pipe[2];
  if (::pipe(err_pipe) != 0) {
    ::unlink(tmp.c_str());
    throw UserError(fmt::format("{}: cannot draw the picture: {}", path, std::strerror(errno)));
  }
  // Unflushed output would otherwise be written twice, once by each process.
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(err_pipe[0]);
    ::dup2(err_pipe[1], STDERR_FILENO);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0)
      ::dup2(devnull, STDOUT_FILENO);
    int rc = draw(tmp, body);
    std::fflush(nullptr);
    _exit(rc);
  }
  ::close(err_pipe[1]);
  std::string messages;
  if (pid > 0) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(err_pipe[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0)
        messages.append(buf, size_t(n));
  }
  ::close(err_pipe[0]);
  int status = 0;
  bool ok = pid > 0;
  if (ok) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  struct stat st{};
  ok = ok && ::stat(tmp.c_str(), &st) == 0 && st.st_size > 0;
  if (ok) {
    mode_t mask = ::umask(0);
    ::umask(mask);
    ::chmod(tmp.c_str(), 0666 & ~mask);
    ok = ::rename(tmp.c_str(), path.c_str()) == 0;
    if (!ok)
      messages = std::strerror(errno);
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    std::string why = trim(messages);
    if (why.empty())
      why = pid < 0 ? "fork failed" : fmt::format("PLplot failed (status {})", status);
    throw UserError(fmt::format("{}: cannot draw the picture: {}", path, why));
  }
}

} // namespace

void require_plplot() {
  std::string why;
  if (!load_plplot(why))
    throw UserError(why + "; this binary draws its pictures with it (--output none draws none)");
}

void plot_fit_svg(const std::string &path, const FitPlot &plot) {
  render_svg(path, [&] { draw_fit(plot); });
}

void plot_classes_svg(const std::string &path, const ClassPlot &plot) {
  render_svg(path, [&] { draw_classes(plot); });
}

void plot_bars_svg(const std::string &path, const BarsPlot &plot) {
  render_svg(path, [&] { draw_bars(plot); });
}

void plot_curves_svg(const std::string &path, const CurvesPlot &plot) {
  render_svg(path, [&] { draw_curves(plot); });
}

void plot_training_svg(const std::string &path, const TrainingPlot &plot) {
  render_svg(path, [&] { draw_training(plot); });
}

} // namespace kiln
