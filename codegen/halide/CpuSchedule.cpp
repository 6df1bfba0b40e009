// THE SCHEDULE for the host CPU: which family each primitive takes (chooseSchedule, the stage
// whose choice and reason the dump prints) and each family's schedule, a function of the
// kernel's shapes and the target's vector width; then where each primitive of a fused kernel
// is computed (scheduleKernel). Nothing here defines what a primitive computes.
#include "codegen/halide/Kernel.h"

#include <algorithm>
#include <optional>

namespace kiln::lowering {

using namespace Halide;

namespace {

// Vectors over output channels or over output columns: whichever fills more of its vector
// lanes. Channel vectors are rounded up to whole vectors (padded with zeros); column vectors
// may be half or quarter vectors, and cover an output row by overlapping (ShiftInwards),
// recomputing a few columns, or (the filter gradient's sum along dy's rows) by zeros past
// the row's end.
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

bool rowsWin(int channels, int width) {
  return rowVectorWidth(width) > 0 && rowLanesUsed(width) > channelLanesUsed(channels);
}

std::string percent(double share) { return std::to_string(int(share * 100 + 0.5)) + "%"; }

// Why a convolution runs its vectors along rows or along channels, for the dump.
std::string rowReason(int channels, int width) {
  return std::to_string(channels) + " channels fill " + percent(channelLanesUsed(channels)) + " of " +
         std::to_string(lanes()) + "-lane vectors, rows of " + std::to_string(width) + " fill " +
         percent(rowLanesUsed(width));
}

// Whether a reduction's innermost input dimensions are reduced, and how many contiguous
// elements that makes (a bias gradient's h and w run as one).
int64_t contiguousReduced(const KernelSpec &spec) {
  const auto &shape = spec.inputs[0].shape;
  int rank = int(shape.size());
  auto reduced = [&](int d) { return std::find(spec.dims.begin(), spec.dims.end(), d) != spec.dims.end(); };
  if (rank == 0 || !reduced(rank - 1))
    return 0;
  return rank > 1 && reduced(rank - 2) ? shape[rank - 1] * shape[rank - 2] : shape[rank - 1];
}

Choice chooseMatmul(const KernelSpec &spec, const std::vector<std::optional<Primitive>> &inOps) {
  int m = int(spec.output.shape[0]), n = int(spec.output.shape[1]), depth = int(spec.inputs[0].shape[1]);
  bool lhsT = inOps[0] == Primitive::transpose, rhsT = inOps[1] == Primitive::transpose;
  // A weight gradient (x^T dy) reads its left operand transposed: along the reduction it is
  // strided, so no vector runs over it. Outer products of rows instead.
  if (n < lanes() && lhsT && m * n <= 4 * lanes())
    return {ScheduleFamily::matmulOuterProducts, "narrow x^T dy, its lhs strided along the reduction"};
  if (n < lanes() && depth >= 2 * lanes()) {
    Choice c{ScheduleFamily::matmulNarrow,
             std::to_string(n) + " columns fill no vector, the reduction of " + std::to_string(depth) + " does"};
    c.packRhs = !rhsT;
    return c;
  }
  if (n >= lanes() && (m >= 4 || !rhsT)) {
    Choice c{ScheduleFamily::matmulTile, std::to_string(n) + " columns fill vectors"};
    c.packRhs = rhsT;
    return c;
  }
  return {};
}

// A pooling gradient gathers, each input position summing the windows that reach it, unless a
// max-pool gradient has more than 9 windows per position or windows of more than 25 taps: then
// each window adds its adjoint to its first maximum (in order, one scalar step each), which
// finds each first maximum once, where the gather found those of windows outside the image too. An average's gradient
// of many windows sums along rows, then columns, where that reads half as much.
Choice choosePoolGrad(const KernelSpec &spec) {
  Window g = windowOf(spec, spec.window);
  const auto &dy = spec.inputs.back().shape;
  int across = windowsReaching(g.kw, g.sw, dy[3]), down = windowsReaching(g.kh, g.sh, dy[2]);
  std::string reach = std::to_string(across * down) + " windows reach each position";
  if (spec.op == Primitive::avg_pool2d_grad) {
    Choice c{ScheduleFamily::poolGradGather, reach};
    c.separable = across * down >= 2 * (across + down);
    return c;
  }
  if (across * down <= 9 && g.kw * g.kh <= 25) {
    Choice c{ScheduleFamily::poolGradGather, reach};
    c.disjoint = g.sw >= g.kw && g.sh >= g.kh && g.kw * g.kh <= 16;
    return c;
  }
  Choice c{ScheduleFamily::poolGradScatter, reach};
  c.separable = g.kw * g.kh >= 2 * (g.kw + g.kh);
  return c;
}

} // namespace

Choice chooseSchedule(const KernelSpec &spec, const std::vector<std::optional<Primitive>> &inOps) {
  switch (spec.op) {
  case Primitive::reduce_sum:
  case Primitive::reduce_mean:
  case Primitive::reduce_max:
    if (contiguousReduced(spec) >= 8)
      return {ScheduleFamily::reductionVectorized, ""};
    return {};
  case Primitive::matmul: return chooseMatmul(spec, inOps);
  case Primitive::conv2d: {
    int channels = int(spec.output.shape[1]), width = int(spec.output.shape[3]);
    // One input channel: a tile over output channels would load a broadcast input value per
    // multiply-add, so rows win whenever they fill a vector at all.
    bool oneChannel = spec.inputs[1].shape[1] == 1 && rowVectorWidth(width) > 0;
    if (oneChannel || rowsWin(channels, width))
      return {ScheduleFamily::convRows, oneChannel ? "one input channel" : rowReason(channels, width)};
    return {ScheduleFamily::convChannels, rowReason(channels, width)};
  }
  case Primitive::conv2d_input_grad: {
    int channels = int(spec.output.shape[1]), width = int(spec.output.shape[3]);
    // Strided, the columns of each phase of the stride make the row vectors, where channels
    // fill less than half a vector (with more, or dilated, the channel tile ran faster).
    int phases = spec.stride.empty() ? 1 : int(spec.stride[1]);
    int phaseWidth = (width + phases - 1) / phases;
    bool dilated = !spec.dilation.empty() && (spec.dilation[0] != 1 || spec.dilation[1] != 1);
    bool rowsByPhase = phases == 1 || (phases <= 4 && 2 * channels < lanes() && !dilated);
    if (rowsByPhase && rowsWin(channels, phaseWidth))
      return {ScheduleFamily::convRows, rowReason(channels, phaseWidth)};
    return {ScheduleFamily::convChannels, rowReason(channels, width)};
  }
  case Primitive::conv2d_filter_grad: {
    const auto &dy = spec.inputs[1].shape; // N, O, OH, OW
    int channels = int(dy[1]), width = int(dy[3]);
    bool unitStride = spec.stride.empty() || (spec.stride[0] == 1 && spec.stride[1] == 1);
    if (unitStride && rowsWin(channels, width)) {
      Choice c{ScheduleFamily::filterGradRows, rowReason(channels, width)};
      c.group = rowVectorWidth(width);
      return c;
    }
    Choice c{ScheduleFamily::filterGradChannels, rowReason(channels, width)};
    const auto &taps = spec.output.shape; // O, C, KH, KW
    c.wholeFilter = taps[2] > 1 && (channels + lanes() - 1) / lanes() * taps[2] * taps[3] <= 24;
    return c;
  }
  case Primitive::max_pool2d:
  case Primitive::avg_pool2d: {
    // A pass along rows then one along columns reads about kw sh + kh inputs per output instead
    // of kh kw, but stores the rows' results: worth it where that halves the reads (a 3x3
    // window at stride 1 ran no faster in two passes).
    Window g = windowOf(spec, spec.window);
    if (g.kh * g.kw >= 2 * (g.kw * g.sh + g.kh))
      return {ScheduleFamily::poolSeparable, std::to_string(g.kh) + "x" + std::to_string(g.kw) +
                                                 " windows overlapping down the columns at stride " +
                                                 std::to_string(g.sh)};
    return {};
  }
  case Primitive::max_pool2d_grad:
  case Primitive::avg_pool2d_grad: return choosePoolGrad(spec);
  default: return {};
  }
}

namespace {

// A padded copy of a tensor `width` wide, computed where the caller puts it: padding and
// copied rows as vectors.
void vectorizePadded(Func f, const RDom &rows, int64_t width) {
  f.vectorize(f.args()[0], width >= lanes() ? lanes() : lanes() / 2, TailStrategy::RoundUp);
  if (width <= lanes())
    f.update().vectorize(rows.x);
  else
    f.update().vectorize(rows.x, lanes(), TailStrategy::GuardWithIf);
}

void vectorizePadded(const Kernel &k) {
  vectorizePadded(k.stages.input, k.stages.inputRows, k.spec.inputs[0].shape[3]);
}

// An accumulator's register tile with vectors over `channel` (padded to whole vectors: the
// operands read zeros there, see computeWholeVectors; a masked vector ran as scalars) and
// `unrolled` (and `alsoUnrolled`, where defined) unrolled, the reduction r around it.
void channelVectors(Func acc, Var channel, Var unrolled, RDom r, std::optional<Var> alsoUnrolled = std::nullopt) {
  Var ku("ku"), kv("kv");
  acc.vectorize(channel, lanes(), TailStrategy::RoundUp).unroll(unrolled);
  Stage step = acc.update();
  if (alsoUnrolled)
    step.reorder(channel, unrolled, *alsoUnrolled, r.x, r.y, r.z).unroll(*alsoUnrolled);
  else
    step.reorder(channel, unrolled, r.x, r.y, r.z);
  step.split(channel, ku, kv, lanes(), TailStrategy::RoundUp).vectorize(kv).unroll(ku).unroll(unrolled);
}

// The operand a channelVectors tile reads, computed over whole vectors of its first dimension
// (the channels): the lanes past the last channel then read the operand's zeros. Halide
// computes a producer only over the channels the output needs, so those lanes otherwise read
// stale memory whose bit patterns (often subnormal) stall some CPUs on every multiply-add.
void computeWholeVectors(Func operand, int channels) {
  operand.compute_root().bound(operand.args()[0], 0, (channels + lanes() - 1) / lanes() * lanes());
}

// convChannels: out(w, h, k, n) = sum_r in(w, h, r, n) * weight(k, r) as acc(k, w, h, n) with
// k (output channels) innermost: a tile of kBlock channels (vectors) by wBlock columns stays in
// registers while the reduction over input channels and taps runs around it; weights are
// re-laid out once with k innermost so that their loads are dense vectors; the padded input is
// built once per image; parallel over the batch.
std::string convChannels(Kernel &k, Func root, const std::vector<Var> &vars) {
  int channels = int(k.spec.output.shape[1]), width = int(k.spec.output.shape[3]);
  Var w = vars[0], h = vars[1], ch = vars[2], n = vars[3];
  Var wo("wo"), wi("wi"), ko("ko"), ki("ki");
  // Two vectors of channels unless that pads more channels than one vector does.
  int padded1 = (channels + lanes() - 1) / lanes() * lanes();
  int padded2 = (channels + 2 * lanes() - 1) / (2 * lanes()) * 2 * lanes();
  int kBlock = channels >= 2 * lanes() && padded2 <= padded1 ? 2 * lanes() : lanes();
  int wBlock = width % 7 == 0 ? 7 : std::min(width, 8);
  // A strided input gradient reads the filter columns of each column's phase (w + pw) mod sw:
  // tiles of whole strides make each unrolled column's phase a constant.
  const int phases = k.spec.op == Primitive::conv2d_input_grad && !k.spec.stride.empty() ? int(k.spec.stride[1]) : 1;
  if (phases > 1)
    wBlock = std::min(width, std::max(1, 8 / phases) * phases);
  root.split(ch, ko, ki, kBlock, TailStrategy::GuardWithIf)
      .split(w, wo, wi, wBlock, TailStrategy::GuardWithIf)
      .reorder(wi, ki, wo, ko, h, n)
      // The tile is stored channel by channel, its columns as one (masked) vector: the
      // scalar store loop took a tenth of the convolution.
      .vectorize(wi, 8, TailStrategy::GuardWithIf)
      .parallel(n);
  Func acc = k.stages.acc;
  acc.compute_at(root, wo).store_in(MemoryType::Stack);
  channelVectors(acc, acc.args()[0], acc.args()[1], k.stages.r);
  computeWholeVectors(k.stages.operand, channels);
  k.stages.input.compute_at(root, n);
  vectorizePadded(k);
  return "register tile " + std::to_string(kBlock) + " channels x " + std::to_string(wBlock) + " columns (" +
         std::to_string(lanes()) +
         "-lane vectors), stored a channel's columns per vector, "
         "filter rows in the padding skipped, zero-padded input per image, parallel over batch";
}

// convRows: acc(w, h, ch, n) vectorized along output rows: per reduction step, one row vector
// of the input per output row of the tile and one broadcast weight per output channel feed
// rows x channels multiply-adds, all accumulators in registers.
std::string convRows(Kernel &k, Func root, const std::vector<Var> &vars) {
  const auto &out = k.spec.output.shape; // N, CH, H, W
  // A strided input gradient's columns by phase: each vector holds columns of one phase.
  const int phases = k.spec.op == Primitive::conv2d_input_grad && !k.spec.stride.empty() ? int(k.spec.stride[1]) : 1;
  int width = int(out[3]), height = int(out[2]), channels = int(out[1]);
  int vector = rowVectorWidth((width + phases - 1) / phases);
  int chBlock = std::min(channels, 8);
  int rows = std::min(height, std::max(1, 16 / (chBlock * phases)));
  Var w = vars[0], h = vars[1], ch = vars[2], n = vars[3];
  Var wo("wo"), wi("wi"), wp("wp"), qi("qi"), ho("ho"), hi("hi"), co("co"), ci("ci");
  root.split(w, wp, qi, phases, TailStrategy::GuardWithIf)
      .split(wp, wo, wi, vector, TailStrategy::ShiftInwards)
      .split(h, ho, hi, rows, TailStrategy::ShiftInwards)
      .split(ch, co, ci, chBlock, TailStrategy::ShiftInwards)
      .reorder(wi, qi, hi, ci, wo, ho, co, n)
      .vectorize(wi)
      .unroll(qi)
      .unroll(hi)
      .unroll(ci)
      .parallel(n);
  Func acc = k.stages.acc;
  RDom r = k.stages.r;
  Var aw = acc.args()[0], ah = acc.args()[1], ac = acc.args()[2], awp("awp"), aqi("aqi");
  acc.compute_at(root, wo).store_in(MemoryType::Stack);
  if (phases > 1) // the last tile's guarded phases would otherwise make its width vary
    acc.bound_extent(aw, vector * phases);
  acc.vectorize(aw).unroll(ah).unroll(ac);
  Stage step = acc.update();
  step.reorder(aw, ah, ac, r.x, r.y, r.z);
  if (phases > 1)
    step.split(aw, awp, aqi, phases, TailStrategy::RoundUp).reorder(awp, aqi).vectorize(awp).unroll(aqi);
  else
    step.vectorize(aw);
  step.unroll(ah).unroll(ac);
  k.stages.input.compute_at(root, n);
  vectorizePadded(k);
  return std::to_string(vector) + "-column row vectors x " + (phases > 1 ? std::to_string(phases) + " phases x " : "") +
         std::to_string(rows) + " rows x " + std::to_string(chBlock) + " channels in registers, parallel over batch";
}

// filterGradChannels: output-channel vectors x the taps of one filter row in registers, the
// whole (n, i, j) reduction around that tile; parallel over input channels and filter rows.
std::string filterGradChannels(Kernel &k, Func root, const std::vector<Var> &vars) {
  const auto &dyShape = k.spec.inputs[1].shape; // N, O, OH, OW
  int rowWidth = int(dyShape[3]), channelsOut = int(dyShape[1]);
  Func acc = k.stages.acc, dyT = k.stages.operand, padded = k.stages.input;
  Var q = vars[0], p = vars[1], c = vars[2], o = vars[3], pc("pc");
  if (k.choice.wholeFilter) {
    // Every tap in the tile, parallel over input channels: a filter row's few taps left too
    // few independent accumulators to cover the multiply-add latency.
    root.reorder(q, p, o, c).parallel(c);
    acc.compute_at(root, c).store_in(MemoryType::Stack).unroll(acc.args()[2]);
  } else {
    // Parallel over (input channel, filter row): a one-channel input still splits in rows.
    root.reorder(q, o, p, c).fuse(p, c, pc).parallel(pc);
    acc.compute_at(root, pc).store_in(MemoryType::Stack);
  }
  channelVectors(acc, acc.args()[0], acc.args()[1], k.stages.r,
                 k.choice.wholeFilter ? std::optional<Var>(acc.args()[2]) : std::nullopt);
  // The transpose reads rows of dy as vectors and writes them interleaved, one output
  // channel per unrolled store: Halide merges those strided stores into dense shuffled ones
  // (vectorizing over channels instead gathered every element).
  Var to = dyT.args()[0], tx = dyT.args()[1], txo("txo"), txi("txi");
  // As many columns per vector as keep the unrolled channels within 16 vectors of stores.
  int width = rowWidth >= lanes() ? lanes() : lanes() / 2;
  while (width > 4 && channelsOut * width > 16 * lanes())
    width /= 2;
  std::string transpose = "dy transposed by interleaving stores";
  computeWholeVectors(dyT, channelsOut);
  if (channelsOut * width <= 16 * lanes() && rowWidth >= width) {
    dyT.split(tx, txo, txi, width, TailStrategy::ShiftInwards)
        .reorder(txi, to, txo)
        .vectorize(txi)
        .unroll(to)
        .parallel(dyT.args()[3]);
  } else {
    dyT.vectorize(to, lanes(), TailStrategy::GuardWithIf).parallel(dyT.args()[3]);
    transpose = "dy transposed by gathers";
  }
  // Every padded position a window can read, computed once.
  padded.compute_root().parallel(padded.args()[3]);
  padded.update().parallel(padded.args()[3]);
  vectorizePadded(k);
  if (k.choice.wholeFilter)
    return "register tile of " + std::to_string(lanes()) + "-lane output-channel vectors x every filter tap, " +
           transpose + ", parallel over input channels";
  return "register tile of " + std::to_string(lanes()) +
         "-lane output-channel vectors x one filter row, "
         "image rows in the padding skipped, " +
         transpose + ", parallel over input channels and filter rows";
}

// filterGradRows: one accumulator vector per (filter column, output channel) of the tile, its
// lanes the column groups of the algorithm's sum.
std::string filterGradRows(Kernel &k, Func root, const std::vector<Var> &vars) {
  int kw = int(k.spec.output.shape[3]), channels = int(k.spec.inputs[1].shape[1]);
  int chBlock = std::max(1, std::min(channels, 24 / kw));
  int group = k.choice.group, groups = (int(k.spec.inputs[1].shape[3]) + group - 1) / group;
  Func part = k.stages.acc, dyRows = k.stages.aux, x = k.stages.input;
  RDom r = k.stages.r;
  Var q = vars[0], p = vars[1], c = vars[2], o = vars[3], oo("oo"), oi("oi"), pc("pc");
  root.split(o, oo, oi, chBlock, TailStrategy::ShiftInwards).reorder(q, oi, oo, p, c).fuse(p, c, pc).parallel(pc);
  Var al = part.args()[0], aq = part.args()[1], ao = part.args()[4];
  part.compute_at(root, oo).store_in(MemoryType::Stack).vectorize(al).unroll(aq).unroll(ao);
  part.update().reorder(al, aq, ao, r.x, r.y, r.z).vectorize(al).unroll(aq).unroll(ao);
  Var di = dyRows.args()[0];
  dyRows.compute_root().vectorize(di, group, TailStrategy::RoundUp).parallel(dyRows.args()[3]);
  dyRows.bound(di, 0, groups * group);
  x.compute_root().parallel(x.args()[3]);
  x.update().parallel(x.args()[3]);
  vectorizePadded(k);
  return std::to_string(group) + "-lane vectors along dy's rows x " + std::to_string(kw) + " filter columns x " +
         std::to_string(chBlock) +
         " output channels in registers, lanes added at the end, "
         "parallel over input channels and filter rows";
}

// matmulTile: a register tile of up to 8 rows x 2 vectors of columns accumulates over the
// whole reduction, each step one vector load of rhs per column vector and one broadcast of lhs
// per row; a transposed rhs is first copied into dense rows (its vectors along n would
// otherwise be gathers).
std::string matmulTile(Kernel &k, Func root, const std::vector<Var> &vars) {
  int m = int(k.spec.output.shape[0]), n = int(k.spec.output.shape[1]), depth = int(k.spec.inputs[0].shape[1]);
  int vectors = n >= 2 * lanes() ? 2 : 1;
  int mBlock = std::min(m, lanes() >= 16 ? 8 : 4);
  // Thread wake-up costs up to 230 us here: only products of some milliseconds are split.
  bool parallel = int64_t(m) * n * depth >= (int64_t(1) << 22);
  TailStrategy tail = k.computeOnce ? TailStrategy::GuardWithIf : TailStrategy::ShiftInwards;
  Var nv = vars[0], mv = vars[1], no("no"), ni("ni"), mo("mo"), mi("mi"), nu("nu"), nl("nl");
  root.split(nv, no, ni, vectors * lanes(), tail)
      .split(mv, mo, mi, mBlock, tail)
      .split(ni, nu, nl, lanes())
      .reorder(nl, nu, mi, mo, no)
      .vectorize(nl)
      .unroll(nu)
      .unroll(mi);
  // Over column blocks when there are several (each task then reads one panel of rhs), else
  // over row blocks.
  int columnBlocks = (n + vectors * lanes() - 1) / (vectors * lanes());
  bool overColumns = columnBlocks >= 4;
  if (parallel)
    root.parallel(overColumns ? no : mo);
  Func acc = k.stages.acc;
  RDom r = k.stages.r;
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
  if (k.choice.packRhs) {
    // Square blocks: the gathered lines stay in L1 for the block's next rows.
    Func rhs = k.stages.operand;
    Var pn = rhs.args()[0], pk = rhs.args()[1], pno("pno"), pni("pni"), pko("pko"), pki("pki");
    int block = std::min(std::min(n, depth), lanes());
    rhs.compute_root()
        .tile(pn, pk, pno, pko, pni, pki, block, block, TailStrategy::GuardWithIf)
        .vectorize(pni)
        .unroll(pki);
    if (parallel)
      rhs.parallel(pko);
    note += ", the transposed rhs copied into dense rows first";
  }
  return note + (!parallel ? "" : overColumns ? ", parallel over column blocks" : ", parallel over row blocks");
}

// poolGradGather: a row's positions in vectors; with a stride, each phase of it unrolled (its
// position in the window becomes a constant and its windows' loads dense). The first maxima
// of a max-pool gradient are kept for the rows of windows the current row reads, each row of
// them computed once (a sliding window down the image).
// Disjoint windows: one window at a time, its positions unrolled (their window index and
// offset become constants), windows of a row in vectors, the window maxima computed per row.
std::string disjointWindowsGather(Kernel &k, Func root, const std::vector<Var> &vars) {
  Window g = windowOf(k.spec, k.spec.window);
  int ow = int(k.spec.inputs[1].shape[3]);
  Func best = k.stages.aux;
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
    best.compute_at(root, ho).vectorize(best.args()[0], width, TailStrategy::ShiftInwards);
  } else {
    best.compute_at(root, ho);
  }
  return "disjoint windows, one at a time (positions unrolled), " + std::to_string(width) +
         " windows per vector, window maxima per row, parallel over batch";
}

std::string poolGradGather(Kernel &k, Func root, const std::vector<Var> &vars) {
  if (k.choice.disjoint)
    return disjointWindowsGather(k, root, vars);
  Window g = windowOf(k.spec, k.spec.window);
  int width = int(k.spec.output.shape[3]), windows = int(k.spec.inputs.back().shape[3]);
  Var w = vars[0], h = vars[1], c = vars[2], n = vars[3], wo("wo"), qi("qi");
  std::string note = "gather";
  Var vectorized = w;
  if (g.sw > 1 && g.sw <= 16 && windows > 1) {
    root.split(w, wo, qi, g.sw, TailStrategy::GuardWithIf).reorder(qi, wo, h, c, n).unroll(qi);
    vectorized = wo;
    width = (width + g.sw - 1) / g.sw;
    note += ", the " + std::to_string(g.sw) + " phases of the stride unrolled";
  }
  // Masked tails are slow here: a row shorter than the vector is covered by overlapping
  // vectors instead (ShiftInwards recomputes a few positions).
  int vector = rowVectorWidth(width);
  if (vector > 0) {
    root.vectorize(vectorized, vector, TailStrategy::ShiftInwards);
    note += ", " + std::to_string(vector) + " lanes";
  }
  root.parallel(n);
  k.stages.operand.compute_at(root, n);
  vectorizePadded(k.stages.operand, k.stages.operandRows, windows);
  if (k.spec.op == Primitive::max_pool2d_grad) {
    k.stages.input.compute_at(root, n);
    vectorizePadded(k);
    Func first = k.stages.aux;
    first.store_at(root, c).compute_at(root, h);
    if (vector > 0 && windows >= vector)
      first.vectorize(first.args()[0], vector, TailStrategy::ShiftInwards);
    note += ", first maxima per row of windows";
  }
  if (k.choice.separable) {
    Func rows = k.stages.rows;
    rows.compute_at(root, h);
    if (vector > 0 && windows >= vector)
      rows.vectorize(rows.args()[0], vector, TailStrategy::ShiftInwards);
    note += ", each row's windows summed down the columns first";
  }
  return note + ", parallel over batch";
}

// What a family schedules inside the primitive before its output is placed: the reduction's
// accumulator, the outer products, the vectorized reduction of a narrow matmul.
struct Inside {
  std::string note;
  bool vectorizeOutput = true;  // false where a vector already runs inside
  bool updateScheduled = false; // the output's update definition is scheduled
};

// matmulNarrow: where the reduction is whole vectors, each output row's columns sum lane by
// lane in a register tile (one vector per column, the row's vector shared by all), then each
// column's lanes are added once; else each output is one vectorized reduction.
std::string scheduleNarrowMatmul(Kernel &k) {
  RVar ko("ko"), ki("ki");
  const int64_t depth = k.spec.inputs[0].shape[1], columns = k.spec.output.shape[1];
  std::string note;
  if (depth % lanes() == 0) {
    Var lane("lane"), pn = k.vars[0], pm = k.vars[1]; // rfactor keeps the output's variables
    Func partial = k.out.update().split(k.stages.r.x, ko, ki, lanes()).rfactor(ki, lane);
    partial.compute_at(k.out, pm).store_in(MemoryType::Stack).reorder_storage(lane, pn, pm);
    partial.reorder(lane, pn, pm).vectorize(lane).unroll(pn);
    partial.update().reorder(lane, pn, ko, pm).vectorize(lane).unroll(pn);
    note = "narrow output: each row's " + std::to_string(columns) + " columns summed in " + std::to_string(lanes()) +
           "-lane partial sums over the reduction of " + std::to_string(depth) + ", lanes added at the end";
  } else {
    k.out.update().atomic().split(k.stages.r.x, ko, ki, lanes(), TailStrategy::GuardWithIf).vectorize(ki);
    note = "narrow output: the reduction over " + std::to_string(depth) + " vectorized, " + std::to_string(lanes()) +
           " lanes";
  }
  if (k.choice.packRhs) {
    k.stages.operand.compute_root();
    note += ", the right operand's columns copied to run along it";
  }
  return note;
}

// A pooling's padded input, computed once per call (the pooling may be inlined into its reader).
void computePaddedOnce(const Kernel &k) {
  Func f = k.stages.input;
  f.compute_root().parallel(f.args()[3]);
  f.update().parallel(f.args()[3]);
  vectorizePadded(k);
}

// poolGradScatter: the padded image and each window's first maximum per image, in vectors
// along the row of windows where it fills one, then the windows add in order.
std::string schedulePoolGradScatter(Kernel &k) {
  k.stages.input.compute_at(k.out, k.vars[3]);
  vectorizePadded(k);
  Func first = k.stages.aux;
  int vector = rowVectorWidth(int(k.spec.inputs[1].shape[3]));
  first.compute_at(k.out, k.vars[3]);
  if (k.choice.separable)
    k.stages.rows.compute_at(k.out, k.vars[3]);
  if (vector > 0) {
    first.vectorize(first.args()[0], vector, TailStrategy::GuardWithIf);
    if (k.choice.separable) {
      first.update().vectorize(first.args()[0], vector, TailStrategy::GuardWithIf);
      k.stages.rows.vectorize(k.stages.rows.args()[0], vector, TailStrategy::GuardWithIf);
    }
  }
  return std::string("each window's first maximum ") + (k.choice.separable ? "along rows, then columns, " : "") +
         "per image (" + std::to_string(vector) + " lanes), then each window adds to it";
}

Inside scheduleInside(Kernel &k) {
  Inside in;
  if ((k.spec.op == Primitive::max_pool2d || k.spec.op == Primitive::avg_pool2d) && k.stages.input.defined())
    computePaddedOnce(k);
  switch (k.choice.family) {
  case ScheduleFamily::reductionVectorized: {
    // Reduced dimensions contiguous in memory (a bias gradient's h and w) run as one.
    const auto &shape = k.spec.inputs[0].shape;
    int rank = int(shape.size());
    Func acc = k.stages.acc;
    RDom r = k.stages.r;
    RVar inner = r[0];
    int64_t extent = contiguousReduced(k.spec);
    if (extent != shape[rank - 1]) {
      RVar fused("rf");
      acc.update().fuse(r[0], r[1], fused);
      inner = fused;
    }
    RVar ro("ro"), ri("ri");
    int width = extent >= lanes() ? lanes() : lanes() / 2;
    acc.compute_at(k.out, k.vars.empty() ? Var::outermost() : k.vars[0]);
    acc.update().atomic().split(inner, ro, ri, width, TailStrategy::GuardWithIf).vectorize(ri);
    in.vectorizeOutput = false;
    in.note = "reduction vectorized over its contiguous innermost " + std::to_string(extent) + " elements, " +
              std::to_string(width) + " lanes";
    break;
  }
  case ScheduleFamily::matmulOuterProducts: {
    int m = int(k.spec.output.shape[0]), n = int(k.spec.output.shape[1]), depth = int(k.spec.inputs[0].shape[1]);
    Func acc = k.stages.acc;
    Var nv = acc.args()[0], mv = acc.args()[1];
    bool overN = n >= lanes() / 2 && k.inOps[1] != Primitive::transpose;
    Var vec = overN ? nv : mv, other = overN ? mv : nv;
    int extent = overN ? n : m, others = overN ? m : n;
    if (!overN)
      acc.reorder_storage(mv, nv);
    acc.compute_root().store_in(MemoryType::Stack);
    Stage step = acc.update();
    step.reorder(vec, other, k.stages.r.x);
    if (extent <= lanes())
      step.vectorize(vec);
    else
      step.vectorize(vec, lanes(), TailStrategy::GuardWithIf);
    if (others <= 4)
      step.unroll(other);
    in.note = "accumulated once per call as outer products over the reduction of " + std::to_string(depth) + ", " +
              std::to_string(std::min(extent, lanes())) + " lanes over " + (overN ? "n" : "m");
    break;
  }
  case ScheduleFamily::matmulNarrow:
    in.note = scheduleNarrowMatmul(k);
    in.updateScheduled = true;
    break;
  case ScheduleFamily::poolGradScatter: in.note = schedulePoolGradScatter(k); break;
  case ScheduleFamily::poolSeparable: {
    int width = int(k.spec.output.shape[3]), vector = rowVectorWidth(width);
    k.stages.rows.compute_at(k.out, k.vars[3]);
    if (vector > 0)
      k.stages.rows.vectorize(k.stages.rows.args()[0], vector, TailStrategy::ShiftInwards);
    in.note = "a pass along rows per image (" + std::to_string(vector) + " lanes), then along columns";
    break;
  }
  default: break;
  }
  if (!in.note.empty() && !k.choice.reason.empty())
    in.note = k.choice.reason + ": " + in.note;
  return in;
}

// The plain schedule of a primitive computed at the root of its kernel: vectorize the
// innermost dimension when it is wide enough, and spread large 4-d (NCHW) ones over the batch.
std::string scheduleAtRoot(Kernel &k) {
  Inside inside = scheduleInside(k);
  if (k.vars.empty())
    return "scalar";
  std::string note;
  int inner = int(k.spec.output.shape.back());
  int width = inner >= lanes() ? lanes() : inner >= lanes() / 2 ? lanes() / 2 : lanes() / 4;
  // A scatter (max_pool2d_grad of overlapping windows) updates positions computed from data:
  // its update has no pure innermost dimension to vectorize.
  bool scatter = k.choice.family == ScheduleFamily::poolGradScatter;
  if (inner >= lanes() / 4 && inside.vectorizeOutput) {
    // Masked tails are slow on this target: a pure definition covers the last vector of each
    // row by shifting it inwards (recomputing a few points) instead, except in a kernel that
    // updates in place, where computing a point twice would apply the update twice.
    k.out.vectorize(k.vars[0], width, k.computeOnce ? TailStrategy::GuardWithIf : TailStrategy::ShiftInwards);
    if (k.out.has_update_definition() && !scatter && !inside.updateScheduled)
      k.out.update(0).vectorize(k.vars[0], width, TailStrategy::GuardWithIf);
    note = std::to_string(width) + " lanes over the innermost " + std::to_string(inner);
  }
  // Thread wake-up costs 70-230 us here: only kernels of a few MFLOP are worth splitting.
  // (a pooling's work is what it reads: four times its output)
  bool large = k.spec.output.shape.size() == 4 &&
               std::max(k.spec.output.elements(), k.spec.inputs.empty() ? 0 : k.spec.inputs[0].elements()) >= (1 << 17);
  if (scatter && inner >= lanes() / 4 && !large)
    k.out.update(0).unscheduled(); // deliberately serial: it only adds to a few positions
  if (large) {
    Var batch = k.vars.back();
    k.out.parallel(batch);
    if (k.out.has_update_definition())
      k.out.update(0).parallel(batch);
    note += std::string(note.empty() ? "" : ", ") + "parallel over batch";
  }
  // A reduction's work is what it reads: a bias gradient reads a whole activation gradient
  // into a few outputs, and splits those.
  bool bigReduction = k.spec.family == kiln::Family::reduction && k.spec.inputs[0].elements() >= (1 << 17) &&
                      k.spec.output.elements() >= 2 && (k.vars.size() >= 2 || !inside.vectorizeOutput);
  if (bigReduction && !large) {
    k.out.parallel(k.vars.back());
    note += std::string(note.empty() ? "" : ", ") + "parallel over its outermost output dimension";
  }
  if (!inside.note.empty())
    note = inside.note + (note.empty() ? "" : "; " + note);
  return note.empty() ? "serial" : note;
}

// Families that schedule a register tile on the loop nest that computes the primitive.
bool tiled(const Kernel &k) {
  switch (k.choice.family) {
  case ScheduleFamily::matmulTile:
  case ScheduleFamily::convChannels:
  case ScheduleFamily::convRows:
  case ScheduleFamily::filterGradChannels:
  case ScheduleFamily::filterGradRows:
  case ScheduleFamily::poolGradGather: return true;
  default: return false;
  }
}

std::string scheduleTile(Kernel &k, Func root, const std::vector<Var> &vars) {
  std::string reason = k.choice.reason.empty() ? "" : k.choice.reason + ": ";
  switch (k.choice.family) {
  case ScheduleFamily::matmulTile: return reason + matmulTile(k, root, vars);
  case ScheduleFamily::convChannels: return reason + convChannels(k, root, vars);
  case ScheduleFamily::convRows: return reason + convRows(k, root, vars);
  case ScheduleFamily::filterGradChannels: return reason + filterGradChannels(k, root, vars);
  case ScheduleFamily::filterGradRows: return reason + filterGradRows(k, root, vars);
  default: return reason + poolGradGather(k, root, vars);
  }
}

} // namespace

std::string inlinedNote(const std::vector<std::string> &primitives) {
  std::string list;
  for (const std::string &op : primitives)
    list += (list.empty() ? "" : ", ") + op;
  return "inlined into their readers: " + list;
}

std::vector<std::string> scheduleKernel(std::vector<Kernel> &nodes, const std::vector<int> &outputs,
                                        const std::vector<std::vector<int>> &readers) {
  std::vector<std::string> notes, inlined;
  std::vector<bool> isOutput(nodes.size(), false), tiledAt(nodes.size(), false);
  for (int o : outputs)
    isOutput[o] = true;
  for (size_t i = 0; i < nodes.size(); ++i) {
    Kernel &k = nodes[i];
    std::string name(mnemonic(k.spec.op));
    if (tiled(k)) {
      // Walk the single-reader epilogue chain to the output that carries the loop nest.
      size_t root = i;
      while (!isOutput[root] && readers[root].size() == 1)
        root = readers[root].front();
      if (!isOutput[root]) {
        root = i;
        k.out.compute_root();
      }
      std::string note = scheduleTile(k, nodes[root].out, nodes[root].vars);
      std::string where = root != i     ? " (in " + std::string(mnemonic(nodes[root].spec.op)) + "'s loop nest)"
                          : isOutput[i] ? ""
                                        : " (computed once per call, then its readers)";
      notes.push_back(name + where + ": " + note);
      tiledAt[root] = true;
      continue;
    }
    if (isOutput[i])
      continue;
    // A matmul reads each element many times: what it reads is computed once, except index
    // remaps and constants, which cost nothing to recompute (a transpose keeps the reads
    // dense); a reshape's remap divides, and one_hot compares.
    bool free =
        k.spec.family == kiln::Family::constant || (k.spec.family == kiln::Family::indexOnly &&
                                                    k.spec.op != Primitive::reshape && k.spec.op != Primitive::one_hot);
    bool readByMatmul = !free && std::any_of(readers[i].begin(), readers[i].end(),
                                             [&](int r) { return nodes[r].spec.op == Primitive::matmul; });
    // Scalars are computed once per call, not per element of whatever reads them; so are
    // reductions (their accumulator is scheduled against their own Func).
    bool scalar = k.spec.output.shape.empty();
    bool reduction = k.spec.family == kiln::Family::reduction;
    if (k.out.has_update_definition() || readByMatmul || scalar || reduction) {
      k.out.compute_root();
      notes.push_back(name + ": computed once per call (" +
                      (scalar         ? "a scalar"
                       : readByMatmul ? "a matmul reads it repeatedly"
                                      : "a reduction or update") +
                      "), " + scheduleAtRoot(k));
    } else {
      inlined.push_back(name);
      std::string note = scheduleInside(k).note;
      if (!note.empty()) // its value is inlined, but it computed a part of itself once
        notes.push_back(name + ": " + note);
    }
  }
  for (int o : outputs)
    notes.push_back("output " + std::string(mnemonic(nodes[o].spec.op)) + ": " +
                    (tiledAt[o] ? "in the tile above" : scheduleAtRoot(nodes[o])));
  if (!inlined.empty())
    notes.push_back(inlinedNote(inlined));
  return notes;
}

} // namespace kiln::lowering
