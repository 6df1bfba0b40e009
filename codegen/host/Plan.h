// The plan of a compiled model: which kernels each entry runs, over which arena buffers, in
// which order.
//
// Entries are the train steps (kiln.role = "train", from the optimizer pass; @train_step
// first) and the eval functions (kiln.role = "eval"). Params and optimizer state are shared
// by name between entries; every other SSA value gets an aligned arena slot (scratch values
// whose lifetimes do not overlap share bytes). Updated params and state are copied back into
// their slots at the end of a train entry.
#ifndef KILN_CODEGEN_HOST_PLAN_H
#define KILN_CODEGEN_HOST_PLAN_H

#include "codegen/KernelSpec.h"
#include "kiln/types.h"

#include "mlir/IR/BuiltinOps.h"

namespace kiln {

struct PlannedBuffer {
  std::string name;
  TensorDesc desc;
  int64_t offset = 0;
  int viewOf = -1; // a view: the bytes of that buffer with this shape
  // Scratch buffers live from call `first` to call `last` of entry `entry`; -1: across steps.
  int entry = -1, first = -1, last = -1;
};

struct KernelCall {
  int kernel = 0;
  std::vector<int> buffers; // inputs, then the outputs
  // What `kiln diff` matches between two builds of a model: the identity of each output's
  // value (a hash of the computation that produces it, down to the entry's named arguments:
  // fusion regroups ops, not values, so a fused and an unfused build give a value the same
  // one; comparable within one MLIR context), its shape as the IR types it, and the kernel's
  // ops with their DSL lines; and the values its inputs hold.
  std::vector<uint64_t> values, reads;
  std::vector<TensorDesc> written;
  std::vector<std::string> sources;
  std::vector<std::string> unfused; // per output: why it is written, not fused into its readers
};

// An exchange between the ranks of a data-parallel run (kiln.all_reduce_sum): the sum over
// ranks of `input` into `output`, started just before call `start` (as soon as the input is
// computed) and waited for just before call `wait` (the first that reads the output; the
// number of calls: at the end of the entry). Both buffers stay reserved from start to wait.
struct PlannedCollective {
  std::string of; // what it averages: "loss", or "<param>.grad"
  int input = 0, output = 0;
  int start = 0, wait = 0;
};

struct EntryPlan {
  std::string name;
  EntryKind kind = EntryKind::train;
  int64_t batch = 0;                             // dimension 0 of its inputs
  std::vector<KernelCall> calls;                 // in order
  std::vector<PlannedCollective> collectives;    // in start order
  std::vector<std::pair<int, int>> outputCopies; // (argument, its output slot), first
  std::vector<std::pair<int, int>> copies;       // (updated value, param or state slot)
  std::vector<int> hostWrites;                   // what the runtime writes before a run: inputs, lr, step
  std::vector<int> hostReads;                    // what it reads after: the loss and the outputs
};

struct StepPlan {
  std::vector<FusedKernel> kernels; // one per distinct function
  std::vector<PlannedBuffer> buffers;
  std::vector<KernelCall> once; // constants, computed when the arena is bound
  std::vector<EntryPlan> entries;
  int64_t arenaBytes = 0;
  int64_t ranks = 1;    // processes of a data-parallel run (kiln.ranks)
  std::string manifest; // JSON, see runtime/core/include/kiln/model_abi.h
  std::string modelIR;  // the model as traced, for whole-net checkpoints
};

// A statically shaped tensor type as codegen describes it; an error at `loc` otherwise.
mlir::FailureOr<TensorDesc> tensorDesc(mlir::Location loc, mlir::Type type);

// The kernel that computes `op` (a kiln primitive) on its own.
mlir::FailureOr<KernelSpec> kernelFor(mlir::Operation *op);

// The family of work an op does, read from its traits in the dialect; none if it has no kind.
std::optional<Family> familyOf(mlir::OperationName op);

// The kernel a kiln.kernel op (or a lone primitive) compiles to; its name is the op's.
// `operandOf`, when given, receives the op operand each kernel input reads (a reshaped input
// becomes a view: one more input over the operand's bytes).
mlir::FailureOr<FusedKernel> kernelOf(mlir::Operation *op, std::vector<int> *operandOf = nullptr);

// Attaches to every kiln.kernel the schedule codegen gives it (`kiln.schedule`, one line per
// node), as the kernel will be compiled: reshaped inputs as views, elementwise kernels flat.
mlir::LogicalResult annotateSchedules(mlir::ModuleOp module, Device device = Device::host);

// The plan as text: every buffer's offset, size and lifetime, every entry's kernel calls.
std::string describePlan(const StepPlan &plan);

// Where buffers start in the arena, as bytes from its base: for a GPU `device` every buffer is
// also a crop of one device allocation at its offset, and OpenCL needs sub-buffer origins
// aligned to the device's base address alignment (offsets aligned less were silently wrong on
// PoCL).
int64_t bufferAlignment(Device device);

// `modelIR` is the module text before the pipeline ran; `device` sets bufferAlignment().
mlir::FailureOr<StepPlan> planModel(mlir::ModuleOp module, std::string modelIR, Device device = Device::host);

} // namespace kiln

#endif
