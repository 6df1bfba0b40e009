// Lowers kiln primitives to Halide pipelines: the one table of op -> Halide algorithm, the
// (unfused) default schedule, AOT compilation and the in-process JIT.
//
// Layout: kiln tensors are dense row-major, so kiln dimension d of a rank-r tensor is Halide
// dimension r-1-d (Halide's dimension 0 is the innermost). `at()` does that reversal, so the
// algorithms below index in kiln's order.
#include "codegen/KernelSpec.h"

#include "Halide.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>

namespace kiln {
namespace {

using namespace Halide;

Type halideType(DType t) {
  switch (t) {
  case DType::f32: return Float(32);
  case DType::i32: return Int(32);
  case DType::i1: return UInt(8);  // masks are stored as bytes
  }
  return Float(32);
}

Target hostTarget();

// Floats per vector register on the host: 16 with AVX-512, 8 with AVX2.
int lanes() {
  static const int n = hostTarget().natural_vector_size(Float(32));
  return n;
}

// Reverses kiln-order indices into Halide's argument order.
std::vector<Expr> reversed(const std::vector<Expr> &idx) { return {idx.rbegin(), idx.rend()}; }

// One primitive of a kernel: its algorithm reads its operands through `in` (a kernel input or
// an earlier primitive's Func) and defines `out`.
struct Kernel {
  const KernelSpec &spec;
  std::vector<Func> in;
  std::vector<std::optional<Primitive>> inOps;  // the primitive computing each operand; none for a kernel input
  std::vector<Var> vars;  // Halide order: vars[0] is innermost
  Func out;
  bool selfScheduledUpdate = false;  // the algorithm scheduled out.update(0) itself
  bool vectorizeOutput = true;       // false where the algorithm vectorized something inside
  std::string note;                  // what the algorithm scheduled itself, for the dump
  bool computeOnce = false;          // the kernel updates in place: no point computed twice
  // A contraction's register tile, scheduled on the Func that computes it: its own output, or
  // the end of the elementwise epilogue fused after it (same shape, same loop nest).
  std::function<std::string(Func root, const std::vector<Var> &vars)> tile;  // returns a note

  std::vector<Expr> index() const {  // the output coordinate in kiln order
    std::vector<Expr> idx;
    for (auto it = vars.rbegin(); it != vars.rend(); ++it)
      idx.push_back(*it);
    return idx;
  }
  Expr at(int input, const std::vector<Expr> &idx) const { return in[input](reversed(idx)); }
  Expr same(int input) const { return at(input, index()); }
  std::vector<Var> outVars() const { return vars; }
  void define(Expr e) { out(std::vector<Var>(vars)) = e; }
  // Input `i` extended beyond its bounds with `outside` (padding).
  Func bounded(int i, Expr outside) const {
    Region bounds;
    const auto &shape = spec.inputs[i].shape;
    for (auto it = shape.rbegin(); it != shape.rend(); ++it)
      bounds.push_back(Range(0, int(*it)));
    return BoundaryConditions::constant_exterior(in[i], outside, bounds);
  }
  // Input `i` (N, C, H, W) surrounded by zeros, for a convolution to compute once and then
  // read without bounds checks: zeros first, then the rows copied over them as vectors (a
  // boundary condition computed point by point was a scalar select and copy per element).
  Func zeroPadded(int i) const {
    const auto &shape = spec.inputs[i].shape;
    Func f("zero_padded");
    Var x("x"), y("y"), c("c"), n("n");
    RDom r(0, int(shape[3]), 0, int(shape[2]), "row");
    f(x, y, c, n) = 0.0f;
    f(r.x, r.y, c, n) = in[i](r.x, r.y, c, n);
    f.vectorize(x, shape[3] >= lanes() ? lanes() : lanes() / 2, TailStrategy::RoundUp);
    if (shape[3] <= lanes())
      f.update().vectorize(r.x);
    else
      f.update().vectorize(r.x, lanes(), TailStrategy::GuardWithIf);
    return f;
  }
};

using Algorithm = std::function<void(Kernel &)>;

enum class Reduction { sum, mean, max };

// sum, mean or max over spec.dims, which are removed from the result. The reduction walks
// the input in memory order (its innermost dimension innermost); when that dimension is
// reduced, the reduction itself is vectorized (partial sums per lane, combined at the end).
void reduce(Kernel &k, Reduction how) {
  const auto &inShape = k.spec.inputs[0].shape;
  const auto &dims = k.spec.dims;
  int rank = int(inShape.size());
  Region ranges;
  std::vector<int> rdimOf(rank, -1);  // kiln dimension -> RDom dimension (0 innermost)
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
    acc(k.outVars()) = Expr(-std::numeric_limits<float>::infinity());
    acc(k.outVars()) = max(acc(k.outVars()), k.at(0, src));
  } else {
    acc(k.outVars()) = 0.0f;
    acc(k.outVars()) += k.at(0, src);
  }
  k.define(how == Reduction::mean ? acc(k.outVars()) / float(count) : acc(k.outVars()));
  if (rank > 0 && rdimOf[rank - 1] == 0) {
    // Reduced dimensions contiguous in memory (a bias gradient's h and w) run as one.
    RVar inner = r[0];
    int64_t extent = inShape[rank - 1];
    if (rank > 1 && rdimOf[rank - 2] == 1) {
      RVar fused("rf");
      acc.update().fuse(r[0], r[1], fused);
      inner = fused;
      extent *= inShape[rank - 2];
    }
    if (extent >= 8) {
      RVar ro("ro"), ri("ri");
      int width = extent >= lanes() ? lanes() : lanes() / 2;
      acc.compute_at(k.out, k.vars.empty() ? Var::outermost() : k.vars[0]);
      acc.update().atomic().split(inner, ro, ri, width, TailStrategy::GuardWithIf).vectorize(ri);
      k.vectorizeOutput = false;
      k.note = "reduction vectorized over its contiguous innermost " + std::to_string(extent) +
               " elements, " + std::to_string(width) + " lanes";
    }
  }
}

// Spatial geometry of convolutions and pooling, in Halide's (width, height) order.
struct Window {
  int kw, kh, sw, sh, pw, ph, dw, dh;
};

Window windowOf(const KernelSpec &spec, const std::vector<int64_t> &kernelHW) {
  auto at = [](const std::vector<int64_t> &v, int i, int fallback) { return v.empty() ? fallback : int(v[i]); };
  return {at(kernelHW, 1, 1), at(kernelHW, 0, 1), at(spec.stride, 1, 1), at(spec.stride, 0, 1),
          at(spec.padding, 1, 0), at(spec.padding, 0, 0), at(spec.dilation, 1, 1), at(spec.dilation, 0, 1)};
}

// Vectors over output channels or over output columns: whichever fills more of its vector
// lanes. Channel vectors are rounded up to whole vectors (masked); column vectors may be half
// or quarter vectors, and cover a row by overlapping (ShiftInwards), recomputing a few columns.
int rowVectorWidth(int width) {
  for (int v = lanes(); v >= 4; v /= 2)
    if (width >= v)
      return v;
  return 0;
}

double channelLanesUsed(int channels) {
  return double(channels) / (double((channels + lanes() - 1) / lanes()) * lanes());
}

double rowLanesUsed(int width) {
  int v = rowVectorWidth(width);
  if (v == 0)
    return 0;
  return double(width) / (double((width + v - 1) / v) * v) * v / lanes();
}

std::string percent(double share) { return std::to_string(int(share * 100 + 0.5)) + "%"; }

// Why a convolution runs its vectors along rows or along channels, for the dump.
std::string rowReason(int channels, int width) {
  return std::to_string(channels) + " channels fill " + percent(channelLanesUsed(channels)) + " of " +
         std::to_string(lanes()) + "-lane vectors, rows of " + std::to_string(width) + " fill " +
         percent(rowLanesUsed(width));
}

// The register-tiled convolution all three forms share when they are dense sums:
//   out(w, h, k, n) = sum_{r} in(w, h, r, n) * weight(k, r)
// computed as acc(k, w, h, n) with k (output channels) innermost: a tile of kBlock channels
// (vectors of 16) by wBlock columns stays in registers while the reduction over input channels
// and taps runs around it; weights are re-laid out once with k innermost so that their loads
// are dense vectors; the padded input is built once per image; parallel over the batch.
struct ConvTile {
  Func acc, weights, input;  // acc(k, w, h, n); weights(k, ...) and input for the schedule
  RDom r;
};

std::string scheduleConvTile(Func root, const std::vector<Var> &vars, ConvTile &t, int channels, int width) {
  Var w = vars[0], h = vars[1], ch = vars[2], n = vars[3];
  Var wo("wo"), wi("wi"), ko("ko"), ki("ki");
  // Two vectors of channels unless that pads more channels than one vector does.
  int padded1 = (channels + lanes() - 1) / lanes() * lanes(), padded2 = (channels + 2 * lanes() - 1) / (2 * lanes()) * 2 * lanes();
  int kBlock = channels >= 2 * lanes() && padded2 <= padded1 ? 2 * lanes() : lanes();
  int wBlock = width % 7 == 0 ? 7 : std::min(width, 8);
  std::string note = "register tile " + std::to_string(kBlock) + " channels x " + std::to_string(wBlock) +
                     " columns (" + std::to_string(lanes()) + "-lane vectors), stored a channel's columns per vector, "
                     "filter rows in the padding skipped, zero-padded input per image, parallel over batch";
  root.split(ch, ko, ki, kBlock, TailStrategy::GuardWithIf)
      .split(w, wo, wi, wBlock, TailStrategy::GuardWithIf)
      .reorder(wi, ki, wo, ko, h, n)
      // The tile is stored channel by channel, its columns as one (masked) vector: the
      // scalar store loop took a tenth of the convolution.
      .vectorize(wi, 8, TailStrategy::GuardWithIf)
      .parallel(n);
  t.acc.compute_at(root, wo).store_in(MemoryType::Stack);
  Var kv("kv"), ku("ku");
  Var aw = t.acc.args()[1], ak = t.acc.args()[0];
  // Channels are padded to whole vectors (the weights read zeros there): a masked vector ran
  // as scalars.
  t.acc.vectorize(ak, lanes(), TailStrategy::RoundUp).unroll(aw);
  t.acc.update()
      .reorder(ak, aw, t.r.x, t.r.y, t.r.z)
      .split(ak, ku, kv, lanes(), TailStrategy::RoundUp)
      .vectorize(kv)
      .unroll(ku)
      .unroll(aw);
  t.weights.compute_root();
  t.input.compute_at(root, n);
  return note;
}

// The tile of `channels` output channels, scheduled where the kernel's loop nest is.
void useConvTile(Kernel &k, const ConvTile &tile, int channels) {
  int width = int(k.spec.output.shape[3]);
  k.tile = [t = tile, channels, width](Func root, const std::vector<Var> &vars) mutable {
    return rowReason(channels, width) + ": " + scheduleConvTile(root, vars, t, channels, width);
  };
}

// A convolution-shaped sum acc(w, h, ch, n) vectorized along output rows: per reduction step,
// one row vector of the input per output row of the tile and one broadcast weight per output
// channel feed rows x channels multiply-adds, all accumulators in registers.
void useRowTile(Kernel &k, Func acc, Func input, RDom r, const std::string &reason) {
  const auto &out = k.spec.output.shape;  // N, CH, H, W
  int width = int(out[3]), height = int(out[2]), channels = int(out[1]);
  int vector = rowVectorWidth(width);
  int chBlock = std::min(channels, 8);
  int rows = std::min(height, std::max(1, 16 / chBlock));
  k.tile = [=](Func root, const std::vector<Var> &vars) mutable {
    Var w = vars[0], h = vars[1], ch = vars[2], n = vars[3];
    Var wo("wo"), wi("wi"), ho("ho"), hi("hi"), co("co"), ci("ci");
    root.split(w, wo, wi, vector, TailStrategy::ShiftInwards)
        .split(h, ho, hi, rows, TailStrategy::ShiftInwards)
        .split(ch, co, ci, chBlock, TailStrategy::ShiftInwards)
        .reorder(wi, hi, ci, wo, ho, co, n)
        .vectorize(wi)
        .unroll(hi)
        .unroll(ci)
        .parallel(n);
    Var aw = acc.args()[0], ah = acc.args()[1], ac = acc.args()[2];
    acc.compute_at(root, wo).store_in(MemoryType::Stack).vectorize(aw).unroll(ah).unroll(ac);
    acc.update().reorder(aw, ah, ac, r.x, r.y, r.z).vectorize(aw).unroll(ah).unroll(ac);
    input.compute_at(root, n);
    return reason + ": " + std::to_string(vector) + "-column row vectors x " + std::to_string(rows) + " rows x " +
           std::to_string(chBlock) + " channels in registers, parallel over batch";
  };
}

// out(w, h, o, n) = sum_{c, p, q} x(w*sw - pw + q*dw, h*sh - ph + p*dh, c, n) * f(q, p, c, o)
void conv2d(Kernel &k) {
  const auto &f = k.spec.inputs[1].shape;  // O, C, KH, KW
  Window g = windowOf(k.spec, {f[2], f[3]});
  int outWidth = int(k.spec.output.shape[3]);
  // One input channel: a tile over output channels would load a broadcast input value per
  // multiply-add, so rows win whenever they fill a vector at all.
  int channels = int(f[0]);
  bool rows = rowVectorWidth(outWidth) > 0 &&
              (f[1] == 1 || rowLanesUsed(outWidth) > channelLanesUsed(channels));
  if (rows) {
    Func acc("acc_rows"), input = k.zeroPadded(0);
    RDom r(0, g.kw, 0, g.kh, 0, int(f[1]), "r");
    Var w = k.vars[0], h = k.vars[1], o = k.vars[2], n = k.vars[3];
    acc(w, h, o, n) = 0.0f;
    acc(w, h, o, n) += input(w * g.sw - g.pw + r.x * g.dw, h * g.sh - g.ph + r.y * g.dh, r.z, n) * k.in[1](r.x, r.y, r.z, o);
    k.out(w, h, o, n) = acc(w, h, o, n);
    useRowTile(k, acc, input, r, f[1] == 1 ? "one input channel" : rowReason(channels, outWidth));
    return;
  }
  ConvTile t{Func("acc"), Func("filter_ok"), k.zeroPadded(0),
             RDom(0, g.kw, 0, g.kh, 0, int(f[1]), "r")};
  Var w = k.vars[0], h = k.vars[1], o = k.vars[2], n = k.vars[3], q("q"), p("p"), c("c");
  t.weights(o, q, p, c) = k.bounded(1, 0.0f)(q, p, c, o);
  Expr row = h * g.sh - g.ph + t.r.y * g.dh;
  t.r.where(row >= 0 && row < int(k.spec.inputs[0].shape[2]));  // filter rows in the padding add nothing
  t.acc(o, w, h, n) = 0.0f;
  t.acc(o, w, h, n) += t.input(w * g.sw - g.pw + t.r.x * g.dw, row, t.r.z, n) * t.weights(o, t.r.x, t.r.y, t.r.z);
  k.out(w, h, o, n) = t.acc(o, w, h, n);
  useConvTile(k, t, int(f[0]));
}

// dx(w, h, c, n) = sum_{o, p, q} dy(i, j, o, n) f(q, p, c, o) over the (i, j) with
// w = i*sw - pw + q*dw and h = j*sh - ph + p*dh.
void conv2dInputGrad(Kernel &k) {
  const auto &f = k.spec.inputs[1].shape;  // O, C, KH, KW
  Window g = windowOf(k.spec, {f[2], f[3]});
  int channels = int(f[1]), width = int(k.spec.output.shape[3]);
  if (g.sw == 1 && g.sh == 1 && rowVectorWidth(width) > 0 && rowLanesUsed(width) > channelLanesUsed(channels)) {
    Func acc("acc_rows"), dy = k.zeroPadded(0);
    RDom r(0, g.kw, 0, g.kh, 0, int(f[0]), "r");
    Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3];
    acc(w, h, c, n) = 0.0f;
    acc(w, h, c, n) += dy(w + g.pw - r.x * g.dw, h + g.ph - r.y * g.dh, r.z, n) * k.in[1](r.x, r.y, c, r.z);
    k.out(w, h, c, n) = acc(w, h, c, n);
    useRowTile(k, acc, dy, r, rowReason(channels, width));
    return;
  }
  ConvTile t{Func("acc"), Func("filter_ci"), k.zeroPadded(0),
             RDom(0, g.kw, 0, g.kh, 0, int(f[0]), "r")};
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3], q("q"), p("p"), o("o");
  t.weights(c, q, p, o) = k.bounded(1, 0.0f)(q, p, c, o);
  Expr iw = w + g.pw - t.r.x * g.dw, ih = h + g.ph - t.r.y * g.dh;
  t.r.where(ih >= 0 && ih <= (int(k.spec.inputs[0].shape[2]) - 1) * g.sh);  // rows of dy's padding add nothing
  Expr term = t.input(iw / g.sw, ih / g.sh, t.r.z, n) * t.weights(c, t.r.x, t.r.y, t.r.z);
  if (g.sw != 1 || g.sh != 1)  // only positions a window actually starts from contribute
    term = select(iw % g.sw == 0 && ih % g.sh == 0, term, 0.0f);
  t.acc(c, w, h, n) = 0.0f;
  t.acc(c, w, h, n) += term;
  k.out(w, h, c, n) = t.acc(c, w, h, n);
  useConvTile(k, t, int(f[1]));
}

// The filter gradient for few output channels: vectors along dy's rows. Each lane l of
// part(l, q, o) sums the products of the columns i = l (mod the vector width) of every row of
// every image, one accumulator vector per (filter column, output channel) of the tile; the
// lanes are added at the end. dy's rows are extended with zeros to whole vectors, so no lane
// reads past a row.
void filterGradAlongRows(Kernel &k, const Window &g) {
  const auto &dyShape = k.spec.inputs[1].shape;  // N, O, OH, OW
  int width = int(dyShape[3]), channels = int(dyShape[1]);
  int vector = rowVectorWidth(width), vectorsPerRow = (width + vector - 1) / vector;
  int chBlock = std::max(1, std::min(channels, 24 / g.kw));
  Func x = k.zeroPadded(0), dy = k.bounded(1, 0.0f), dyRows("dy_rows"), part("part");
  Var i("i"), j("j"), o("o"), n("n"), l("l"), q = k.vars[0], p = k.vars[1], c = k.vars[2], oc = k.vars[3];
  dyRows(i, j, o, n) = dy(i, j, o, n);
  RDom r(0, vectorsPerRow, 0, int(dyShape[2]), 0, int(dyShape[0]), "r");
  Expr col = r.x * vector + l;
  part(l, q, p, c, o) = 0.0f;
  part(l, q, p, c, o) += dyRows(col, r.y, o, r.z) * x(col * g.sw - g.pw + q * g.dw, r.y * g.sh - g.ph + p * g.dh, c, r.z);
  RDom lane(0, vector, "lane");
  k.out(q, p, c, oc) = sum(part(lane, q, p, c, oc));
  std::string reason = rowReason(channels, width);
  k.tile = [=](Func root, const std::vector<Var> &vars) mutable {
    Var q = vars[0], p = vars[1], c = vars[2], o = vars[3], oo("oo"), oi("oi"), pc("pc");
    root.split(o, oo, oi, chBlock, TailStrategy::ShiftInwards).reorder(q, oi, oo, p, c).fuse(p, c, pc).parallel(pc);
    Var al = part.args()[0], aq = part.args()[1], ao = part.args()[4];
    part.compute_at(root, oo).store_in(MemoryType::Stack).vectorize(al).unroll(aq).unroll(ao);
    part.update().reorder(al, aq, ao, r.x, r.y, r.z).vectorize(al).unroll(aq).unroll(ao);
    Var di = dyRows.args()[0];
    dyRows.compute_root().vectorize(di, vector, TailStrategy::RoundUp).parallel(dyRows.args()[3]);
    dyRows.bound(di, 0, vectorsPerRow * vector);
    x.compute_root().parallel(x.args()[3]);
    x.update().parallel(x.args()[3]);
    return reason + ": " + std::to_string(vector) + "-lane vectors along dy's rows x " + std::to_string(g.kw) +
           " filter columns x " + std::to_string(chBlock) + " output channels in registers, lanes added at the end, "
           "parallel over input channels and filter rows";
  };
}

// df(q, p, c, o) = sum_{n, i, j} dy(i, j, o, n) x(i*sw - pw + q*dw, j*sh - ph + p*dh, c, n),
// accumulated as acc(o, q, p, c): output channels vectorized, the taps of one row unrolled,
// the whole (n, i, j) reduction around that register tile; parallel over input channels and
// filter rows.
void conv2dFilterGrad(Kernel &k) {
  const auto &dyShape = k.spec.inputs[1].shape;  // N, O, OH, OW
  Window g = windowOf(k.spec, {k.spec.output.shape[2], k.spec.output.shape[3]});
  if (rowVectorWidth(int(dyShape[3])) > 0 && rowLanesUsed(int(dyShape[3])) > channelLanesUsed(int(dyShape[1]))) {
    filterGradAlongRows(k, g);
    return;
  }
  Func paddedRoot = k.zeroPadded(0), dyT("grad_oi");
  Var x("x"), y("y"), c = k.vars[2], n("n"), o = k.vars[3], q = k.vars[0], p = k.vars[1];
  int lastChannel = int(dyShape[1]) - 1;  // zeros past it: the tile pads channels to whole vectors
  dyT(o, x, y, n) = select(o <= lastChannel, k.in[1](x, y, min(o, lastChannel), n), 0.0f);
  RDom r(0, int(dyShape[3]), 0, int(dyShape[2]), 0, int(dyShape[0]), "r");
  Expr row = r.y * g.sh - g.ph + p * g.dh;
  r.where(row >= 0 && row < int(k.spec.inputs[0].shape[2]));  // a filter row meets no padding row
  Func acc("acc");
  acc(o, q, p, c) = 0.0f;
  acc(o, q, p, c) += dyT(o, r.x, r.y, r.z) * paddedRoot(r.x * g.sw - g.pw + q * g.dw, row, c, r.z);
  k.out(q, p, c, o) = acc(o, q, p, c);

  int rowWidth = int(dyShape[3]), channelsOut = int(dyShape[1]);
  k.tile = [acc, dyT, paddedRoot, r, rowWidth, channelsOut](Func root, const std::vector<Var> &vars) mutable {
    Var q = vars[0], p = vars[1], c = vars[2], o = vars[3], ao = acc.args()[0], aq = acc.args()[1];
    Var ku("ku"), kv("kv"), pc("pc");
    // Parallel over (input channel, filter row): a one-channel input still splits in rows.
    root.reorder(q, o, p, c).fuse(p, c, pc).parallel(pc);
    acc.compute_at(root, pc).store_in(MemoryType::Stack);
    acc.vectorize(ao, lanes(), TailStrategy::RoundUp).unroll(aq);
    acc.update()
        .reorder(ao, aq, r.x, r.y, r.z)
        .split(ao, ku, kv, lanes(), TailStrategy::RoundUp)
        .vectorize(kv)
        .unroll(ku)
        .unroll(aq);
    // The transpose reads rows of dy as vectors and writes them interleaved, one output
    // channel per unrolled store: Halide merges those strided stores into dense shuffled ones
    // (vectorizing over channels instead gathered every element).
    Var to = dyT.args()[0], tx = dyT.args()[1], txo("txo"), txi("txi");
    int width = rowWidth >= lanes() ? lanes() : lanes() / 2;
    std::string transpose = "dy transposed by interleaving stores";
    if (channelsOut * width <= 16 * lanes() && rowWidth >= width) {
      dyT.compute_root()
          .split(tx, txo, txi, width, TailStrategy::ShiftInwards)
          .reorder(txi, to, txo)
          .vectorize(txi)
          .unroll(to)
          .parallel(dyT.args()[3]);
    } else {
      dyT.compute_root().vectorize(to, lanes(), TailStrategy::GuardWithIf).parallel(dyT.args()[3]);
      transpose = "dy transposed by gathers";
    }
    // Every padded position a window can read, computed once.
    paddedRoot.compute_root().parallel(paddedRoot.args()[3]);
    paddedRoot.update().parallel(paddedRoot.args()[3]);
    return rowReason(channelsOut, rowWidth) + ": register tile of " + std::to_string(lanes()) +
           "-lane output-channel vectors x one filter row, "
           "image rows in the padding skipped, " + transpose + ", parallel over input channels and filter rows";
  };
}

// out(w, h, c, n) = max over the window, padding reads -inf
void maxPool2d(Kernel &k) {
  Window g = windowOf(k.spec, k.spec.window);
  Func padded = k.bounded(0, Expr(-std::numeric_limits<float>::infinity()));
  RDom r(0, g.kw, 0, g.kh, "r");
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3];
  k.out(w, h, c, n) = maximum(padded(w * g.sw - g.pw + r.x, h * g.sh - g.ph + r.y, c, n));
}

// Each window's adjoint goes to the window's first maximum (row-major), as PyTorch's does.
// Windows that do not overlap (stride >= window, the usual case) make this a gather: every
// input position belongs to at most one window and takes its gradient if it is that window's
// maximum. Overlapping windows scatter-add into the input instead.
void maxPool2dGrad(Kernel &k) {
  Window g = windowOf(k.spec, k.spec.window);
  const auto &in = k.spec.inputs[0].shape, &dyShape = k.spec.inputs[1].shape;
  Func padded = k.bounded(0, Expr(-std::numeric_limits<float>::infinity()));
  RDom r(0, g.kw, 0, g.kh, "r");
  Var i("i"), j("j"), c = k.vars[2], n = k.vars[3];
  int ow = int(dyShape[3]), oh = int(dyShape[2]);
  if (g.sw >= g.kw && g.sh >= g.kh && g.kw * g.kh <= 16) {
    // Position (q, p) of window (wi, hj) takes the gradient if it holds the window's maximum
    // and no earlier position (row-major) does.
    Var w = k.vars[0], h = k.vars[1];
    Expr pw = w + g.pw, ph = h + g.ph;
    Expr wi = pw / g.sw, hj = ph / g.sh, q = pw % g.sw, p = ph % g.sh;
    Expr wc = clamp(wi, 0, ow - 1), hc = clamp(hj, 0, oh - 1);
    Func best("window_max");
    best(i, j, c, n) = maximum(padded(i * g.sw - g.pw + r.x, j * g.sh - g.ph + r.y, c, n));
    Expr m = best(wc, hc, c, n);
    Expr first = padded(w, h, c, n) == m;
    for (int pp = 0; pp < g.kh; ++pp)
      for (int qq = 0; qq < g.kw; ++qq)
        first = first && (pp * g.kw + qq >= p * g.kw + q ||
                          padded(wc * g.sw - g.pw + qq, hc * g.sh - g.ph + pp, c, n) != m);
    Expr inside = q < g.kw && p < g.kh && wi < ow && hj < oh;
    k.out(w, h, c, n) = select(inside && first, k.in[1](wc, hc, c, n), 0.0f);
    // One window at a time: its positions unrolled (their window index and offset become
    // constants), windows of a row in vectors, the window maxima computed per row; on the
    // Func that carries the loop nest (this one, or the ReLU gradient fused after it).
    Var ii = i;
    k.tile = [g, ow, best, ii](Func root, const std::vector<Var> &vars) mutable {
      Var w = vars[0], h = vars[1], c = vars[2], n = vars[3];
      Var wo("wo"), qi("qi"), ho("ho"), pi("pi");
      root.split(w, wo, qi, g.sw, TailStrategy::GuardWithIf)
          .split(h, ho, pi, g.sh, TailStrategy::GuardWithIf)
          .reorder(qi, wo, pi, ho, c, n)
          .unroll(qi)
          .unroll(pi)
          .parallel(n);
      // Masked tails are slow here: a row shorter than the vector is covered by overlapping
      // vectors instead (ShiftInwards recomputes a few windows).
      int width = ow >= lanes() / 2 ? lanes() / 2 : lanes() / 4;
      if (ow >= width) {
        root.vectorize(wo, width, TailStrategy::ShiftInwards);
        best.compute_at(root, ho).vectorize(ii, width, TailStrategy::ShiftInwards);
      } else {
        best.compute_at(root, ho);
      }
      return "gather, one window per step (positions unrolled), " + std::to_string(width) +
             " windows per vector, window maxima per row, parallel over batch";
    };
    return;
  }
  Func first("first_max");
  first(i, j, c, n) = argmax(r, padded(i * g.sw - g.pw + r.x, j * g.sh - g.ph + r.y, c, n));
  RDom o(0, ow, 0, oh, "o");
  Expr x = clamp(o.x * g.sw - g.pw + first(o.x, o.y, c, n)[0], 0, int(in[3]) - 1);
  Expr y = clamp(o.y * g.sh - g.ph + first(o.x, o.y, c, n)[1], 0, int(in[2]) - 1);
  k.out(k.vars[0], k.vars[1], c, n) = 0.0f;
  k.out(x, y, c, n) += k.in[1](o.x, o.y, c, n);
  first.compute_at(k.out, n);
}

// out = sum over the window / (kh kw), padding reads 0 and counts (count_include_pad)
void avgPool2d(Kernel &k) {
  Window g = windowOf(k.spec, k.spec.window);
  Func padded = k.bounded(0, 0.0f);
  RDom r(0, g.kw, 0, g.kh, "r");
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3];
  k.out(w, h, c, n) = sum(padded(w * g.sw - g.pw + r.x, h * g.sh - g.ph + r.y, c, n)) / float(g.kw * g.kh);
}

// dx(w, h) = sum over the windows (i, j) containing (w, h) of dy(i, j) / (kh kw)
void avgPool2dGrad(Kernel &k) {
  Window g = windowOf(k.spec, k.spec.window);
  Func dy = k.bounded(0, 0.0f);
  RDom r(0, g.kw, 0, g.kh, "r");
  Var w = k.vars[0], h = k.vars[1], c = k.vars[2], n = k.vars[3];
  Expr iw = w + g.pw - r.x, ih = h + g.ph - r.y;
  Expr term = dy(iw / g.sw, ih / g.sh, c, n);
  if (g.sw != 1 || g.sh != 1)
    term = select(iw % g.sw == 0 && ih % g.sh == 0, term, 0.0f);
  k.out(w, h, c, n) = sum(term) / float(g.kw * g.kh);
}

// result[m, n] = sum_k lhs[m, k] * rhs[k, n] for outputs a vector wide or more: a register tile
// of up to 8 rows x 2 vectors of columns accumulates over the whole reduction, each step one
// vector load of rhs per column vector and one broadcast of lhs per row. A transposed rhs is
// first copied into dense rows (its vectors along n would otherwise be gathers).
void tiledMatmul(Kernel &k) {
  int m = int(k.spec.output.shape[0]), n = int(k.spec.output.shape[1]), depth = int(k.spec.inputs[0].shape[1]);
  RDom r(0, depth, "k");
  bool pack = k.inOps[1] == Primitive::transpose;
  Func acc("acc"), rhs = k.in[1];
  if (pack) {
    Var pn("pn"), pk("pk");
    rhs = Func("rhs_packed");
    rhs(pn, pk) = k.in[1](pn, pk);
  }
  Var nv = k.vars[0], mv = k.vars[1];
  acc(nv, mv) = 0.0f;
  acc(nv, mv) += k.in[0](r.x, mv) * rhs(nv, r.x);
  k.define(acc(nv, mv));
  int vectors = n >= 2 * lanes() ? 2 : 1;
  int mBlock = std::min(m, lanes() >= 16 ? 8 : 4);
  // Thread wake-up costs up to 230 us here: only products of some milliseconds are split.
  bool parallel = int64_t(m) * n * depth >= (int64_t(1) << 22);
  TailStrategy tail = k.computeOnce ? TailStrategy::GuardWithIf : TailStrategy::ShiftInwards;
  int block = std::min(std::min(n, depth), lanes());  // of the transposing copy
  k.tile = [=](Func root, const std::vector<Var> &vars) mutable {
    Var n = vars[0], m = vars[1], no("no"), ni("ni"), mo("mo"), mi("mi"), nu("nu"), nl("nl");
    root.split(n, no, ni, vectors * lanes(), tail)
        .split(m, mo, mi, mBlock, tail)
        .split(ni, nu, nl, lanes())
        .reorder(nl, nu, mi, mo, no)
        .vectorize(nl)
        .unroll(nu)
        .unroll(mi);
    if (parallel)
      root.parallel(no);
    Var an = acc.args()[0], am = acc.args()[1], au("au"), al("al");
    acc.compute_at(root, mo).store_in(MemoryType::Stack);
    acc.split(an, au, al, lanes(), TailStrategy::GuardWithIf).vectorize(al).unroll(au).unroll(am);
    acc.update()
        .split(an, au, al, lanes(), TailStrategy::GuardWithIf)
        .reorder(al, au, am, r.x)
        .vectorize(al)
        .unroll(au)
        .unroll(am);
    std::string note = "register tile " + std::to_string(mBlock) + " rows x " + std::to_string(vectors) + " x " +
                       std::to_string(lanes()) + " columns over the reduction of " + std::to_string(depth);
    if (pack) {
      // Square blocks: the gathered lines stay in L1 for the block's next rows.
      Var pn = rhs.args()[0], pk = rhs.args()[1], pno("pno"), pni("pni"), pko("pko"), pki("pki");
      rhs.compute_root()
          .tile(pn, pk, pno, pko, pni, pki, block, block, TailStrategy::GuardWithIf)
          .vectorize(pni)
          .unroll(pki);
      if (parallel)
        rhs.parallel(pko);
      note += ", the transposed rhs copied into dense rows first";
    }
    return note + (parallel ? ", parallel over column blocks" : "");
  };
}

// The lowering table: one entry per primitive.
const std::map<Primitive, Algorithm> &algorithms() {
  static const std::map<Primitive, Algorithm> table = {
      {Primitive::add, [](Kernel &k) { k.define(k.same(0) + k.same(1)); }},
      {Primitive::sub, [](Kernel &k) { k.define(k.same(0) - k.same(1)); }},
      {Primitive::mul, [](Kernel &k) { k.define(k.same(0) * k.same(1)); }},
      {Primitive::div, [](Kernel &k) { k.define(k.same(0) / k.same(1)); }},
      {Primitive::max, [](Kernel &k) { k.define(max(k.same(0), k.same(1))); }},
      {Primitive::neg, [](Kernel &k) { k.define(-k.same(0)); }},
      {Primitive::exp, [](Kernel &k) { k.define(exp(k.same(0))); }},
      {Primitive::log, [](Kernel &k) { k.define(log(k.same(0))); }},
      {Primitive::sqrt, [](Kernel &k) { k.define(sqrt(k.same(0))); }},
      {Primitive::stop_gradient, [](Kernel &k) { k.define(k.same(0)); }},
      {Primitive::abs, [](Kernel &k) { k.define(abs(k.same(0))); }},
      {Primitive::sin, [](Kernel &k) { k.define(sin(k.same(0))); }},
      {Primitive::cos, [](Kernel &k) { k.define(cos(k.same(0))); }},
      {Primitive::one_hot,
       [](Kernel &k) {
         // The class is the innermost dimension, vars[0]; the label is indexed by the rest.
         std::vector<Expr> idx = k.index();
         idx.pop_back();
         k.define(select(k.at(0, idx) == k.vars[0], 1.0f, 0.0f));
       }},
      {Primitive::compare,
       [](Kernel &k) {
         Expr a = k.same(0), b = k.same(1);
         const std::string &d = k.spec.direction;
         Expr c = d == "EQ" ? a == b : d == "NE" ? a != b : d == "LT" ? a < b
                : d == "LE" ? a <= b : d == "GT" ? a > b : a >= b;
         k.define(select(c, cast<uint8_t>(1), cast<uint8_t>(0)));
       }},
      {Primitive::select, [](Kernel &k) { k.define(select(k.same(0) != 0, k.same(1), k.same(2))); }},
      {Primitive::constant,
       [](Kernel &k) {
         const auto &v = k.spec.values;
         Type t = halideType(k.spec.output.dtype);
         if (v.size() == 1) {
           k.define(cast(t, Expr(v[0])));
           return;
         }
         // A dense constant is embedded in the object as a buffer.
         std::vector<int> extents(k.spec.output.shape.rbegin(), k.spec.output.shape.rend());
         Buffer<float> data(extents);
         std::copy(v.begin(), v.end(), data.data());
         k.define(cast(t, data(std::vector<Expr>(k.vars.begin(), k.vars.end()))));
       }},
      {Primitive::broadcast_in_dim,
       [](Kernel &k) {
         // Operand dimension i reads result dimension dims[i], or 0 where it expands from 1.
         std::vector<Expr> idx = k.index(), src;
         const auto &inShape = k.spec.inputs[0].shape;
         for (size_t i = 0; i < k.spec.dims.size(); ++i)
           src.push_back(inShape[i] == 1 ? Expr(0) : idx[k.spec.dims[i]]);
         k.define(k.at(0, src));
       }},
      {Primitive::reshape,
       [](Kernel &k) {
         // Row-major linear index of the output coordinate, unflattened in the input's shape.
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
       }},
      {Primitive::transpose,
       [](Kernel &k) {
         // Result dimension i is operand dimension perm[i].
         std::vector<Expr> idx = k.index(), src(idx.size());
         for (size_t i = 0; i < idx.size(); ++i)
           src[k.spec.dims[i]] = idx[i];
         k.define(k.at(0, src));
       }},
      {Primitive::reduce_sum, [](Kernel &k) { reduce(k, Reduction::sum); }},
      {Primitive::reduce_mean, [](Kernel &k) { reduce(k, Reduction::mean); }},
      {Primitive::reduce_max, [](Kernel &k) { reduce(k, Reduction::max); }},
      {Primitive::conv2d, conv2d},
      {Primitive::conv2d_input_grad, conv2dInputGrad},
      {Primitive::conv2d_filter_grad, conv2dFilterGrad},
      {Primitive::max_pool2d, maxPool2d},
      {Primitive::max_pool2d_grad, maxPool2dGrad},
      {Primitive::avg_pool2d, avgPool2d},
      {Primitive::avg_pool2d_grad, avgPool2dGrad},
      {Primitive::matmul,
       [](Kernel &k) {
         // result[m, n] = sum_k lhs[m, k] * rhs[k, n]
         RDom r(0, int(k.spec.inputs[0].shape[1]), "k");
         std::vector<Expr> idx = k.index();
         int m = int(k.spec.output.shape[0]), n = int(k.spec.output.shape[1]),
             depth = int(k.spec.inputs[0].shape[1]);
         // A weight gradient (x^T dy) reads its left operand transposed: along the reduction
         // it is strided, so no vector runs over it. Accumulate outer products instead, one row
         // of each operand per step, vectorized over whichever output dimension a row holds.
         if (n < lanes() && k.inOps[0] == Primitive::transpose && m * n <= 4 * lanes()) {
           Func acc("acc");
           Var mv = k.vars[1], nv = k.vars[0];
           acc(nv, mv) = 0.0f;
           acc(nv, mv) += k.at(0, {mv, r.x}) * k.at(1, {r.x, nv});
           k.define(acc(nv, mv));
           bool overN = n >= lanes() / 2 && k.inOps[1] != Primitive::transpose;
           Var vec = overN ? nv : mv, other = overN ? mv : nv;
           int extent = overN ? n : m, others = overN ? m : n;
           if (!overN)
             acc.reorder_storage(mv, nv);
           acc.compute_root().store_in(MemoryType::Stack);
           Stage step = acc.update();
           step.reorder(vec, other, r.x);
           if (extent <= lanes())
             step.vectorize(vec);
           else
             step.vectorize(vec, lanes(), TailStrategy::GuardWithIf);
           if (others <= 4)
             step.unroll(other);
           k.note = "accumulated once per call as outer products over the reduction of " +
                    std::to_string(depth) + ", " + std::to_string(std::min(extent, lanes())) +
                    " lanes over " + (overN ? "n" : "m");
           return;
         }
         // Narrow outputs (a Linear layer's 10 classes) leave no vector over n: vectorize the
         // long reduction instead, 16 partial sums reduced at the end.
         if (n < lanes() && depth >= 2 * lanes()) {
           k.out(k.outVars()) = 0.0f;
           k.out(k.outVars()) += k.at(0, {idx[0], r.x}) * k.at(1, {r.x, idx[1]});
           RVar ko("ko"), ki("ki");
           k.out.update().atomic().split(r.x, ko, ki, lanes(), TailStrategy::GuardWithIf).vectorize(ki);
           k.selfScheduledUpdate = true;
           k.note = "narrow output: the reduction over " + std::to_string(depth) + " vectorized, " +
                    std::to_string(lanes()) + " lanes";
           return;
         }
         if (n >= lanes() && (m >= 4 || k.inOps[1] != Primitive::transpose)) {
           tiledMatmul(k);
           return;
         }
         // Otherwise a pure definition: vectors over n cover a short row by shifting inwards
         // (an update could only mask its tail, which is slow).
         k.define(sum(k.at(0, {idx[0], r.x}) * k.at(1, {r.x, idx[1]})));
       }},
  };
  return table;
}

// Default schedule of a primitive computed at the root of its kernel: vectorize the innermost
// dimension when it is wide enough, and spread large 4-d (NCHW) ones over the batch.
std::string schedule(Kernel &k) {
  if (k.vars.empty())
    return "scalar";
  std::string note;
  int inner = int(k.spec.output.shape.back());
  int width = inner >= lanes() ? lanes() : inner >= lanes() / 2 ? lanes() / 2 : lanes() / 4;
  // A scatter (max_pool2d_grad of overlapping windows) updates positions computed from data:
  // its update has no pure innermost dimension to vectorize.
  bool scatter = k.spec.op == Primitive::max_pool2d_grad && k.out.has_update_definition();
  if (inner >= lanes() / 4 && k.vectorizeOutput) {
    // Masked tails are slow on this target: a pure definition covers the last vector of each
    // row by shifting it inwards (recomputing a few points) instead, except in a kernel that
    // updates in place, where computing a point twice would apply the update twice.
    k.out.vectorize(k.vars[0], width, k.computeOnce ? TailStrategy::GuardWithIf : TailStrategy::ShiftInwards);
    if (k.out.has_update_definition() && !scatter && !k.selfScheduledUpdate)
      k.out.update(0).vectorize(k.vars[0], width, TailStrategy::GuardWithIf);
    note = std::to_string(width) + " lanes over the innermost " + std::to_string(inner);
  }
  // Thread wake-up costs 70-230 us here: only kernels of a few MFLOP are worth splitting.
  // (a pooling's work is what it reads: four times its output)
  bool large = k.spec.output.shape.size() == 4 &&
               std::max(k.spec.output.elements(), k.spec.inputs.empty() ? 0 : k.spec.inputs[0].elements()) >= (1 << 17);
  if (scatter && inner >= lanes() / 4 && !large)
    k.out.update(0).unscheduled();  // deliberately serial: it only adds to a few positions
  if (large) {
    Var batch = k.vars.back();
    k.out.parallel(batch);
    if (k.out.has_update_definition())
      k.out.update(0).parallel(batch);
    note += std::string(note.empty() ? "" : ", ") + "parallel over batch";
  }
  // A reduction's work is what it reads: a bias gradient reads a whole activation gradient
  // into a few outputs, and splits those.
  bool bigReduction = k.spec.family == Family::reduction && k.spec.inputs[0].elements() >= (1 << 17) &&
                      k.spec.output.elements() >= 2 && (k.vars.size() >= 2 || !k.vectorizeOutput);
  if (bigReduction && !large) {
    k.out.parallel(k.vars.back());
    note += std::string(note.empty() ? "" : ", ") + "parallel over its outermost output dimension";
  }
  if (!k.note.empty())
    note = k.note + (note.empty() ? "" : "; " + note);
  return note.empty() ? "serial" : note;
}

// A kernel's pipeline with every buffer's extents and strides fixed, so Halide specializes on
// the static shapes.
struct Built {
  std::vector<ImageParam> params;
  std::vector<Func> outputs;
  std::vector<std::string> notes;  // the schedule, node by node, for the dump
};

// Buffers are dense, row-major and 64-byte aligned: the arena guarantees it, and runKernel
// copies what is not, because Halide 14 emits aligned stores into output buffers. The
// alignment is deliberately not declared on the parameters: with it, Halide 14 took a vector
// shifted inwards at the end of a row for an aligned one and emitted an aligned load at an
// unaligned address (a crash in a small matmul).
constexpr int kAlignment = 64;

void fixLayout(OutputImageParam p, const std::vector<int64_t> &shape) {
  int stride = 1;
  for (int d = 0; d < int(shape.size()); ++d) {
    int extent = int(shape[shape.size() - 1 - d]);
    p.dim(d).set_bounds(0, extent).set_stride(stride);
    stride *= extent;
  }
}

// Each primitive is a Func; those that are not outputs are inlined into their readers, except
// what must be computed once: contractions' tiles (at their epilogue's loop nest), functions
// with update definitions, and what a matmul reads (it reads every element many times).
Built build(const FusedKernel &fk) {
  Built b;
  for (size_t i = 0; i < fk.inputs.size(); ++i) {
    b.params.emplace_back(halideType(fk.inputs[i].dtype), int(fk.inputs[i].shape.size()),
                          fk.name + "_in" + std::to_string(i));
    fixLayout(b.params.back(), fk.inputs[i].shape);
  }
  std::vector<Kernel> nodes;
  nodes.reserve(fk.nodes.size());
  std::vector<std::vector<int>> readers(fk.nodes.size());
  for (size_t i = 0; i < fk.nodes.size(); ++i) {
    const KernelSpec &spec = fk.nodes[i].op;
    auto entry = algorithms().find(spec.op);
    if (entry == algorithms().end())
      throw CompileError("no Halide lowering for kiln." + std::string(mnemonic(spec.op)));
    std::string name =
        fk.nodes.size() == 1 ? fk.name : fk.name + "_" + std::to_string(i) + "_" + std::string(mnemonic(spec.op));
    nodes.push_back(Kernel{spec, {}, {}, {}, Func(name)});
    Kernel &k = nodes.back();
    k.computeOnce = fk.updatesInPlace;
    for (int o : fk.nodes[i].operands) {
      k.in.push_back(o < 0 ? Func(b.params[-o - 1]) : nodes[o].out);
      k.inOps.push_back(o < 0 ? std::nullopt : std::optional<Primitive>(fk.nodes[o].op.op));
      if (o >= 0)
        readers[o].push_back(int(i));
    }
    for (size_t d = 0; d < spec.output.shape.size(); ++d)
      k.vars.emplace_back("d" + std::to_string(spec.output.shape.size() - 1 - d));
    entry->second(k);
  }
  std::vector<bool> isOutput(nodes.size(), false), tiled(nodes.size(), false);
  std::vector<std::string> inlined;
  for (int o : fk.outputs)
    isOutput[o] = true;
  for (size_t i = 0; i < nodes.size(); ++i) {
    Kernel &k = nodes[i];
    if (k.tile) {
      // Walk the single-reader epilogue chain to the output that carries the loop nest.
      size_t root = i;
      while (!isOutput[root] && readers[root].size() == 1)
        root = readers[root].front();
      if (!isOutput[root]) {
        root = i;
        k.out.compute_root();
      }
      std::string note = k.tile(nodes[root].out, nodes[root].vars);
      std::string where = root != i ? " (in " + std::string(mnemonic(nodes[root].spec.op)) + "'s loop nest)"
                          : isOutput[i] ? "" : " (computed once per call, then its readers)";
      b.notes.push_back(std::string(mnemonic(k.spec.op)) + where + ": " + note);
      tiled[root] = true;
      continue;
    }
    if (isOutput[i])
      continue;
    // A matmul reads each element many times: what it reads is computed once, except index
    // remaps and constants, which cost nothing to recompute (a transpose keeps the reads
    // dense); a reshape's remap divides, and one_hot compares.
    bool free = k.spec.family == Family::constant ||
                (k.spec.family == Family::indexOnly && k.spec.op != Primitive::reshape && k.spec.op != Primitive::one_hot);
    bool readByMatmul = !free && std::any_of(readers[i].begin(), readers[i].end(),
                                             [&](int r) { return nodes[r].spec.op == Primitive::matmul; });
    // Scalars are computed once per call, not per element of whatever reads them; so are
    // reductions (their accumulator is scheduled against their own Func).
    bool scalar = k.spec.output.shape.empty();
    bool reduction = k.spec.family == Family::reduction;
    if (k.out.has_update_definition() || readByMatmul || scalar || reduction) {
      k.out.compute_root();
      b.notes.push_back(std::string(mnemonic(k.spec.op)) + ": computed once per call (" +
                        (scalar ? "a scalar" : readByMatmul ? "a matmul reads it repeatedly" : "a reduction or update") +
                        "), " + schedule(k));
    } else {
      inlined.push_back(std::string(mnemonic(k.spec.op)));
      if (!k.note.empty())  // its value is inlined, but it computed a part of itself once
        b.notes.push_back(std::string(mnemonic(k.spec.op)) + ": " + k.note);
    }
  }
  for (int o : fk.outputs) {
    fixLayout(nodes[o].out.output_buffer(), nodes[o].spec.output.shape);
    std::string note = tiled[o] ? "in the tile above" : schedule(nodes[o]);
    b.notes.push_back("output " + std::string(mnemonic(nodes[o].spec.op)) + ": " + note);
    b.outputs.push_back(nodes[o].out);
  }
  if (!inlined.empty()) {
    std::string list;
    for (const std::string &op : inlined)
      list += (list.empty() ? "" : ", ") + op;
    b.notes.push_back("inlined into their readers: " + list);
  }
  return b;
}

std::vector<Argument> arguments(const Built &b) {
  std::vector<Argument> args;
  for (const ImageParam &p : b.params)
    args.push_back(p);
  return args;
}

// The host CPU as Halide sees it, less the Sapphire Rapids feature: Halide 14 infers it from
// AVX512-BF16 and VNNI, which AMD Zen 4 also has, and then emits AVX-VNNI instructions that
// Zen 4 lacks (SIGILL).
Target hostTarget() {
  return get_host_target().without_feature(Target::AVX512_SapphireRapids);
}

} // namespace

std::string compileKernels(const std::vector<FusedKernel> &kernels, const KernelOutputs &outs) {
  try {
    // The host module passes descriptors of exactly the declared shapes, so the per-call checks
    // of every buffer's shape (a microsecond per small kernel) are left out.
    Target target = hostTarget().with_feature(Target::NoRuntime).with_feature(Target::NoAsserts);
    std::vector<Module> modules;
    for (const FusedKernel &kernel : kernels) {
      Built b = build(kernel);
      modules.push_back(Pipeline(b.outputs).compile_to_module(arguments(b), kernel.name, target));
    }
    if (modules.empty())  // an object with no kernels is still a valid object
      modules.push_back(Module("kiln_kernels", target));
    Module all = link_modules("kiln_kernels", modules);
    std::map<OutputFileType, std::string> files;
    if (!outs.object.empty())
      files[OutputFileType::object] = outs.object;
    if (!outs.stmt.empty())
      files[OutputFileType::stmt] = outs.stmt;
    if (!outs.assembly.empty())
      files[OutputFileType::assembly] = outs.assembly;
    all.compile(files);
    if (!outs.runtime.empty())
      compile_standalone_runtime(outs.runtime, hostTarget());
    return "";
  } catch (const Halide::Error &e) {
    return std::string("Halide: ") + e.what();
  }
}

namespace {

// A JIT-compiled kernel and the parameters its calls bind.
struct Jitted {
  FusedKernel kernel;
  Built built;
  std::unique_ptr<Pipeline> pipeline;

  std::string run(const std::vector<const void *> &inputs, const std::vector<void *> &outputs) {
    try {
      // Callers' memory need not be aligned: such buffers go through aligned copies.
      std::vector<std::unique_ptr<uint8_t[]>> copies;
      auto aligned = [&](const TensorDesc &t, const void *data) -> void * {
        if (reinterpret_cast<uintptr_t>(data) % kAlignment == 0)
          return const_cast<void *>(data);
        copies.emplace_back(new uint8_t[t.bytes() + kAlignment]);
        auto p = (reinterpret_cast<uintptr_t>(copies.back().get()) + kAlignment - 1) / kAlignment * kAlignment;
        std::memcpy(reinterpret_cast<void *>(p), data, t.bytes());
        return reinterpret_cast<void *>(p);
      };
      auto wrap = [](const TensorDesc &t, void *data) {
        std::vector<int> extents(t.shape.rbegin(), t.shape.rend());
        return Buffer<>(halideType(t.dtype), data, extents);
      };
      for (size_t i = 0; i < inputs.size(); ++i)
        built.params[i].set(wrap(kernel.inputs[i], aligned(kernel.inputs[i], inputs[i])));
      std::vector<Buffer<>> outs;
      std::vector<void *> hosts;
      for (size_t i = 0; i < outputs.size(); ++i) {
        hosts.push_back(aligned(kernel.output(int(i)), outputs[i]));
        outs.push_back(wrap(kernel.output(int(i)), hosts.back()));
      }
      pipeline->realize(Realization(outs));
      for (size_t i = 0; i < outputs.size(); ++i)
        if (hosts[i] != outputs[i])
          std::memcpy(outputs[i], hosts[i], kernel.output(int(i)).bytes());
      return "";
    } catch (const Halide::Error &e) {
      return std::string("Halide: ") + e.what();
    }
  }
};

std::unique_ptr<Jitted> jit(const FusedKernel &kernel) {
  auto j = std::make_unique<Jitted>();
  j->kernel = kernel;
  j->built = build(j->kernel);
  j->pipeline = std::make_unique<Pipeline>(j->built.outputs);
  j->pipeline->compile_jit(hostTarget().with_feature(Target::JIT));
  return j;
}

} // namespace

std::string runKernel(const FusedKernel &kernel, const std::vector<const void *> &inputs,
                      const std::vector<void *> &outputs) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Jitted>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  try {
    auto &entry = cache[kernel.key()];
    if (!entry)
      entry = jit(kernel);
    return entry->run(inputs, outputs);
  } catch (const Halide::Error &e) {
    return std::string("Halide: ") + e.what();
  }
}

int hostVectorLanes() { return lanes(); }

std::vector<std::string> describeSchedule(const FusedKernel &kernel) {
  try {
    return build(kernel).notes;
  } catch (const Halide::Error &e) {
    return {std::string("Halide: ") + e.what()};
  }
}

std::string runKernel(const KernelSpec &spec, const std::vector<const void *> &inputs,
                      void *output) {
  return runKernel(FusedKernel::of(spec), inputs, {output});
}

} // namespace kiln
