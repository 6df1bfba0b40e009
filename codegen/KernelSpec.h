// A kernel as codegen's two halves exchange it: plain data, free of MLIR and of Halide, so
// that Halide.h and the LLVM/MLIR headers never meet in one translation unit.
#ifndef KILN_CODEGEN_KERNELSPEC_H
#define KILN_CODEGEN_KERNELSPEC_H

#include "kiln/types.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// The primitives codegen lowers, named by their mnemonics in the kiln dialect. Each has one
// algorithm in codegen/halide (a switch the compiler checks for every entry).
// clang-format off
#define KILN_PRIMITIVES(X)                                                                        \
  X(add) X(sub) X(mul) X(div) X(max) X(min) X(neg) X(exp) X(log) X(sqrt) X(abs) X(sin) X(cos)    \
  X(erf) X(compare) X(select) X(stop_gradient) X(one_hot) X(constant) X(broadcast_in_dim)         \
  X(reshape) X(transpose) X(reduce_sum) X(reduce_mean) X(reduce_max) X(matmul) X(conv2d)          \
  X(conv2d_input_grad) X(conv2d_filter_grad) X(max_pool2d) X(max_pool2d_grad) X(avg_pool2d)       \
  X(avg_pool2d_grad) X(random_uniform)
// clang-format on

enum class Primitive {
#define KILN_ENUM_ENTRY(name) name,
  KILN_PRIMITIVES(KILN_ENUM_ENTRY)
#undef KILN_ENUM_ENTRY
};

// "conv2d" for Primitive::conv2d; the primitive of a dialect mnemonic, if codegen has one.
std::string_view mnemonic(Primitive p);
std::optional<Primitive> primitiveNamed(std::string_view mnemonic);

// What kind of work a primitive does, from its op's traits in the dialect: which schedule
// family it takes and how fusion treats it.
enum class Family { elementwise, indexOnly, constant, reduction, contraction, pooling, random };

struct TensorDesc {
  DType dtype = DType::f32;
  std::vector<int64_t> shape; // row-major, dense

  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  int64_t bytes() const { return elements() * (dtype == DType::f32 || dtype == DType::i32 ? 4 : 1); }
};

// One primitive applied to dense row-major buffers; the function takes one buffer per input
// and then the output buffer.
struct KernelSpec {
  std::string name; // the function's symbol
  Primitive op = Primitive::add;
  Family family = Family::elementwise;
  std::vector<TensorDesc> inputs;
  TensorDesc output;
  std::vector<int64_t> dims; // broadcast/reduce dimensions or transpose permutation
  std::string direction;     // compare: EQ, NE, LT, LE, GT, GE
  std::vector<float> values; // constant: one value for a splat, else every element
  // Convolutions and pooling, (height, width) each: kernel size (pooling), stride, padding,
  // dilation (convolutions).
  std::vector<int64_t> window, stride, padding, dilation;
  int64_t stream = 0; // random_uniform: which of the step's generator ops

  // Two specs with equal keys compute the same function and can share one kernel.
  std::string key() const;
  // Floating-point operations: a multiply-add counts two; index-only ops count none.
  int64_t flops() const;
};

// A kernel as the fuse pass grouped it: primitives (nodes, in a valid order) over the
// kernel's inputs, with several outputs. The function takes one buffer per input and then one
// per output.
struct FusedKernel {
  struct Node {
    KernelSpec op;
    std::vector<int> operands; // k >= 0: node k; k < 0: kernel input -(k + 1)
  };
  std::string name; // the function's symbol
  std::vector<TensorDesc> inputs;
  std::vector<Node> nodes;
  std::vector<int> outputs; // the node of each output
  // An output is written over an input it reads point by point (an optimizer step in place):
  // no point may be computed twice.
  bool updatesInPlace = false;

  // A kernel of one primitive.
  static FusedKernel of(const KernelSpec &spec);
  // Two kernels with equal keys compute the same function and can share one symbol.
  std::string key() const;
  const TensorDesc &output(int i) const { return nodes[outputs[i]].op.output; }
  int64_t flops() const;
  // Bytes the kernel reads from its input buffers and writes to its outputs, each once.
  int64_t bytesMoved() const;
  // The primitives it holds, in order: "conv2d+add".
  std::string ops() const;
};

// An elementwise kernel (every node maps same-shaped tensors point by point, scalars
// broadcast) computed over its tensors flattened to one dimension: the same bytes, one long
// loop that vectorizes whatever the innermost extent was. Other kernels are returned as they are.
FusedKernel flattenElementwise(const FusedKernel &kernel);
// Whether every node maps same-shaped (or scalar) tensors point by point.
bool isPointwise(const FusedKernel &kernel);

// Where `compileKernels` writes its outputs; empty paths are skipped.
// Where kernels run: the host CPU, or a GPU through CUDA or OpenCL.
enum class Device { host, cuda, opencl };

struct KernelOutputs {
  // All kernels in one object file; for a GPU target one object per kernel instead, this path
  // with ".<i>.o" appended (Halide keeps one GPU program per module, and linked modules would
  // keep only one of them), their paths added to `objects`.
  std::string object;
  std::vector<std::string> *objects = nullptr;
  std::string runtime;  // Halide's runtime as its own object
  std::string stmt;     // Halide's lowered statements, human-readable
  std::string assembly; // the kernels' assembly
  std::string ptx;      // CUDA: the PTX of every kernel
  // Testing `kiln diff` only: the kernel of this name gets a schedule bug planted on purpose.
  // The last element of every 16-wide tile along output 0's innermost dimension takes its
  // neighbour's value, as a tile bound off by one would make it.
  std::string brokenKernel;
};

// Lowers every kernel to a Halide pipeline and compiles them ahead of time for the host CPU.
// Returns an empty string on success, else the error.
std::string compileKernels(const std::vector<FusedKernel> &kernels, const KernelOutputs &out,
                           Device device = Device::host);

// Floats per vector register on the host, as codegen's schedules use it (16 with AVX-512).
int hostVectorLanes();

// What this machine reaches on `threads` threads with the code codegen generates: GFLOP/s of
// multiply-adds held in registers (two FLOPs each) and GB/s of a streaming pass over memory
// (bytes read plus bytes written). A probe of about a second; zeros if it could not run.
struct MachineLimits {
  double gflops = 0, gbps = 0;
};
MachineLimits measureMachineLimits(int threads);

// How codegen schedules the kernel, node by node, in words: vector widths, tiles, what is
// inlined and what computed once, what runs in parallel.
std::vector<std::string> describeSchedule(const FusedKernel &kernel, Device device = Device::host);

// Runs one kernel in-process through Halide's JIT on dense row-major buffers (compiled
// pipelines are cached by key). Returns an empty string on success, else the error.
std::string runKernel(const FusedKernel &kernel, const std::vector<const void *> &inputs,
                      const std::vector<void *> &outputs);
std::string runKernel(const KernelSpec &spec, const std::vector<const void *> &inputs, void *output);

} // namespace kiln

#endif
