// Contractions: shape rules, verifiers and gradient rules.
#include "ir/Dialect.h"

using namespace mlir;

namespace kiln {
namespace {

// The one matmul shape rule, shared by inference and the verifier.
FailureOr<SmallVector<int64_t>> matmulShape(function_ref<InFlightDiagnostic()> emitError, RankedTensorType lhs,
                                            RankedTensorType rhs) {
  if (lhs.getRank() != 2 || rhs.getRank() != 2) {
    if (emitError)
      emitError() << "expects rank-2 operands, got lhs " << lhs << " and rhs " << rhs;
    return failure();
  }
  if (lhs.getDimSize(1) != rhs.getDimSize(0)) {
    if (emitError)
      emitError() << "inner dimensions differ: lhs " << shapeString(lhs) << " has " << lhs.getDimSize(1)
                  << " columns, rhs " << shapeString(rhs) << " has " << rhs.getDimSize(0) << " rows";
    return failure();
  }
  return SmallVector<int64_t>{lhs.getDimSize(0), rhs.getDimSize(1)};
}

Value transpose2d(OpBuilder &b, Location loc, Value v) {
  return TransposeOp::create(b, loc, v, b.getDenseI64ArrayAttr({1, 0}));
}

} // namespace

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto lhs = llvm::cast<RankedTensorType>(adaptor.getLhs().getType());
  auto rhs = llvm::cast<RankedTensorType>(adaptor.getRhs().getType());
  auto shape = matmulShape(nullptr, lhs, rhs);
  // An ill-formed product keeps a placeholder; verify() reports why.
  types.push_back(
      tensorOf(lhs.getElementType(), succeeded(shape) ? ArrayRef<int64_t>(*shape) : ArrayRef<int64_t>{0, 0}));
  return success();
}

LogicalResult MatmulOp::verify() {
  auto lhs = llvm::cast<RankedTensorType>(getLhs().getType());
  auto rhs = llvm::cast<RankedTensorType>(getRhs().getType());
  auto shape = matmulShape([&] { return emitOpError(); }, lhs, rhs);
  if (failed(shape))
    return failure();
  if (getType().getShape() != ArrayRef<int64_t>(*shape))
    return emitOpError() << "result shape " << shapeString(getType()) << " should be " << (*shape)[0] << "x"
                         << (*shape)[1];
  return success();
}

// d(A B) = dC B^T for A, A^T dC for B
SmallVector<Value> MatmulOp::gradient(OpBuilder &b, ValueRange g) {
  Location loc = getLoc();
  return {MatmulOp::create(b, loc, g[0], transpose2d(b, loc, getRhs())),
          MatmulOp::create(b, loc, transpose2d(b, loc, getLhs()), g[0])};
}

void MatmulOp::linkDimensions(SameDimension same) {
  same(getLhs(), 0, getResult(), 0);
  same(getLhs(), 1, getRhs(), 0);
  same(getRhs(), 1, getResult(), 1);
}

} // namespace kiln
