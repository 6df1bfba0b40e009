// Reductions: shape rules, verifiers and gradient rules.
#include "ir/Dialect.h"

using namespace mlir;

namespace kiln {
namespace {

SmallVector<int64_t> keptShape(RankedTensorType in, ArrayRef<int64_t> dims) {
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < in.getRank(); ++d)
    if (!llvm::is_contained(dims, d))
      shape.push_back(in.getDimSize(d));
  return shape;
}

SmallVector<int64_t> keptDims(int64_t rank, ArrayRef<int64_t> dims) {
  SmallVector<int64_t> kept;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(dims, d))
      kept.push_back(d);
  return kept;
}

LogicalResult verifyReduce(Operation *op, Value operand, ArrayRef<int64_t> dims) {
  auto in = llvm::cast<RankedTensorType>(operand.getType());
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0 || dims[i] >= in.getRank())
      return op->emitOpError() << "dimension " << dims[i] << " is outside the operand rank " << in.getRank();
    if (i > 0 && dims[i] <= dims[i - 1])
      return op->emitOpError() << "dimensions must be strictly increasing";
  }
  return success();
}

// Broadcasts the reduced-shape gradient back over the reduced dimensions.
Value spreadBack(OpBuilder &b, Location loc, Value g, Value operand, ArrayRef<int64_t> dims) {
  auto in = llvm::cast<RankedTensorType>(operand.getType());
  return BroadcastInDimOp::create(b, loc, g, b.getDenseI64ArrayAttr(keptDims(in.getRank(), dims)),
                                  b.getDenseI64ArrayAttr(in.getShape()));
}

} // namespace

LogicalResult ReduceSumOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getOperand().getType());
  types.push_back(tensorOf(in.getElementType(), keptShape(in, adaptor.getDimensions())));
  return success();
}

LogicalResult ReduceMeanOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getOperand().getType());
  types.push_back(tensorOf(in.getElementType(), keptShape(in, adaptor.getDimensions())));
  return success();
}

LogicalResult ReduceMaxOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getOperand().getType());
  types.push_back(tensorOf(in.getElementType(), keptShape(in, adaptor.getDimensions())));
  return success();
}

LogicalResult ReduceMaxOp::verify() { return verifyReduce(*this, getOperand(), getDimensions()); }

// d max(x) = dy / k at each of the k elements equal to the maximum, 0 elsewhere
SmallVector<Value> ReduceMaxOp::gradient(OpBuilder &b, ValueRange g) {
  Location loc = getLoc();
  auto in = llvm::cast<RankedTensorType>(getOperand().getType());
  Value zero = splat(b, loc, in, 0.0), one = splat(b, loc, in, 1.0);
  Value isMax =
      CompareOp::create(b, loc, getOperand(), spreadBack(b, loc, getResult(), getOperand(), getDimensions()), "EQ");
  Value ties =
      ReduceSumOp::create(b, loc, SelectOp::create(b, loc, isMax, one, zero), b.getDenseI64ArrayAttr(getDimensions()));
  Value share = DivOp::create(b, loc, g[0], ties);
  return {SelectOp::create(b, loc, isMax, spreadBack(b, loc, share, getOperand(), getDimensions()), zero)};
}

LogicalResult ReduceSumOp::verify() { return verifyReduce(*this, getOperand(), getDimensions()); }
LogicalResult ReduceMeanOp::verify() { return verifyReduce(*this, getOperand(), getDimensions()); }

// d sum(x) = broadcast(dy)
SmallVector<Value> ReduceSumOp::gradient(OpBuilder &b, ValueRange g) {
  return {spreadBack(b, getLoc(), g[0], getOperand(), getDimensions())};
}

// d mean(x) = broadcast(dy) / n, n = number of elements reduced
SmallVector<Value> ReduceMeanOp::gradient(OpBuilder &b, ValueRange g) {
  auto in = llvm::cast<RankedTensorType>(getOperand().getType());
  int64_t n = 1;
  for (int64_t d : getDimensions())
    n *= in.getDimSize(d);
  Value spread = spreadBack(b, getLoc(), g[0], getOperand(), getDimensions());
  return {MulOp::create(b, getLoc(), spread, splat(b, getLoc(), in, 1.0 / double(n)))};
}

namespace {
// The dimensions a reduction keeps, in order.
void linkKept(Value operand, ArrayRef<int64_t> reduced, Value result, SameDimension same) {
  int64_t j = 0;
  for (int64_t i = 0; i < int64_t(shapeOf(operand).size()); ++i)
    if (!llvm::is_contained(reduced, i))
      same(operand, i, result, j++);
}
} // namespace

void ReduceSumOp::linkDimensions(SameDimension same) { linkKept(getOperand(), getDimensions(), getResult(), same); }
void ReduceMeanOp::linkDimensions(SameDimension same) { linkKept(getOperand(), getDimensions(), getResult(), same); }
void ReduceMaxOp::linkDimensions(SameDimension same) { linkKept(getOperand(), getDimensions(), getResult(), same); }

} // namespace kiln
