// What a primitive's algorithm and its schedule share inside codegen/halide: the node being
// lowered, the schedule chosen for it (before the algorithm is defined, since some families
// compute the same function in another form) and the stages the algorithm names for the
// schedule to place.
//
// Layout: kiln tensors are dense row-major, so kiln dimension d of a rank-r tensor is Halide
// dimension r-1-d (Halide's dimension 0 is the innermost). `at()` does that reversal, so the
// algorithms index in kiln's order.
#ifndef KILN_CODEGEN_HALIDE_KERNEL_H
#define KILN_CODEGEN_HALIDE_KERNEL_H

#include "codegen/KernelSpec.h"

#include "Halide.h"

#include <optional>
#include <string>
#include <vector>

namespace kiln::lowering {

Halide::Type halideType(DType t);

// The host CPU as Halide sees it (less features it infers wrongly), and its floats per vector.
Halide::Target hostTarget();
// What kernels are compiled for: the host CPU, or the host with a GPU API.
Halide::Target targetFor(Device device);
int lanes();

// Spatial geometry of convolutions and pooling, in Halide's (width, height) order.
struct Window {
  int kw, kh, sw, sh, pw, ph, dw, dh;
};
Window windowOf(const KernelSpec &spec, const std::vector<int64_t> &kernelHW);
// How many of a pooling's `windows` along an axis (window `size`, `stride`) can reach one
// input position: ceil(size / stride), and no more than there are.
int windowsReaching(int64_t size, int64_t stride, int64_t windows);

// The schedule families. Each is a function of the kernel's shapes and the target; where a
// family computes a primitive in a form of its own (an accumulator, a two-level sum), the
// algorithm defines that form and the family places it.
enum class ScheduleFamily {
  plain,               // vectorized innermost dimension, parallel over the batch if large
  reductionVectorized, // a reduction whose contiguous innermost reduced elements fill vectors
  matmulOuterProducts, // narrow x^T dy: outer products of rows accumulated once per call
  matmulNarrow,        // outputs narrower than a vector: the long reduction vectorized
  matmulTile,          // register tile of rows x column vectors over the whole reduction
  convChannels,        // register tile with vectors over output channels
  convRows,            // register tile with vectors along output rows
  filterGradChannels,  // filter gradient with vectors over output channels
  filterGradRows,      // filter gradient with vectors along dy's rows, lanes added at the end
  poolSeparable,       // pooling as a pass along rows, then one along columns of its results
  poolGradGather,      // a pooling gradient as each input position's sum over the windows
                       // reaching it, its phase in the stride unrolled
  poolGradScatter,     // a max-pool gradient with many windows per position: each window
                       // adds its adjoint to its first maximum
  gpuThreads,          // GPU: one thread per output element, its reduction in the thread
  gpuStagedTiles,      // GPU: a block's 16x16 outputs sum in steps, each step's operand tiles
                       // staged in shared memory by the block's threads together
};

struct Choice {
  ScheduleFamily family = ScheduleFamily::plain;
  std::string reason; // why, in words, for the dump ("" where there was nothing to choose)
  int group = 0;      // filterGradRows: dy's columns summed in groups of this many (a vector)
  // matmulTile: the right operand is a transpose, copied into dense rows; matmulNarrow: it is
  // not, and its columns are copied to run along the reduction its vectors cover.
  bool packRhs = false;
  // filterGradChannels: the whole filter's taps in the register tile, not one filter row's.
  bool wholeFilter = false;
  // Pooling gradients in two passes: poolGradScatter finds each window's first maximum along
  // rows, then columns; poolGradGather (average) sums the windows down the columns, then along rows.
  bool separable = false;
  // poolGradGather (max): windows that do not overlap, each position compared with its one
  // window's maximum and earlier positions.
  bool disjoint = false;
};

// The stages an algorithm names for its schedule.
struct Stages {
  Halide::Func acc;         // an accumulator a register tile keeps
  Halide::Func input;       // the padded image a convolution or a max-pool gradient reads
  Halide::Func operand;     // a re-laid-out operand: filter, transposed or padded dy, packed rhs
  Halide::Func aux;         // windows' first maxima (max-pool gradient), dy extended to whole groups
  Halide::RDom r;           // the reduction
  Halide::RDom inputRows;   // the padded image's copied rows
  Halide::RDom operandRows; // a padded operand's copied rows (dy of a pooling gradient)
  Halide::Func rows;        // a separable pooling's (or first maxima's) pass along rows
};

// One primitive of a kernel: its algorithm reads its operands through `in` (a kernel input or
// an earlier primitive's Func) and defines `out`.
struct Kernel {
  const KernelSpec &spec;
  std::vector<Halide::Func> in;
  std::vector<std::optional<Primitive>> inOps; // the primitive computing each operand; none for a kernel input
  std::vector<Halide::Var> vars;               // Halide order: vars[0] is innermost
  Halide::Func out;
  bool computeOnce = false; // the kernel updates in place: no point computed twice
  Choice choice;
  Stages stages;

  std::vector<Halide::Expr> index() const; // the output coordinate in kiln order
  Halide::Expr at(int input, const std::vector<Halide::Expr> &idx) const;
  Halide::Expr same(int input) const { return at(input, index()); }
  void define(Halide::Expr e) { out(std::vector<Halide::Var>(vars)) = e; }
  // Input `i` extended beyond its bounds with `outside` (padding).
  Halide::Func bounded(int i, Halide::Expr outside) const;
  // Input `i` (N, C, H, W) surrounded by `outside`: that first, then the rows copied over it
  // (their domain in `rows`).
  Halide::Func padded(int i, Halide::RDom &rows, Halide::Expr outside) const;
};

// THE SCHEDULE CHOICE (CpuSchedule.cpp): which family a primitive takes, and why.
Choice chooseSchedule(const KernelSpec &spec, const std::vector<std::optional<Primitive>> &inOps);

// THE ALGORITHM (Algorithms.cpp): defines k.out (and k.stages) in the form k.choice asks for.
void defineAlgorithm(Kernel &k);

// THE SCHEDULE (CpuSchedule.cpp): places every primitive of a kernel (inlined into its readers,
// computed once per call, or as a register tile on the loop nest of the output it feeds) and
// schedules it; returns what it did, node by node, for the dump. `readers[i]`: the nodes that
// read node i.
std::vector<std::string> scheduleKernel(std::vector<Kernel> &nodes, const std::vector<int> &outputs,
                                        const std::vector<std::vector<int>> &readers);

// The dump's line for the primitives a schedule inlined into their readers.
std::string inlinedNote(const std::vector<std::string> &primitives);

// THE GPU SCHEDULE (GpuSchedule.cpp): the same for a GPU target; every primitive takes the
// gpuThreads family.
Choice chooseGpuSchedule(const KernelSpec &spec);
std::vector<std::string> scheduleKernelGpu(std::vector<Kernel> &nodes, const std::vector<int> &outputs,
                                           const std::vector<std::vector<int>> &readers);
// A Func computed on its own on the GPU: its pure definition and every update, each a launch
// of thread blocks; returns the launch in words.
std::string scheduleOnGpu(Halide::Func f);

} // namespace kiln::lowering

#endif
