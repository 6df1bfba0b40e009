// Re-specialising a traced entry to another batch size (kiln compile --batch, and the step of
// the short last batch).
//
// Shapes are static, so the batch is a number in every type. Which numbers are the batch is
// found by linking dimensions: the inputs' first dimensions are the batch; elementwise ops
// share one shape; every other op says which of its dimensions are the same through
// DimensionsOpInterface. Every dimension linked to the batch takes the new size (also in
// broadcast and reshape `shape` attributes and splat constants); the ops' verifiers then check
// the result, so a model whose batch cannot change (e.g. flattened into a feature dimension)
// is refused at the op that mixes them.
#include "passes/SpecializeBatch.h"

#include "ir/Dialect.h"
#include "kiln/contract.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/DenseMap.h"

using namespace mlir;

namespace kiln {
namespace {

// Union-find over (value, dimension) slots.
class LinkedDimensions {
public:
  unsigned slot(Value v, int64_t d) {
    auto [it, added] = base_.try_emplace(v, unsigned(parent_.size()));
    if (added)
      for (size_t i = 0; i < shapeOf(v).size(); ++i)
        parent_.push_back(unsigned(parent_.size()));
    return it->second + unsigned(d);
  }
  unsigned find(unsigned s) {
    while (parent_[s] != s)
      s = parent_[s] = parent_[parent_[s]];
    return s;
  }
  void link(Value a, int64_t i, Value b, int64_t j) { parent_[find(slot(a, i))] = find(slot(b, j)); }

private:
  llvm::DenseMap<Value, unsigned> base_;
  std::vector<unsigned> parent_;
};

bool isInput(func::FuncOp entry, unsigned i) { return bool(entry.getArgAttr(i, attr::input)); }

// One entry being re-specialised: which of its dimensions are the batch, and the rewrites that
// resize them.
class BatchSpecializer {
public:
  BatchSpecializer(func::FuncOp entry, int64_t batch) : entry(entry), batch(batch) {}

  // Links the dimensions that must stay equal, and finds the batch's class among them.
  LogicalResult linkDimensions() {
    Value first;
    for (BlockArgument arg : entry.getArguments())
      if (isInput(entry, arg.getArgNumber())) {
        if (first)
          dims.link(first, 0, arg, 0);
        first = arg;
      }
    for (Operation &op : body()) {
      if (isElementwise(&op)) {
        Value result = op.getResult(0);
        for (Value v : op.getOperands())
          for (int64_t d = 0; d < int64_t(shapeOf(v).size()); ++d)
            dims.link(v, d, result, d);
      } else if (auto linked = llvm::dyn_cast<DimensionsOpInterface>(&op)) {
        linked.linkDimensions([&](Value a, int64_t i, Value b, int64_t j) { dims.link(a, i, b, j); });
      } else if (!op.hasTrait<mlir::OpTrait::IsTerminator>()) {
        return op.emitError("cannot re-specialise '") << op.getName() << "' to another batch size";
      }
    }
    batchClass = dims.find(dims.slot(first, 0));
    return success();
  }

  // Gives every argument and result with a batch dimension its resized type (and the `shape`
  // attributes and splat constants that spell it); params and buffers cannot change.
  LogicalResult resizeTypes() {
    for (BlockArgument arg : entry.getArguments()) {
      RankedTensorType type = resized(arg);
      if (!type)
        continue;
      for (auto [key, what] : {std::pair{attr::param, "parameter "}, {attr::buffer, "buffer "}})
        if (auto name = entry.getArgAttr(arg.getArgNumber(), key))
          return entry.emitError(what) << name << " of shape " << shapeString(arg.getType())
                                       << " depends on the batch size; the batch cannot change";
      arg.setType(type);
    }
    for (Operation &op : body())
      for (Value result : op.getResults())
        if (RankedTensorType type = resized(result))
          if (failed(resizeResult(op, result, type)))
            return failure();
    return success();
  }

  // A share of a batch computes its part of the whole batch's results, so that the shares' add
  // up to them: a mean over the batch is also divided by the shares, and so is a term that does
  // not depend on the batch (a penalty on the parameters, say) where it is added to a result
  // the batch was reduced into.
  void divideIntoShares(int64_t shares) {
    llvm::DenseSet<Value> fromInputs = valuesFromInputs();
    llvm::DenseSet<Value> linear = linearInLoss(fromInputs);
    scaleBatchFreeTerms(fromInputs, linear, shares);
    scaleMeansOverBatch(shares);
  }

private:
  // The entry's one block.
  Block &body() { return entry.getBody().front(); }

  // Whether dimension `d` of `v` is the batch.
  bool isBatch(Value v, int64_t d) { return dims.find(dims.slot(v, d)) == batchClass; }

  // The value's type with every batch dimension resized; null when it has none.
  RankedTensorType resized(Value v) {
    auto type = llvm::cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape(type.getShape());
    bool changed = false;
    for (size_t d = 0; d < shape.size(); ++d)
      if (isBatch(v, int64_t(d))) {
        shape[d] = batch;
        changed = true;
      }
    return changed ? RankedTensorType::get(shape, type.getElementType()) : nullptr;
  }

  // Gives `op`'s `result` its resized `type`, and the attribute or constant that spells it.
  static LogicalResult resizeResult(Operation &op, Value result, RankedTensorType type) {
    result.setType(type);
    // The dialect's ops that take their result shape from an attribute name it `shape`.
    if (op.getAttrOfType<DenseI64ArrayAttr>("shape"))
      op.setAttr("shape", DenseI64ArrayAttr::get(op.getContext(), type.getShape()));
    if (auto constant = llvm::dyn_cast<ConstantOp>(&op)) {
      auto value = llvm::dyn_cast<DenseElementsAttr>(constant.getValue());
      if (!value || !value.isSplat())
        return op.emitError("a constant of shape ") << shapeString(value ? value.getType() : type)
                                                    << " spans the batch; only splat constants can be resized";
      constant.setValueAttr(DenseElementsAttr::get(type, value.getSplatValue<Attribute>()));
    }
    return success();
  }

  // Whether any dimension of `v` is the batch.
  bool spansBatch(Value v) {
    for (int64_t d = 0; d < int64_t(shapeOf(v).size()); ++d)
      if (isBatch(v, d))
        return true;
    return false;
  }

  // The inputs and every value computed from them.
  llvm::DenseSet<Value> valuesFromInputs() {
    llvm::DenseSet<Value> fromInputs;
    for (BlockArgument arg : entry.getArguments())
      if (isInput(entry, arg.getArgNumber()))
        fromInputs.insert(arg);
    for (Operation &op : body())
      if (llvm::any_of(op.getOperands(), [&](Value v) { return fromInputs.contains(v); }))
        for (Value r : op.getResults())
          fromInputs.insert(r);
    return fromInputs;
  }

  // The values the loss is a linear function of (through sums, differences, reductions,
  // moves, and products or quotients by values of the parameters alone): a term added there
  // is counted once per rank. A term added inside a nonlinear function (BatchNorm's eps
  // under its square root) is not a share of anything.
  llvm::DenseSet<Value> linearInLoss(const llvm::DenseSet<Value> &fromInputs) {
    llvm::DenseSet<Value> linear;
    Operation *terminator = body().getTerminator();
    if (terminator->getNumOperands() > 0)
      linear.insert(terminator->getOperand(0));
    for (Operation &op : llvm::reverse(body())) {
      if (op.getNumResults() != 1 || !linear.contains(op.getResult(0)))
        continue;
      if (llvm::isa<AddOp, SubOp, NegOp, ReduceSumOp, ReduceMeanOp, BroadcastInDimOp, ReshapeOp, TransposeOp>(op)) {
        linear.insert(op.operand_begin(), op.operand_end());
      } else if (llvm::isa<MulOp>(op)) {
        for (unsigned i = 0; i < 2; ++i)
          if (!fromInputs.contains(op.getOperand(1 - i)))
            linear.insert(op.getOperand(i));
      } else if (llvm::isa<DivOp>(op) && !fromInputs.contains(op.getOperand(1))) {
        linear.insert(op.getOperand(0));
      }
    }
    return linear;
  }

  // Divides by the shares each batch-free term added to a linear value the batch was reduced into.
  void scaleBatchFreeTerms(const llvm::DenseSet<Value> &fromInputs, const llvm::DenseSet<Value> &linear,
                           int64_t shares) {
    SmallVector<OpOperand *> batchFree;
    for (Operation &op : body())
      if (llvm::isa<AddOp, SubOp>(op) && linear.contains(op.getResult(0)) && fromInputs.contains(op.getResult(0)) &&
          !spansBatch(op.getResult(0)))
        for (OpOperand &operand : op.getOpOperands())
          if (!fromInputs.contains(operand.get()))
            batchFree.push_back(&operand);
    for (OpOperand *operand : batchFree) {
      OpBuilder b(operand->getOwner());
      Value v = operand->get();
      auto type = llvm::cast<RankedTensorType>(v.getType());
      operand->set(MulOp::create(b, v.getLoc(), v, splat(b, v.getLoc(), type, 1.0 / double(shares))));
    }
  }

  // Divides by the shares every mean taken over the batch.
  void scaleMeansOverBatch(int64_t shares) {
    SmallVector<ReduceMeanOp> overBatch;
    for (auto mean : body().getOps<ReduceMeanOp>())
      if (llvm::any_of(mean.getDimensions(), [&](int64_t d) { return isBatch(mean.getOperand(), d); }))
        overBatch.push_back(mean);
    for (ReduceMeanOp mean : overBatch) {
      OpBuilder b(mean.getContext());
      b.setInsertionPointAfter(mean);
      auto type = llvm::cast<RankedTensorType>(mean.getType());
      Value part = MulOp::create(b, mean.getLoc(), mean, splat(b, mean.getLoc(), type, 1.0 / double(shares)));
      mean.getResult().replaceAllUsesExcept(part, part.getDefiningOp());
    }
  }

  func::FuncOp entry;
  int64_t batch;
  LinkedDimensions dims;
  unsigned batchClass = 0;
};

} // namespace

FailureOr<int64_t> tracedBatch(func::FuncOp entry) {
  std::optional<int64_t> batch;
  for (BlockArgument arg : entry.getArguments()) {
    if (!isInput(entry, arg.getArgNumber()))
      continue;
    ArrayRef<int64_t> shape = shapeOf(arg);
    if (shape.empty())
      return entry.emitError("input ") << entry.getArgAttr(arg.getArgNumber(), attr::input)
                                       << " is a scalar: it has no batch dimension";
    if (batch && *batch != shape[0])
      return entry.emitError("its inputs disagree on the batch size (") << *batch << " and " << shape[0] << ")";
    batch = shape[0];
  }
  if (!batch)
    return entry.emitError("has no inputs, so no batch size");
  return *batch;
}

LogicalResult specializeBatch(func::FuncOp entry, int64_t batch, int64_t shares) {
  FailureOr<int64_t> traced = tracedBatch(entry);
  if (failed(traced))
    return failure();
  if (batch < 1)
    return entry.emitError("the batch size must be at least 1, got ") << batch;
  if (shares < 1)
    return entry.emitError("a batch cannot be split in ") << shares << " shares";
  if (*traced == batch && shares == 1)
    return success();

  BatchSpecializer specializer(entry, batch);
  if (failed(specializer.linkDimensions()) || failed(specializer.resizeTypes()))
    return failure();
  if (shares > 1)
    specializer.divideIntoShares(shares);
  Operation *terminator = entry.getBody().front().getTerminator();
  entry.setFunctionType(
      FunctionType::get(entry.getContext(), entry.getBody().front().getArgumentTypes(), terminator->getOperandTypes()));
  if (failed(mlir::verify(entry)))
    return entry.emitError("cannot be re-specialised from batch ") << *traced << " to " << batch;
  return success();
}

} // namespace kiln
