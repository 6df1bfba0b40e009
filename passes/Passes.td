// kiln's passes, declared once: their names, summaries and options. mlir-tblgen generates each
// pass's base class, its options struct, its create functions and their registration.
#ifndef KILN_PASSES_TD
#define KILN_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnBatchSteps : Pass<"kiln-batch-steps", "::mlir::ModuleOp"> {
  let summary = "Specialise the train entry to the batch (and rank share) and add the short last batch's step";
  let description = [{
    Re-specialises the traced train entry to `batch` rows (0 keeps the traced batch), each of
    `ranks` data-parallel processes taking an equal share, and adds the step of the short last
    batch that `data-rows` rows of training data leave (0: unknown, no such step) unless the
    model drops it. Sets the module's kiln.ranks when ranks > 1.
  }];
  let options = [
    Option<"batch", "batch", "int64_t", "0", "Rows per step (0: the traced batch)">,
    Option<"ranks", "ranks", "int64_t", "1", "Data-parallel processes sharing each batch">,
    Option<"dataRows", "data-rows", "int64_t", "0",
           "Rows of training data, to size the short last batch (0: unknown)">,
  ];
}

def KilnAutodiff : Pass<"kiln-autodiff", "::mlir::ModuleOp"> {
  let summary = "Differentiate @forward's loss w.r.t. its kiln.param arguments into @grad";
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnDataParallel : Pass<"kiln-data-parallel", "::mlir::ModuleOp"> {
  let summary = "Add up each gradient and the loss over the ranks of a data-parallel run (kiln.ranks)";
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnOptimizer : Pass<"kiln-optimizer", "::mlir::ModuleOp"> {
  let summary = "Append the kiln.optimizer update to @grad, giving @train_step";
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnFuse : Pass<"kiln-fuse", "::mlir::ModuleOp"> {
  let summary = "Group primitives into kiln.kernel ops, one per generated kernel";
  let options = [
    Option<"enabled", "enabled", "bool", "true", "Fuse; false gives one kernel per primitive">,
  ];
}

#endif
