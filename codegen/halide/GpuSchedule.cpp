// THE SCHEDULE for a GPU target (CUDA, or OpenCL, through which CI runs it on the CPU). Matmuls
// of 16 or more rows, columns and terms and convolutions whose input patches fit take the
// gpuStagedTiles family: a block of threads sums its outputs a tile of the reduction at a time,
// from operand tiles it stages in shared memory. Every other primitive takes the gpuThreads
// family, whose algorithms read zero-padded inputs through boundary conditions and keep each
// output's reduction inside one thread. Primitives that are not elementwise are computed once
// per call (compute_root); the rest are inlined into them. A computed Func runs as one kernel
// launch: 16x16 threads per block over its two innermost dimensions (64 over one), its outer
// dimensions fused into the blocks' third dimension.
#include "codegen/halide/Kernel.h"

namespace kiln::lowering {

using namespace Halide;

namespace {

template <typename Schedulable> std::string launch(Schedulable s, const std::vector<Var> &vars) {
  Var bx("bx"), by("by"), tx("tx"), ty("ty");
  switch (vars.size()) {
  case 0: s.gpu_single_thread(); return "one thread";
  case 1: s.gpu_tile(vars[0], bx, tx, 64, TailStrategy::GuardWithIf); return "blocks of 64 threads";
  default: break;
  }
  s.gpu_tile(vars[0], vars[1], bx, by, tx, ty, 16, 16, TailStrategy::GuardWithIf);
  if (vars.size() >= 3) {
    Var outer = vars[2];
    for (size_t d = 3; d < vars.size(); ++d) {
      Var fused("fused" + std::to_string(d));
      s.fuse(outer, vars[d], fused);
      outer = fused;
    }
    s.gpu_blocks(outer);
  }
  return "blocks of 16x16 threads";
}

} // namespace

std::string scheduleOnGpu(Func f) {
  std::vector<Var> vars = f.args();
  std::string note = launch(f, vars);
  for (int u = 0; u < f.num_update_definitions(); ++u)
    launch(f.update(u), vars);
  return note;
}

namespace {

// An accumulator that sums many elements per output (a reduction, a filter gradient) would
// run long on few threads: its outermost reduced dimension (the batch, typically) is cut into
// chunks summed by threads of their own (rfactor), and each output then adds its partial
// results. The chunks per output (at most 256, and at most that dimension's size) bring the
// threads to about 64K; outputs that are already that many are not split. Only the outermost
// dimension is cut, so the inner loops keep their plain indices (no division per element).
constexpr int64_t kThreads = 1 << 16, kMaxPartials = 256;

std::string splitReduction(Kernel &k) {
  Func acc = k.stages.acc;
  RDom r = k.stages.r;
  if (!r.defined())
    return "";
  int64_t total = 1;
  for (int d = 0; d < r.dimensions(); ++d) {
    const int64_t *extent = Internal::as_const_int(r[d].extent());
    if (!extent)
      return "";
    total *= *extent;
  }
  const int64_t outermost = *Internal::as_const_int(r[r.dimensions() - 1].extent());
  int64_t partials = 1;
  while (partials < kMaxPartials && 2 * partials * k.spec.output.elements() <= kThreads)
    partials *= 2;
  partials = std::min(partials, outermost);
  if (partials < 4 || total < 4 * partials)
    return "";
  const int64_t perChunk = (outermost + partials - 1) / partials;
  partials = (outermost + perChunk - 1) / perChunk;
  Stage update = acc.update(0);
  RVar outer("r_chunk"), inner("r_in_chunk");
  update.split(r[r.dimensions() - 1], outer, inner, int(perChunk));
  Var chunk("chunk");
  Func partial = update.rfactor(outer, chunk);
  partial.compute_root();
  return "its " + std::to_string(total) + " elements per output in " + std::to_string(partials) +
         " partial sums first, " + scheduleOnGpu(partial) + "; then ";
}

// gpuStagedTiles: the output in blocks of kTile x kTile threads; the block keeps their
// accumulators and sums the reduction kTile elements at a time, and before each step its threads
// copy both operands' tiles into shared memory together, so that each operand element is read
// from global memory once per block instead of once per thread.
constexpr int kTile = 16;

// A convolution's block covers kTile x kTile output positions of one channel and image; each
// step of its sum takes a chunk of input channels: their input patch (the tile's positions'
// windows, zeros in the padding) and their filter taps, copied by threads of the block in kTile x
// kTile squares. The chunk keeps the patch within kPatchBytes of shared memory.
constexpr int64_t kPatchBytes = 16 * 1024;

struct ConvTiles {
  int patchWidth, patchHeight, channels; // channels per step
};

std::optional<ConvTiles> convTiles(const KernelSpec &spec) {
  const auto &f = spec.inputs[1].shape; // O, C, KH, KW
  Window g = windowOf(spec, {f[2], f[3]});
  const int64_t width = (kTile - 1) * g.sw + (g.kw - 1) * g.dw + 1, height = (kTile - 1) * g.sh + (g.kh - 1) * g.dh + 1;
  const int64_t perChannel = 4 * width * height;
  if (perChannel > kPatchBytes || f[1] * f[2] * f[3] < kTile)
    return std::nullopt; // patches too large to stage, or too few terms per output to gain
  const int64_t steps = (f[1] * perChannel + kPatchBytes - 1) / kPatchBytes; // equal chunks
  return ConvTiles{int(width), int(height), int((f[1] + steps - 1) / steps)};
}

// `f`, computed at `step` of `acc`, by the block's threads in squares of kTile x kTile over its
// two innermost dimensions.
// The squares round the region up to whole ones: `f` must be defined everywhere (a boundary
// condition). Guarding the last squares instead was wrong on OpenCL where a region took more
// than one (PoCL, Halide 14): outputs next to the region's edge read the wrong elements.
void stageAt(Func f, Func acc, RVar step) {
  std::vector<Var> v = f.args();
  Var xo("xo"), yo("yo"), xi("xi"), yi("yi");
  f.compute_at(acc, step).tile(v[0], v[1], xo, yo, xi, yi, kTile, kTile, TailStrategy::RoundUp).gpu_threads(xi, yi);
}

std::string stageConvTiles(Kernel &k, const ConvTiles &tiles) {
  Func out = k.out, acc = k.stages.acc;
  RDom r = k.stages.r;
  Var w = k.vars[0], h = k.vars[1], o = k.vars[2], n = k.vars[3];
  Var wBlock("w_block"), hBlock("h_block"), wThread("w_thread"), hThread("h_thread"), image("o_n");
  out.gpu_tile(w, h, wBlock, hBlock, wThread, hThread, kTile, kTile, TailStrategy::GuardWithIf)
      .fuse(o, n, image)
      .gpu_blocks(image);
  acc.compute_at(out, wBlock).gpu_threads(w, h);
  RVar step("c_step"), inStep("c_in_step");
  acc.update()
      .split(r.z, step, inStep, tiles.channels, TailStrategy::GuardWithIf)
      .reorder(r.x, r.y, inStep, w, h, step)
      .gpu_threads(w, h);
  stageAt(k.stages.input.in(acc), acc, step);
  stageAt(k.stages.operand.in(acc), acc, step);
  return "blocks of 16x16 threads over each channel and image, each output's sum " + std::to_string(tiles.channels) +
         " input channel(s) at a time from a " + std::to_string(tiles.patchWidth) + "x" +
         std::to_string(tiles.patchHeight) + " input patch and the filter taps that the block stages in shared memory";
}

std::string stageTiles(Kernel &k) {
  if (k.spec.op == Primitive::conv2d)
    return stageConvTiles(k, *convTiles(k.spec));
  Func out = k.out, acc = k.stages.acc;
  Var n = k.vars[0], m = k.vars[1], nBlock("n_block"), mBlock("m_block"), nThread("n_thread"), mThread("m_thread");
  out.gpu_tile(n, m, nBlock, mBlock, nThread, mThread, kTile, kTile, TailStrategy::GuardWithIf);
  acc.compute_at(out, nBlock).gpu_threads(n, m);
  RVar step("k_step"), inStep("k_in_step");
  acc.update()
      .split(k.stages.r.x, step, inStep, kTile, TailStrategy::GuardWithIf)
      .reorder(inStep, n, m, step)
      .gpu_threads(n, m);
  for (Func operand : {k.in[0], k.in[1]}) {
    Func tile = operand.in(acc);
    std::vector<Var> v = tile.args();
    tile.compute_at(acc, step).gpu_threads(v[0], v[1]);
  }
  return "blocks of 16x16 threads, each output's sum 16 terms at a time from 16x16 tiles of both operands "
         "that the block stages in shared memory";
}

} // namespace

Choice chooseGpuSchedule(const KernelSpec &spec) {
  if (spec.op == Primitive::matmul) {
    const int64_t rows = spec.output.shape[0], columns = spec.output.shape[1], depth = spec.inputs[0].shape[1];
    if (rows >= kTile && columns >= kTile && depth >= kTile)
      return {ScheduleFamily::gpuStagedTiles, "", 0, false};
  }
  if (spec.op == Primitive::conv2d && convTiles(spec))
    return {ScheduleFamily::gpuStagedTiles, "", 0, false};
  return {ScheduleFamily::gpuThreads, "", 0, false};
}

std::vector<std::string> scheduleKernelGpu(std::vector<Kernel> &nodes, const std::vector<int> &outputs,
                                           const std::vector<std::vector<int>> &readers) {
  std::vector<std::string> notes, inlined;
  std::vector<bool> isOutput(nodes.size(), false);
  for (int o : outputs)
    isOutput[o] = true;
  for (size_t i = 0; i < nodes.size(); ++i) {
    Kernel &k = nodes[i];
    std::string name(mnemonic(k.spec.op));
    if (k.choice.family == ScheduleFamily::gpuStagedTiles) {
      if (!isOutput[i])
        k.out.compute_root();
      notes.push_back((isOutput[i] ? "output " : "") + name + ": " + stageTiles(k));
      continue;
    }
    for (bool isAcc : {true, false}) {
      Func stage = isAcc ? k.stages.acc : k.stages.aux;
      if (!stage.defined())
        continue;
      stage.compute_root();
      std::string split = isAcc ? splitReduction(k) : "";
      notes.push_back(name + ": its " + stage.name() + " computed first, " + split + scheduleOnGpu(stage));
    }
    bool cheap = k.spec.family == kiln::Family::elementwise || k.spec.family == kiln::Family::indexOnly ||
                 k.spec.family == kiln::Family::constant || k.spec.family == kiln::Family::random;
    if (isOutput[i] || !cheap || k.out.has_update_definition() || k.spec.output.shape.empty() || readers[i].empty()) {
      if (!isOutput[i])
        k.out.compute_root();
      notes.push_back((isOutput[i] ? "output " : "") + name + ": " + scheduleOnGpu(k.out));
    } else {
      inlined.push_back(name);
    }
  }
  if (!inlined.empty())
    notes.push_back(inlinedNote(inlined));
  return notes;
}

} // namespace kiln::lowering
