// THE ALGORITHM of every primitive: what it computes, as pure Halide definitions. Nothing here
// places, splits, vectorizes or parallelizes; CpuSchedule.cpp does. Where a schedule family
// computes a primitive in a form of its own (an accumulator, channels padded to whole vectors,
// a sum in column groups), the algorithm defines that form and names its stages.
#include "codegen/halide/Kernel.h"

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <numeric>

namespace kiln::lowering {

using namespace Halide;

std::vector<Expr> Kernel::index() const { return std::vector<Expr>(vars.rbegin(), vars.rend()); }

Expr Kernel::at(int input, const std::vector<Expr> &idx) const {
  return in[input](std::vector<Expr>(idx.rbegin(), idx.rend()));
}

Func Kernel::bounded(int i, Expr outside) const {
  Region bounds;
  const auto &shape = spec.inputs[i].shape;
  for (auto it = shape.rbegin(); it != shape.rend(); ++it)
    bounds.push_back(Range(0, int(*it)));
  return BoundaryConditions::constant_exterior(in[i], outside, bounds);
}

// `outside` first, then the rows copied over it (a boundary condition computed point by point
// was a scalar select and copy per element); computed once, then read without bounds checks.
Func Kernel::padded(int i, RDom &rows, Expr outside) const {
  const auto &shape = spec.inputs[i].shape;
  Func f("padded");
  Var x("x"), y("y"), c("c"), n("n");
  rows = RDom(0, int(shape[3]), 0, int(shape[2]), "row");
  f(x, y, c, n) = outside;
  f(rows.x, rows.y, c, n) = in[i](rows.x, rows.y, c, n);
  return f;
}

Window windowOf(const KernelSpec &spec, const std::vector<int64_t> &kernelHW) {
  auto at = [](const std::vector<int64_t> &v, int i, int fallback) { return v.empty() ? fallback : int(v[i]); };
  return {at(kernelHW, 1, 1),     at(kernelHW, 0, 1),     at(spec.stride, 1, 1),   at(spec.stride, 0, 1),
          at(spec.padding, 1, 0), at(spec.padding, 0, 0), at(spec.dilation, 1, 1), at(spec.dilation, 0, 1)};
}

int windowsReaching(int64_t size, int64_t stride, int64_t windows) {
  return int(std::min(windows, (size + stride - 1) / stride));
}

namespace {

enum class Reduction { sum, mean, max };

// sum, mean or max over spec.dims, which are removed from the result; the reduction domain
// lists the reduced dimensions innermost first (memory order).
void reduce(Kernel &k, Reduction how) {
  const auto &inShape = k.spec.inputs[0].shape;
  const auto &dims = k.spec.dims;
  int rank = int(inShape.size());
  Region ranges;
  std::vector<int> rdimOf(rank, -1); // kiln dimension -> RDom dimension (0 innermost)
  int64_t count = 1;
  for (int d = rank - 1; d >= 0; --d)
    if (std::find(dims.begin(), dims.end(), d) != dims.end()) {
      rdimOf[d] = int(ranges.size());
      ranges.push_back(Range(0, int(inShape[d])));
      count *= inShape[d];
    }
  RDom r(ranges);
  std::vector<Expr> idx = k.index(), src;
  size_t kept = 0;
  for (int d = 0; d < rank; ++d)
    src.push_back(rdimOf[d] >= 0 ? Expr(r[rdimOf[d]]) : idx[kept++]);
  Func acc("acc");
  if (how == Reduction::max) {
    acc(k.vars) = Expr(-std::numeric_limits<float>::infinity());
    acc(k.vars) = max(acc(k.vars), k.at(0, src));
  } else {
    acc(k.vars) = 0.0f;
    acc(k.vars) += k.at(0, src);
  }
  k.define(how == Reduction::mean ? acc(k.vars) / float(count) : acc(k.vars));
  k.stages.acc = acc;
  k.stages.r = r;
}

// out(w, h, o, n) = sum_{c, p, q} x(w*sw - pw + q*dw, h*sh - ph + p*dh, c, n) * f(q, p, c, o)
void conv2d(Kernel &k) {
  const auto &f = k.spec.inputs[1].shape; // O, C, KH, KW
  Window g = windowOf(k.spec, {f[2], f[3]});
  Var w = k.vars[0], h = k.vars[1], o = k.vars[2], n = k.vars[3];
  if (k.choice.family == ScheduleFamily::gpuStagedTiles) { // an accumulator the schedule stages tiles for
    // Both operands read zeros outside: the schedule stages whole squares of them.
    RDom r(0, g.kw, 0, g.kh, 0, int(f[1]), "r");
    Func x = k.bounded(0, 0.0f), filter = k.bounded(1, 0.0f), acc("acc");
    acc(w, h, o, n) = 0.0f;
    acc(w, h, o, n) += x(w * g.sw - g.pw + r.x * g.dw, h * g.sh - g.ph + r.y * g.dh, r.z, n) * filter(r.x, r.y, r.z, o);
    k.define(acc(w, h, o, n));
    k.stages.acc = acc;
    k.stages.input = x;
    k.stages.operand = filter;
    k.stages.r = r;
    return;
  }
  if (k.choice.family == ScheduleFamily::gpuThreads) { // each output's sum, zeros read outside
    RDom r(0, g.kw, 0, g.kh, 0, int(f[1]), "r");
    Func x = k.bounded(0, 0.0f);
    k.define(sum(x(w * g.sw - g.pw + r.x * g.dw, h * g.sh - g.ph + r.y * g.dh, r.z, n) * k.in[1](r.x, r.y, r.z, o)));
    return;
  }
  RDom rows, r(0, g.kw, 0, g.kh, 0, int(f[1]), "r");
  Func input = k.padded(0, rows, 0.0f);
  if (k.choice.family == ScheduleFamily::convRows) {
    Func acc("acc_rows");
    acc(w, h, o, n) = 0.0f;
    acc(w, h, o, n) +=
        input(w * g.sw - g.pw + r.x * g.dw, h * g.sh - g.ph + r.y * g.dh, r.z, n) * k.in[1](r.x, r.y, r.z, o);
    k.out(w, h, o, n) = acc(w, h, o, n);
    k.stages = {acc, input, Func(), Func(), r, rows};
    return;
  }
  // Output channels first, over whole vectors of them: the weights read zeros past the last.
  Func acc("acc"), weights("filter_ok");
  Var q("q"), p("p"), c("c");
  weights(o, q, p, c) = k.bounded(1, 0.0f)(q, p, c, o);
  Expr row = h * g.sh - g.ph + r.y * g.dh;
  r.where(row >= 0 && row < int(k.spec.inputs[0].shape[2])); // filter rows in the padding add nothing
  acc(o, w, h, n) = 0.0f;
  acc(o, w, h, n) += input(w * g.sw - g.pw + r.x * g.dw, row, r.z, n) * weights(o, r.x, r.y, r.z);
  k.out(w, h, o, n) = acc(o, w, h, n);
  k.stages = {acc, input, weights, Func(), r, rows};
}

// The filter taps along one axis that meet a window at input position `at`: with stride s and
// dilation d, tap q meets window i where i s + q d = at + pad, so q d = at + pad (mod s). That
// has solutions only where g = gcd(s, d) divides the remainder, and then they repeat every
// s / g taps from the first, q0; the t-th of them is q0 + t s / g, its window
// (at + pad - q d) / s.
struct TapsAt {
  Expr valid, q, window;
};

int tapsPerPhase(int taps, int stride, int dilation) {
  int period = stride / std::gcd(stride, dilation);
  return (taps + period - 1) / period;
}

TapsAt tapsAt(Expr at, int pad, int stride, int dilation, Expr t) {
  int g = std::gcd(stride, dilation), period = stride / g, inverse = 0;
  while (period > 1 && (dilation / g * inverse) % period != 1) // (d / g)^-1 mod period
    ++inverse;
  Expr remainder = (at + pad) % stride;
  Expr q = (remainder / g * inverse) % period + t * period;
  return {remainder % g == 0, q, (at + pad - q * dilation) / stride};
}

// A strided convolution's input gradient by phase: only the filter taps of a column's phase
// (tapsAt) meet a window there, ceil(kw g / sw) of kw, rows likewise. The sum runs over those
// taps only, where selecting among all kw kh spent most multiply-adds on products thrown
// away. Columns past the filter's edge or of a phase no tap meets read the filter's zeros (a
// column's phase varies inside a tile); rows past it, or of such a phase, are skipped.
void conv2dInputGradByPhase(Kernel &k, Func dy, Func weights, RDom rows) {
  const auto &f = k.spec.inputs[1].shape; // O, C, KH, KW
  Window g = windowOf(k.spec, {f[2], f[3]});
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3];
  RDom r(0, tapsPerPhase(g.kw, g.sw, g.dw), 0, tapsPerPhase(g.kh, g.sh, g.dh), 0, int(f[0]), "r");
  TapsAt across = tapsAt(w, g.pw, g.sw, g.dw, r.x), down = tapsAt(h, g.ph, g.sh, g.dh, r.y);
  Expr q = select(across.valid, across.q, g.kw);
  // Rows of dy's padding add nothing, nor filter rows past the last (the row's phase is known
  // in the row's loop, so both bound the loop).
  r.where(down.valid && down.window >= 0 && down.window < int(k.spec.inputs[0].shape[2]) && down.q < g.kh);
  Func acc("acc");
  acc(c, w, h, n) = 0.0f;
  acc(c, w, h, n) += dy(across.window, down.window, r.z, n) * weights(c, q, down.q, r.z);
  k.out(w, h, c, n) = acc(c, w, h, n);
  k.stages = {acc, dy, weights, Func(), r, rows};
}

// dx(w, h, c, n) = sum_{o, p, q} dy(i, j, o, n) f(q, p, c, o) over the (i, j) with
// w = i*sw - pw + q*dw and h = j*sh - ph + p*dh.
void conv2dInputGrad(Kernel &k) {
  const auto &f = k.spec.inputs[1].shape; // O, C, KH, KW
  Window g = windowOf(k.spec, {f[2], f[3]});
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3];
  if (k.choice.family == ScheduleFamily::gpuThreads) {
    RDom r(0, g.kw, 0, g.kh, 0, int(f[0]), "r");
    Func dy = k.bounded(0, 0.0f);
    Expr iw = w + g.pw - r.x * g.dw, ih = h + g.ph - r.y * g.dh;
    Expr term = dy(iw / g.sw, ih / g.sh, r.z, n) * k.in[1](r.x, r.y, c, r.z);
    // Positions no window starts from, and those left of the first, add nothing.
    term = select(iw >= 0 && ih >= 0 && iw % g.sw == 0 && ih % g.sh == 0, term, 0.0f);
    k.define(sum(term));
    return;
  }
  RDom rows, r(0, g.kw, 0, g.kh, 0, int(f[0]), "r");
  Func dy = k.padded(0, rows, 0.0f);
  if (k.choice.family == ScheduleFamily::convRows) { // dy's rows are read densely
    Func acc("acc_rows");
    acc(w, h, c, n) = 0.0f;
    if (g.sw == 1 && g.sh == 1) {
      acc(w, h, c, n) += dy(w + g.pw - r.x * g.dw, h + g.ph - r.y * g.dh, r.z, n) * k.in[1](r.x, r.y, c, r.z);
    } else {
      // By phase (tapsAt): with each column's phase unrolled, a row vector's windows are dense.
      // Taps a phase does not meet read the filter's zeros past its edge.
      r = RDom(0, tapsPerPhase(g.kw, g.sw, g.dw), 0, tapsPerPhase(g.kh, g.sh, g.dh), 0, int(f[0]), "r");
      TapsAt across = tapsAt(w, g.pw, g.sw, g.dw, r.x), down = tapsAt(h, g.ph, g.sh, g.dh, r.y);
      Expr q = select(across.valid, across.q, g.kw), p = select(down.valid, down.q, g.kh);
      acc(w, h, c, n) += dy(across.window, down.window, r.z, n) * k.bounded(1, 0.0f)(q, p, c, r.z);
    }
    k.out(w, h, c, n) = acc(w, h, c, n);
    k.stages = {acc, dy, Func(), Func(), r, rows};
    return;
  }
  Func acc("acc"), weights("filter_ci");
  Var q("q"), p("p"), o("o");
  weights(c, q, p, o) = k.bounded(1, 0.0f)(q, p, c, o);
  if (g.sw != 1 || g.sh != 1) {
    conv2dInputGradByPhase(k, dy, weights, rows);
    return;
  }
  Expr iw = w + g.pw - r.x * g.dw, ih = h + g.ph - r.y * g.dh;
  r.where(ih >= 0 && ih <= (int(k.spec.inputs[0].shape[2]) - 1) * g.sh); // rows of dy's padding add nothing
  Expr term = dy(iw / g.sw, ih / g.sh, r.z, n) * weights(c, r.x, r.y, r.z);
  if (g.sw != 1 || g.sh != 1) // only positions a window actually starts from contribute
    term = select(iw % g.sw == 0 && ih % g.sh == 0, term, 0.0f);
  acc(c, w, h, n) = 0.0f;
  acc(c, w, h, n) += term;
  k.out(w, h, c, n) = acc(c, w, h, n);
  k.stages = {acc, dy, weights, Func(), r, rows};
}

// df(q, p, c, o) = sum_{n, i, j} dy(i, j, o, n) x(i*sw - pw + q*dw, j*sh - ph + p*dh, c, n)
void conv2dFilterGrad(Kernel &k) {
  const auto &dyShape = k.spec.inputs[1].shape; // N, O, OH, OW
  Window g = windowOf(k.spec, {k.spec.output.shape[2], k.spec.output.shape[3]});
  Var i("i"), j("j"), o("o"), n("n"), q = k.vars[0], p = k.vars[1], c = k.vars[2], oc = k.vars[3];
  if (k.choice.family == ScheduleFamily::gpuThreads) {
    // An accumulator: each filter element sums over every image's positions, which the GPU
    // schedule splits into partial sums.
    Func x = k.bounded(0, 0.0f), acc("acc");
    RDom r(0, int(dyShape[3]), 0, int(dyShape[2]), 0, int(dyShape[0]), "r");
    acc(q, p, c, oc) = 0.0f;
    acc(q, p, c, oc) +=
        k.in[1](r.x, r.y, oc, r.z) * x(r.x * g.sw - g.pw + q * g.dw, r.y * g.sh - g.ph + p * g.dh, c, r.z);
    k.out(q, p, c, oc) = acc(q, p, c, oc);
    k.stages.acc = acc;
    k.stages.r = r;
    return;
  }
  RDom rows;
  Func x = k.padded(0, rows, 0.0f);
  if (k.choice.family == ScheduleFamily::filterGradRows) {
    // The sum over dy's columns in groups: part(l, ...) sums the columns l, l + group, ...
    // of every row of every image, and the groups' lanes are added at the end. dy's rows are
    // extended with zeros to whole groups.
    int group = k.choice.group, groups = (int(dyShape[3]) + group - 1) / group;
    Func dy = k.bounded(1, 0.0f), dyRows("dy_rows"), part("part");
    Var l("l");
    dyRows(i, j, o, n) = dy(i, j, o, n);
    RDom r(0, groups, 0, int(dyShape[2]), 0, int(dyShape[0]), "r");
    Expr col = r.x * group + l;
    part(l, q, p, c, o) = 0.0f;
    part(l, q, p, c, o) +=
        dyRows(col, r.y, o, r.z) * x(col * g.sw - g.pw + q * g.dw, r.y * g.sh - g.ph + p * g.dh, c, r.z);
    RDom lane(0, group, "lane");
    k.out(q, p, c, oc) = sum(part(lane, q, p, c, oc));
    k.stages = {part, x, Func(), dyRows, r, rows};
    return;
  }
  // Output channels first, over whole vectors of them: dy reads zeros past the last.
  Func dyT("grad_oi"), acc("acc");
  int lastChannel = int(dyShape[1]) - 1;
  dyT(o, i, j, n) = select(o <= lastChannel, k.in[1](i, j, min(o, lastChannel), n), 0.0f);
  RDom r(0, int(dyShape[3]), 0, int(dyShape[2]), 0, int(dyShape[0]), "r");
  Expr row = r.y * g.sh - g.ph + p * g.dh;
  // A tile of one filter row skips the image rows it meets in the padding; a tile of the whole
  // filter reads their zeros.
  if (!k.choice.wholeFilter)
    r.where(row >= 0 && row < int(k.spec.inputs[0].shape[2]));
  acc(oc, q, p, c) = 0.0f;
  acc(oc, q, p, c) += dyT(oc, r.x, r.y, r.z) * x(r.x * g.sw - g.pw + q * g.dw, row, c, r.z);
  k.out(q, p, c, oc) = acc(oc, q, p, c);
  k.stages = {acc, x, dyT, Func(), r, rows};
}

// A window's max or sum as two passes (poolSeparable): along each input row over the window's
// columns, then down the columns over the window's rows. The max is the same; the sum adds in
// another order.
template <typename Reduce> void pool2dSeparable(Kernel &k, Func padded, Reduce reduce, float divisor) {
  Window g = windowOf(k.spec, k.spec.window);
  RDom across(0, g.kw, "across"), down(0, g.kh, "down");
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3], y("y");
  Func rows("pool_rows");
  rows(w, y, c, n) = reduce(padded(w * g.sw - g.pw + across, y, c, n));
  k.out(w, h, c, n) = reduce(rows(w, h * g.sh - g.ph + down, c, n)) / divisor;
  k.stages.rows = rows;
}

// A pooling's input surrounded by `outside`: on the host, a padded copy where there is padding
// (a boundary condition clamps and selects every read of every window), else the input as it is.
Func poolInput(Kernel &k, Expr outside) {
  Window g = windowOf(k.spec, k.spec.window);
  if (k.choice.family == ScheduleFamily::gpuThreads || (g.pw == 0 && g.ph == 0))
    return k.bounded(0, outside);
  k.stages.input = k.padded(0, k.stages.inputRows, outside);
  return k.stages.input;
}

// out(w, h, c, n) = max over the window, padding reads -inf
void maxPool2d(Kernel &k) {
  Window g = windowOf(k.spec, k.spec.window);
  Func padded = poolInput(k, Expr(-std::numeric_limits<float>::infinity()));
  if (k.choice.family == ScheduleFamily::poolSeparable)
    return pool2dSeparable(k, padded, [](Expr e) { return maximum(e); }, 1.0f);
  RDom r(0, g.kw, 0, g.kh, "r");
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3];
  k.out(w, h, c, n) = maximum(padded(w * g.sw - g.pw + r.x, h * g.sh - g.ph + r.y, c, n));
}

// The windows that reach input column `at` (or row) along one axis: the last starting at or
// before it is (at + pad) / stride, and at most ceil(size / stride) windows back from it can
// still reach it. Where there are fewer windows than that, counting starts from the last
// window instead (no position is reached by more windows than there are); with one window it
// is window 0 (`back`, which runs over 0 only), whatever the stride.
struct Reaching {
  int count;
  Expr window(Expr at, Expr back) const {
    if (windows == 1)
      return back;
    Expr last = (at + pad) / stride;
    return (capped ? min(last, int(windows) - 1) : last) - back;
  }
  Expr offset(Expr at, Expr window) const { return at + pad - window * stride; } // in the window
  int64_t windows;
  bool capped;
  int pad, stride;
};

Reaching reaching(int size, int stride, int pad, int64_t windows) {
  int count = windowsReaching(size, stride, windows);
  return {count, windows, windows < (size + stride - 1) / stride, pad, stride};
}

// The sum of term(x, y) over the windows reaching a position, x and y counting back along each
// axis: written out where they are few (the unrolled phases' stores then merge into dense
// ones; an inline reduction kept each phase's sum, and its store, apart), else a reduction.
Expr sumOverWindows(int across, int down, const std::function<Expr(Expr, Expr)> &term) {
  if (across * down > 16) {
    RDom r(0, across, 0, down, "win");
    return sum(term(r.x, r.y));
  }
  Expr total;
  for (int y = 0; y < down; ++y)
    for (int x = 0; x < across; ++x)
      total = total.defined() ? total + term(x, y) : term(x, y);
  return total;
}

// Each window's first maximum (row-major), as its (column, row) in the window and the value.
// Windows of many taps find it in two passes: each window row's first maximum, then the first
// of the rows holding the largest (a later row must be larger to win).
Func firstMaxima(Kernel &k, Func padded, bool separable) {
  Window g = windowOf(k.spec, k.spec.window);
  Var i("i"), j("j"), y("y"), c = k.vars[2], n = k.vars[3];
  Func first("first_max");
  if (!separable) {
    RDom r(0, g.kw, 0, g.kh, "r");
    first(i, j, c, n) = argmax(r, padded(i * g.sw - g.pw + r.x, j * g.sh - g.ph + r.y, c, n));
    return first;
  }
  RDom across(0, g.kw, "across"), down(0, g.kh, "down");
  Func rows("row_max");
  rows(i, y, c, n) = argmax(across, padded(i * g.sw - g.pw + across, y, c, n));
  first(i, j, c, n) = Tuple(0, 0, Expr(-std::numeric_limits<float>::infinity()));
  Tuple row = rows(i, j * g.sh - g.ph + down, c, n), best = first(i, j, c, n);
  Expr wins = row[1] > best[2] || down == 0;
  first(i, j, c, n) = Tuple(select(wins, row[0], best[0]), select(wins, down, best[1]), select(wins, row[1], best[2]));
  k.stages.rows = rows;
  return first;
}

// Windows that do not overlap (of at most 16 taps): position (q, p) of its one window (wi, hj)
// takes the window's adjoint if it holds the window's maximum and no earlier position
// (row-major) does; comparing a few neighbours is cheaper than keeping each window's argmax,
// and reading through boundary conditions cheaper than padded copies of so few reads.
Func disjointWindowsGrad(Kernel &k, Func padded) {
  Window g = windowOf(k.spec, k.spec.window);
  int ow = int(k.spec.inputs[1].shape[3]), oh = int(k.spec.inputs[1].shape[2]);
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3], i("i"), j("j");
  RDom r(0, g.kw, 0, g.kh, "r");
  Expr wi = (w + g.pw) / g.sw, hj = (h + g.ph) / g.sh, q = (w + g.pw) % g.sw, p = (h + g.ph) % g.sh;
  Expr wc = clamp(wi, 0, ow - 1), hc = clamp(hj, 0, oh - 1);
  Func best("window_max");
  best(i, j, c, n) = maximum(padded(i * g.sw - g.pw + r.x, j * g.sh - g.ph + r.y, c, n));
  Expr m = best(wc, hc, c, n);
  Expr first = padded(w, h, c, n) == m;
  for (int pp = 0; pp < g.kh; ++pp)
    for (int qq = 0; qq < g.kw; ++qq)
      first =
          first && (pp * g.kw + qq >= p * g.kw + q || padded(wc * g.sw - g.pw + qq, hc * g.sh - g.ph + pp, c, n) != m);
  Expr inside = q < g.kw && p < g.kh && wi < ow && hj < oh;
  k.define(select(inside && first, k.in[1](wc, hc, c, n), 0.0f));
  return best;
}

// Each window's adjoint goes to the window's first maximum (row-major), as PyTorch's does.
// poolGradGather: each input position adds the adjoint of every window that reaches it and
// whose first maximum it is; poolGradScatter: each window adds its adjoint there.
void maxPool2dGrad(Kernel &k) {
  Window g = windowOf(k.spec, k.spec.window);
  const auto &in = k.spec.inputs[0].shape, &dyShape = k.spec.inputs[1].shape;
  Func padded = k.bounded(0, Expr(-std::numeric_limits<float>::infinity()));
  Var i("i"), j("j"), c = k.vars[2], n = k.vars[3];
  int ow = int(dyShape[3]), oh = int(dyShape[2]);
  if (k.choice.family == ScheduleFamily::gpuThreads) {
    // A gather for any windows: each input position adds the adjoint of every window that
    // contains it and whose first maximum (row-major) it is; no two threads write one place.
    RDom r(0, g.kw, 0, g.kh, "r");
    Var w = k.vars[0], h = k.vars[1];
    Func first("first_max");
    first(i, j, c, n) = argmax(r, padded(i * g.sw - g.pw + r.x, j * g.sh - g.ph + r.y, c, n));
    RDom win(0, (g.kw + g.sw - 1) / g.sw, 0, (g.kh + g.sh - 1) / g.sh, "win");
    Expr pw = w + g.pw, ph = h + g.ph;
    Expr wi = pw / g.sw - win.x, hj = ph / g.sh - win.y;
    Expr q = pw - wi * g.sw, p = ph - hj * g.sh;
    Expr wc = clamp(wi, 0, ow - 1), hc = clamp(hj, 0, oh - 1);
    Expr inside = wi >= 0 && wi < ow && hj >= 0 && hj < oh && q < g.kw && p < g.kh;
    Expr isFirst = first(wc, hc, c, n)[0] == q && first(wc, hc, c, n)[1] == p;
    k.define(sum(select(inside && isFirst, k.in[1](wc, hc, c, n), 0.0f)));
    k.stages.aux = first;
    return;
  }
  if (k.choice.family == ScheduleFamily::poolGradGather && k.choice.disjoint) {
    k.stages.aux = disjointWindowsGrad(k, padded);
    return;
  }
  // The other host families read the image through a padded copy: no bounds checks in windows.
  Func image = k.padded(0, k.stages.inputRows, Expr(-std::numeric_limits<float>::infinity()));
  k.stages.input = image;
  if (k.choice.family == ScheduleFamily::poolGradGather) {
    Func dy = k.padded(1, k.stages.operandRows, 0.0f); // no window outside adds
    k.stages.operand = dy;
    Func first = firstMaxima(k, image, false);
    Reaching across = reaching(g.kw, g.sw, g.pw, ow), down = reaching(g.kh, g.sh, g.ph, oh);
    Var w = k.vars[0], h = k.vars[1];
    k.define(sumOverWindows(across.count, down.count, [&](Expr x, Expr y) {
      Expr wi = across.window(w, x), hj = down.window(h, y);
      Expr q = across.offset(w, wi), p = down.offset(h, hj);
      Expr isFirst = first(wi, hj, c, n)[0] == q && first(wi, hj, c, n)[1] == p;
      return select(q < g.kw && p < g.kh && isFirst, dy(wi, hj, c, n), 0.0f);
    }));
    k.stages.aux = first;
    return;
  }
  Func first = firstMaxima(k, image, k.choice.separable);
  RDom o(0, ow, 0, oh, "o");
  Expr x = clamp(o.x * g.sw - g.pw + first(o.x, o.y, c, n)[0], 0, int(in[3]) - 1);
  Expr y = clamp(o.y * g.sh - g.ph + first(o.x, o.y, c, n)[1], 0, int(in[2]) - 1);
  k.out(k.vars[0], k.vars[1], c, n) = 0.0f;
  k.out(x, y, c, n) += k.in[1](o.x, o.y, c, n);
  k.stages.aux = first;
}

// out = sum over the window / (kh kw), padding reads 0 and counts (count_include_pad)
void avgPool2d(Kernel &k) {
  Window g = windowOf(k.spec, k.spec.window);
  Func padded = poolInput(k, 0.0f);
  if (k.choice.family == ScheduleFamily::poolSeparable)
    return pool2dSeparable(k, padded, [](Expr e) { return sum(e); }, float(g.kw * g.kh));
  RDom r(0, g.kw, 0, g.kh, "r");
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3];
  k.out(w, h, c, n) = sum(padded(w * g.sw - g.pw + r.x, h * g.sh - g.ph + r.y, c, n)) / float(g.kw * g.kh);
}

// dx(w, h) = sum over the windows (i, j) reaching (w, h) of dy(i, j) / (kh kw): a sum over
// windows, not taps (a global pool's gradient is a broadcast). A separable choice sums the
// windows reaching each row first, then those reaching each column of that.
void avgPool2dGrad(Kernel &k) {
  Window g = windowOf(k.spec, k.spec.window);
  const auto &dyShape = k.spec.inputs[0].shape;
  Func dy = k.bounded(0, 0.0f); // windows before the first or past the last add nothing
  Reaching across = reaching(g.kw, g.sw, g.pw, dyShape[3]), down = reaching(g.kh, g.sh, g.ph, dyShape[2]);
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3], i("i");
  float taps = float(g.kw * g.kh);
  if (k.choice.family == ScheduleFamily::poolGradGather) {
    dy = k.padded(0, k.stages.operandRows, 0.0f); // read without bounds checks
    k.stages.operand = dy;
  }
  if (k.choice.separable) {
    Func cols("pool_grad_rows");
    cols(i, h, c, n) = sumOverWindows(1, down.count, [&](Expr, Expr y) {
      Expr j = down.window(h, y);
      return select(down.offset(h, j) < g.kh, dy(i, j, c, n), 0.0f);
    });
    k.out(w, h, c, n) = sumOverWindows(across.count, 1,
                                       [&](Expr x, Expr) {
                                         Expr wi = across.window(w, x);
                                         return select(across.offset(w, wi) < g.kw, cols(wi, h, c, n), 0.0f);
                                       }) /
                        taps;
    k.stages.rows = cols;
    return;
  }
  k.define(sumOverWindows(across.count, down.count,
                          [&](Expr x, Expr y) {
                            Expr wi = across.window(w, x), hj = down.window(h, y);
                            Expr reaches = across.offset(w, wi) < g.kw && down.offset(h, hj) < g.kh;
                            return select(reaches, dy(wi, hj, c, n), 0.0f);
                          }) /
           taps);
}

// result[m, n] = sum_k lhs[m, k] * rhs[k, n]: as an accumulator where a family keeps one
// (the rhs named as an operand the tile may copy into dense rows), into the output itself
// where the reduction is vectorized, else as a pure sum.
void matmul(Kernel &k) {
  RDom r(0, int(k.spec.inputs[0].shape[1]), "k");
  Var nv = k.vars[0], mv = k.vars[1];
  k.stages.r = r;
  switch (k.choice.family) {
  case ScheduleFamily::gpuStagedTiles:
  case ScheduleFamily::matmulOuterProducts:
  case ScheduleFamily::matmulTile: {
    Func acc("acc"), rhs = k.in[1];
    if (k.choice.family == ScheduleFamily::matmulTile) {
      Var pn("pn"), pk("pk");
      rhs = Func("rhs_packed");
      rhs(pn, pk) = k.in[1](pn, pk);
      k.stages.operand = rhs;
    }
    acc(nv, mv) = 0.0f;
    acc(nv, mv) += k.in[0](r.x, mv) * rhs(nv, r.x);
    k.define(acc(nv, mv));
    k.stages.acc = acc;
    return;
  }
  case ScheduleFamily::matmulNarrow: {
    // Vectors run along the reduction, so the right operand is read by columns: a plain one
    // (not a transpose) has them copied to be contiguous first.
    Func columns("rhs_columns");
    Var pk("pk"), pn("pn");
    columns(pk, pn) = k.in[1](pn, pk);
    if (k.choice.packRhs)
      k.stages.operand = columns;
    k.out(nv, mv) = 0.0f;
    k.out(nv, mv) += k.in[0](r.x, mv) * columns(r.x, nv);
    return;
  }
  default: k.define(sum(k.in[0](r.x, mv) * k.in[1](nv, r.x)));
  }
}

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): ten
// rounds of two 32x32->64-bit multiplies mixing the counter, the key bumped by Weyl constants
// between rounds. Returns the first output word; all arithmetic is on unsigned 32 bits, which
// wrap.
Expr u32(uint32_t v) { return Internal::UIntImm::make(UInt(32), v); }

Expr philoxFirstWord(std::array<Expr, 4> c, Expr k0, Expr k1) {
  const Expr m0 = u32(0xD2511F53u), m1 = u32(0xCD9E8D57u), w0 = u32(0x9E3779B9u), w1 = u32(0xBB67AE85u);
  auto hi = [](Expr a, Expr b) { return cast<uint32_t>((cast<uint64_t>(a) * cast<uint64_t>(b)) >> 32); };
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 = k0 + w0;
      k1 = k1 + w1;
    }
    Expr hi0 = hi(c[0], m0), lo0 = c[0] * m0, hi1 = hi(c[2], m1), lo1 = c[2] * m1;
    c = {hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0};
  }
  return c[0];
}

// u = (top 24 bits of Philox(counter = (index, stream, step, rank), key = seed)) * 2^-24: exact
// in float, in [0, 1). The index is the output's row-major position.
void randomUniform(Kernel &k) {
  // In unsigned 32 bits, which hold every index the op allows (fewer than 2^32 elements).
  Expr linear = u32(0);
  std::vector<Expr> idx = k.index();
  for (size_t d = 0; d < idx.size(); ++d)
    linear = linear * u32(uint32_t(k.spec.output.shape[d])) + cast<uint32_t>(idx[d]);
  auto word = [&](int i) { return cast<uint32_t>(k.in[0](i)); };
  Expr bits = philoxFirstWord({linear, u32(uint32_t(k.spec.stream)), word(2), word(3)}, word(0), word(1));
  k.define(cast<float>(bits >> 8) * (1.0f / 16777216.0f));
}

// Operand dimension i reads result dimension dims[i], or 0 where it expands from 1.
void broadcastInDim(Kernel &k) {
  std::vector<Expr> idx = k.index(), src;
  const auto &inShape = k.spec.inputs[0].shape;
  for (size_t i = 0; i < k.spec.dims.size(); ++i)
    src.push_back(inShape[i] == 1 ? Expr(0) : idx[k.spec.dims[i]]);
  k.define(k.at(0, src));
}

// Row-major linear index of the output coordinate, unflattened in the input's shape.
void reshapeRowMajor(Kernel &k) {
  Expr linear = 0;
  std::vector<Expr> idx = k.index();
  for (size_t d = 0; d < idx.size(); ++d)
    linear = linear * int(k.spec.output.shape[d]) + idx[d];
  const auto &inShape = k.spec.inputs[0].shape;
  std::vector<Expr> src(inShape.size());
  for (int d = int(inShape.size()) - 1; d >= 0; --d) {
    src[d] = linear % int(inShape[d]);
    linear = linear / int(inShape[d]);
  }
  k.define(k.at(0, src));
}

// Result dimension i is operand dimension perm[i].
void transposeDims(Kernel &k) {
  std::vector<Expr> idx = k.index(), src(idx.size());
  for (size_t i = 0; i < idx.size(); ++i)
    src[k.spec.dims[i]] = idx[i];
  k.define(k.at(0, src));
}

} // namespace

void defineAlgorithm(Kernel &k) {
  switch (k.spec.op) {
  case Primitive::add: return k.define(k.same(0) + k.same(1));
  case Primitive::sub: return k.define(k.same(0) - k.same(1));
  case Primitive::mul: return k.define(k.same(0) * k.same(1));
  case Primitive::div: return k.define(k.same(0) / k.same(1));
  case Primitive::max: return k.define(max(k.same(0), k.same(1)));
  case Primitive::min: return k.define(min(k.same(0), k.same(1)));
  case Primitive::neg: return k.define(-k.same(0));
  case Primitive::exp: return k.define(exp(k.same(0)));
  case Primitive::log: return k.define(log(k.same(0)));
  case Primitive::sqrt: return k.define(sqrt(k.same(0)));
  case Primitive::abs: return k.define(abs(k.same(0)));
  case Primitive::sin: return k.define(sin(k.same(0)));
  case Primitive::cos: return k.define(cos(k.same(0)));
  case Primitive::erf: return k.define(erf(k.same(0)));
  case Primitive::stop_gradient: return k.define(k.same(0));
  case Primitive::compare: {
    Expr a = k.same(0), b = k.same(1);
    const std::string &d = k.spec.direction;
    Expr c = d == "EQ"   ? a == b
             : d == "NE" ? a != b
             : d == "LT" ? a < b
             : d == "LE" ? a <= b
             : d == "GT" ? a > b
                         : a >= b;
    return k.define(select(c, cast<uint8_t>(1), cast<uint8_t>(0)));
  }
  case Primitive::select: return k.define(select(k.same(0) != 0, k.same(1), k.same(2)));
  case Primitive::one_hot: {
    // The class is the innermost dimension, vars[0]; the label is indexed by the rest.
    std::vector<Expr> idx = k.index();
    idx.pop_back();
    return k.define(select(k.at(0, idx) == k.vars[0], 1.0f, 0.0f));
  }
  case Primitive::constant: {
    const auto &v = k.spec.values;
    Type t = halideType(k.spec.output.dtype);
    if (v.size() == 1)
      return k.define(cast(t, Expr(v[0])));
    // A dense constant is embedded in the object as a buffer.
    std::vector<int> extents(k.spec.output.shape.rbegin(), k.spec.output.shape.rend());
    Buffer<float> data(extents);
    std::copy(v.begin(), v.end(), data.data());
    return k.define(cast(t, data(std::vector<Expr>(k.vars.begin(), k.vars.end()))));
  }
  case Primitive::broadcast_in_dim: return broadcastInDim(k);
  case Primitive::reshape: return reshapeRowMajor(k);
  case Primitive::transpose: return transposeDims(k);
  case Primitive::reduce_sum: return reduce(k, Reduction::sum);
  case Primitive::reduce_mean: return reduce(k, Reduction::mean);
  case Primitive::reduce_max: return reduce(k, Reduction::max);
  case Primitive::matmul: return matmul(k);
  case Primitive::conv2d: return conv2d(k);
  case Primitive::conv2d_input_grad: return conv2dInputGrad(k);
  case Primitive::conv2d_filter_grad: return conv2dFilterGrad(k);
  case Primitive::max_pool2d: return maxPool2d(k);
  case Primitive::max_pool2d_grad: return maxPool2dGrad(k);
  case Primitive::avg_pool2d: return avgPool2d(k);
  case Primitive::avg_pool2d_grad: return avgPool2dGrad(k);
  case Primitive::random_uniform: return randomUniform(k);
  }
  throw CompileError("no Halide algorithm for kiln." + std::string(mnemonic(k.spec.op)));
}

} // namespace kiln::lowering
