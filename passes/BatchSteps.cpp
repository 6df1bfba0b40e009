// The train entries a run needs for its batches: the main step re-specialised to --batch (and to
// one rank's share of it under --ranks), and the step of the short last batch.
//
// PyTorch's DataLoader hands over the rows left after the full batches as one smaller batch, so
// the binary gets a train entry for it, specialised from the main one as traced, unless the model
// drops them (drop_last) or already has one. Expects the traced model; leaves every train entry
// with static shapes for the rows it will see, and kiln.ranks set when ranks > 1.
#include "passes/Passes.h"
#include "passes/SpecializeBatch.h"

#include "ir/Dialect.h"
#include "ir/Roles.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace kiln {
#define GEN_PASS_DEF_KILNBATCHSTEPS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace kiln {
namespace {

struct BatchStepsPass : impl::KilnBatchStepsBase<BatchStepsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(specialize(getOperation())))
      signalPassFailure();
  }

  LogicalResult specialize(ModuleOp module);
  LogicalResult resizeMain(ModuleOp module, func::FuncOp main, SmallVector<func::FuncOp> &train, int64_t batchRows);
  LogicalResult checkRows(ModuleOp module, int64_t rows, StringRef what);
  LogicalResult addTailStep(ModuleOp module, func::FuncOp main, ArrayRef<func::FuncOp> train, func::FuncOp asTraced,
                            int64_t batchRows);
};

LogicalResult BatchStepsPass::specialize(ModuleOp module) {
  if (ranks < 1 || dataRows < 0)
    return module.emitError("kiln-batch-steps: expected ranks >= 1 and data-rows >= 0, got ")
           << ranks.getValue() << " and " << dataRows.getValue();
  SmallVector<func::FuncOp> train;
  for (auto f : module.getOps<func::FuncOp>())
    if (roleOf(f) == FunctionRole::forward)
      train.push_back(f);
  if (train.empty())
    return batch != 0 ? module.emitError("--batch: the model has no train entry") : success();
  func::FuncOp main = train.front();
  bool batched = false;
  for (unsigned i = 0; i < main.getNumArguments(); ++i)
    batched |= bool(main.getArgAttr(i, attr::input));
  if (!batched && batch == 0 && ranks == 1)
    return success();
  FailureOr<int64_t> traced = tracedBatch(main);
  if (failed(traced))
    return failure();
  int64_t rows = *traced;
  // The entry as traced, for the short last batch's step: re-specialising the main step would
  // divide a rank's means by the ranks a second time.
  OwningOpRef<func::FuncOp> asTraced(main.clone());
  if ((batch != 0 && batch != rows) || ranks > 1) {
    if (batch != 0)
      rows = batch;
    if (failed(resizeMain(module, main, train, rows)))
      return failure();
  }
  if (ranks > 1)
    module->setAttr(attr::ranks, Builder(module.getContext()).getI64IntegerAttr(ranks));
  if (failed(checkRows(module, rows / ranks, ranks > 1 ? "each rank's share of the batch" : "the batch")))
    return failure();
  return addTailStep(module, main, train, asTraced.release(), rows);
}

// --batch and --ranks: the main step takes each rank's share of `batchRows`.
LogicalResult BatchStepsPass::resizeMain(ModuleOp module, func::FuncOp main, SmallVector<func::FuncOp> &train,
                                         int64_t batchRows) {
  if (ranks > 1)
    for (unsigned i = 0; i < main.getNumArguments(); ++i)
      if (auto buffer = main.getArgAttrOfType<StringAttr>(i, attr::buffer))
        return module.emitError("--ranks ") << ranks.getValue() << ": buffer '" << buffer.getValue()
                                            << "' (running statistics) would be updated by each rank from its own "
                                               "share of the batch; data-parallel training of models with buffers is "
                                               "not supported (BatchNorm with track_running_stats=false is)";
  if (batchRows < 0)
    return module.emitError("--batch ") << batchRows << ": the batch size must be at least 1";
  if (batchRows % ranks != 0)
    return module.emitError("--ranks ") << ranks.getValue() << ": the global batch of " << batchRows
                                        << " rows does not split evenly over " << ranks.getValue()
                                        << " ranks; choose a --batch that is a multiple of it";
  if (failed(specializeBatch(main, batchRows / ranks, ranks)))
    return failure();
  // Entries traced by hand for the old batch (a short last batch) no longer fit.
  for (func::FuncOp f : llvm::drop_begin(train))
    f.erase();
  train.resize(1);
  if (auto settings = module->getAttrOfType<DictionaryAttr>(attr::train)) {
    NamedAttrList updated(settings);
    updated.set(setting::batch, Builder(module.getContext()).getI64IntegerAttr(batchRows));
    module->setAttr(attr::train, updated.getDictionary(module.getContext()));
  }
  return success();
}

// A train step of `rows` rows meets the model's kiln.min_rows (BatchNorm over [N, C] needs two).
LogicalResult BatchStepsPass::checkRows(ModuleOp module, int64_t rows, StringRef what) {
  auto need = module->getAttrOfType<DictionaryAttr>(attr::min_rows);
  auto atLeast = need ? need.getAs<IntegerAttr>(min_rows::rows) : nullptr;
  if (!atLeast || rows >= atLeast.getInt())
    return success();
  auto why = need.getAs<StringAttr>(min_rows::why);
  return module.emitError() << what << " would train on " << rows << " row" << (rows == 1 ? "" : "s") << ", and "
                            << (why ? why.getValue() : "the model") << " (at least " << atLeast.getInt()
                            << " rows): choose another --batch, or set drop_last in the model";
}

// The short last batch's step, specialised from `asTraced` (owned here) after `main`.
LogicalResult BatchStepsPass::addTailStep(ModuleOp module, func::FuncOp main, ArrayRef<func::FuncOp> train,
                                          func::FuncOp asTraced, int64_t batchRows) {
  OwningOpRef<func::FuncOp> owned(asTraced);
  auto settings = module->getAttrOfType<DictionaryAttr>(attr::train);
  auto dropLast = settings ? settings.getAs<BoolAttr>(setting::drop_last) : nullptr;
  if (!settings || (dropLast && dropLast.getValue()))
    return success();
  const int64_t tail = dataRows > 0 ? dataRows % batchRows : 0;
  if (tail == 0)
    return success();
  if (failed(checkRows(module, tail / ranks, "the short last batch")))
    return failure();
  if (tail % ranks != 0)
    return module.emitError("--ranks ") << ranks.getValue() << ": the data's " << dataRows.getValue()
                                        << " rows leave a last batch of " << tail << " after the batches of "
                                        << batchRows << ", which does not split evenly over " << ranks.getValue()
                                        << " ranks; choose another --batch, or set drop_last in the model";
  for (func::FuncOp f : train) {
    FailureOr<int64_t> rows = tracedBatch(f);
    if (failed(rows))
      return failure();
    if (*rows == tail / ranks)
      return success();
  }
  func::FuncOp last = owned.release();
  std::string name = "forward_tail";
  if (module.lookupSymbol(name))
    name += "_" + std::to_string(tail);
  last.setName(name);
  setRole(last, FunctionRole::forward); // @forward may carry it implicitly
  module.getBody()->getOperations().insert(std::next(Block::iterator(main)), last);
  return specializeBatch(last, tail / ranks, ranks);
}

} // namespace

} // namespace kiln
