// Shape primitives: shape rules, verifiers, folds and gradient rules.
#include "ir/Dialect.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace kiln {
namespace {

RankedTensorType withShape(Value v, ArrayRef<int64_t> shape) {
  return tensorOf(llvm::cast<RankedTensorType>(v.getType()).getElementType(), shape);
}

LogicalResult checkBroadcast(function_ref<InFlightDiagnostic()> emitError, RankedTensorType operand,
                             ArrayRef<int64_t> dims, ArrayRef<int64_t> shape) {
  if ((int64_t)dims.size() != operand.getRank())
    return emitError() << "broadcast_dimensions has " << dims.size() << " entries but the operand has rank "
                       << operand.getRank();
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0 || dims[i] >= (int64_t)shape.size())
      return emitError() << "broadcast dimension " << dims[i] << " is outside the result rank " << shape.size();
    if (i > 0 && dims[i] <= dims[i - 1])
      return emitError() << "broadcast_dimensions must be strictly increasing";
    int64_t from = operand.getDimSize(i), to = shape[dims[i]];
    if (from != 1 && from != to)
      return emitError() << "cannot broadcast operand dimension " << i << " of size " << from << " to size " << to
                         << " (operand " << shapeString(operand) << ", result " << shapeString(shape) << ")";
  }
  return success();
}

} // namespace

LogicalResult BroadcastInDimOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor,
                                                 SmallVectorImpl<Type> &types) {
  types.push_back(withShape(adaptor.getOperand(), adaptor.getShape()));
  return success();
}

LogicalResult BroadcastInDimOp::verify() {
  return checkBroadcast([&] { return emitOpError(); }, llvm::cast<RankedTensorType>(getOperand().getType()),
                        getBroadcastDimensions(), getShape());
}

// A broadcast of a splat is a splat; a broadcast to the same shape is the operand.
OpFoldResult BroadcastInDimOp::fold(FoldAdaptor adaptor) {
  if (getOperand().getType() == getType())
    return getOperand();
  if (auto dense = llvm::dyn_cast_if_present<DenseElementsAttr>(adaptor.getOperand()))
    if (dense.isSplat())
      return dense.resizeSplat(llvm::cast<ShapedType>(getType()));
  return {};
}

// d broadcast(x) = sum of dy over the broadcast dimensions
SmallVector<Value> BroadcastInDimOp::gradient(OpBuilder &b, ValueRange g) {
  return {
      unbroadcast(b, getLoc(), g[0], llvm::cast<RankedTensorType>(getOperand().getType()), getBroadcastDimensions())};
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  types.push_back(withShape(adaptor.getOperand(), adaptor.getShape()));
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = llvm::cast<RankedTensorType>(getOperand().getType());
  auto out = llvm::cast<RankedTensorType>(getType());
  if (in.getNumElements() != out.getNumElements())
    return emitOpError() << "cannot reshape " << shapeString(in) << " (" << in.getNumElements() << " elements) to "
                         << shapeString(out) << " (" << out.getNumElements() << " elements)";
  return success();
}

// reshape(reshape(x)) = reshape(x); reshape to the same shape is the operand.
OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getOperand().getType() == getType())
    return getOperand();
  if (auto inner = getOperand().getDefiningOp<ReshapeOp>()) {
    getOperandMutable().assign(inner.getOperand());
    return getResult();
  }
  if (auto dense = llvm::dyn_cast_if_present<DenseElementsAttr>(adaptor.getOperand()))
    return dense.reshape(llvm::cast<ShapedType>(getType()));
  return {};
}

// d reshape(x) = reshape(dy) back to x's shape
SmallVector<Value> ReshapeOp::gradient(OpBuilder &b, ValueRange g) {
  auto in = llvm::cast<RankedTensorType>(getOperand().getType());
  return {ReshapeOp::create(b, getLoc(), g[0], b.getDenseI64ArrayAttr(in.getShape()))};
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto in = llvm::cast<RankedTensorType>(adaptor.getOperand().getType());
  SmallVector<int64_t> shape;
  for (int64_t p : adaptor.getPermutation())
    shape.push_back(p >= 0 && p < in.getRank() ? in.getDimSize(p) : 1);
  types.push_back(tensorOf(in.getElementType(), shape));
  return success();
}

LogicalResult TransposeOp::verify() {
  auto in = llvm::cast<RankedTensorType>(getOperand().getType());
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<bool> seen(in.getRank(), false);
  if ((int64_t)perm.size() != in.getRank())
    return emitOpError() << "permutation has " << perm.size() << " entries for an operand of rank " << in.getRank();
  for (int64_t p : perm) {
    if (p < 0 || p >= in.getRank() || seen[p])
      return emitOpError() << "permutation is not a permutation of 0.." << in.getRank() - 1;
    seen[p] = true;
  }
  return success();
}

// The identity permutation, or a transpose that undoes the one before it, is its operand.
OpFoldResult TransposeOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> perm = getPermutation();
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity &= perm[i] == (int64_t)i;
  if (identity)
    return getOperand();
  if (auto inner = getOperand().getDefiningOp<TransposeOp>()) {
    // Result dimension i is inner's operand dimension innerPerm[perm[i]].
    ArrayRef<int64_t> innerPerm = inner.getPermutation();
    bool composedIdentity = true;
    for (size_t i = 0; i < perm.size(); ++i)
      composedIdentity &= innerPerm[perm[i]] == int64_t(i);
    if (composedIdentity)
      return inner.getOperand();
  }
  return {};
}

// d transpose(x, p) = transpose(dy, inverse(p))
SmallVector<Value> TransposeOp::gradient(OpBuilder &b, ValueRange g) {
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[perm[i]] = i;
  return {TransposeOp::create(b, getLoc(), g[0], b.getDenseI64ArrayAttr(inverse))};
}

// A broadcast keeps the operand's dimensions it does not expand from 1.
void BroadcastInDimOp::linkDimensions(SameDimension same) {
  ArrayRef<int64_t> from = shapeOf(getOperand()), to = shapeOf(getResult());
  for (auto [i, d] : llvm::enumerate(getBroadcastDimensions()))
    if (from[i] == to[d])
      same(getOperand(), int64_t(i), getResult(), d);
}

// A reshape keeps each leading dimension whose size, and the size of everything after it,
// are unchanged: [N, 3, 4] -> [N, 12] keeps N.
void ReshapeOp::linkDimensions(SameDimension same) {
  ArrayRef<int64_t> from = shapeOf(getOperand()), to = shapeOf(getResult());
  auto product = [](ArrayRef<int64_t> s) {
    int64_t p = 1;
    for (int64_t d : s)
      p *= d;
    return p;
  };
  for (size_t k = 0; k < from.size() && k < to.size() && from[k] == to[k] &&
                     product(from.drop_front(k + 1)) == product(to.drop_front(k + 1));
       ++k)
    same(getOperand(), int64_t(k), getResult(), int64_t(k));
}

void TransposeOp::linkDimensions(SameDimension same) {
  for (auto [i, p] : llvm::enumerate(getPermutation()))
    same(getOperand(), p, getResult(), int64_t(i));
}

} // namespace kiln
