// THE SCHEDULE for a GPU target (CUDA, or OpenCL, through which CI runs it on the CPU): every
// primitive takes the gpuThreads family, whose algorithms read zero-padded inputs through
// boundary conditions and keep each output's reduction inside one thread. Primitives that are
// not elementwise are computed once per call (compute_root); the rest are inlined into them.
// A computed Func runs as one kernel launch: 16x16 threads per block over its two innermost
// dimensions (64 over one), its outer dimensions fused into the blocks' third dimension.
#include "codegen/halide/Kernel.h"

namespace kiln::lowering {

using namespace Halide;

namespace {

template <typename Schedulable> std::string launch(Schedulable s, const std::vector<Var> &vars) {
  Var bx("bx"), by("by"), tx("tx"), ty("ty");
  switch (vars.size()) {
  case 0:
    s.gpu_single_thread();
    return "one thread";
  case 1:
    s.gpu_tile(vars[0], bx, tx, 64, TailStrategy::GuardWithIf);
    return "blocks of 64 threads";
  default:
    break;
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

} // namespace

Choice chooseGpuSchedule(const KernelSpec &) { return {ScheduleFamily::gpuThreads, "", 0, false}; }

std::vector<std::string> scheduleKernelGpu(std::vector<Kernel> &nodes, const std::vector<int> &outputs,
                                           const std::vector<std::vector<int>> &readers) {
  std::vector<std::string> notes, inlined;
  std::vector<bool> isOutput(nodes.size(), false);
  for (int o : outputs)
    isOutput[o] = true;
  for (size_t i = 0; i < nodes.size(); ++i) {
    Kernel &k = nodes[i];
    std::string name(mnemonic(k.spec.op));
    for (bool isAcc : {true, false}) {
      Func stage = isAcc ? k.stages.acc : k.stages.aux;
      if (!stage.defined())
        continue;
      stage.compute_root();
      std::string split = isAcc ? splitReduction(k) : "";
      notes.push_back(name + ": its " + stage.name() + " computed first, " + split + scheduleOnGpu(stage));
    }
    bool cheap = k.spec.family == kiln::Family::elementwise || k.spec.family == kiln::Family::indexOnly ||
                 k.spec.family == kiln::Family::constant;
    if (isOutput[i] || !cheap || k.out.has_update_definition() || k.spec.output.shape.empty() ||
        readers[i].empty()) {
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
