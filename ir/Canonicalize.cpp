// Dialect-wide canonicalization: elementwise ops on values that are the same everywhere, and
// products whose transposes cancel.
//
// Optimizers and losses broadcast scalars (the step count, the learning rate, constants)
// before combining them: an Adam bias correction is a chain of exp, mul and div on tensors
// that hold one value. Computing such a chain on rank-0 tensors and broadcasting its result
// once makes it a scalar computation in every kernel instead of a per-element one.
#include "ir/Dialect.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace kiln {
namespace {

// The rank-0 value a uniform operand holds: a splat constant or a broadcast of a scalar.
Value scalarOf(PatternRewriter &rewriter, Location loc, Value v) {
  if (auto b = v.getDefiningOp<BroadcastInDimOp>()) {
    Value in = b.getOperand();
    return llvm::cast<RankedTensorType>(in.getType()).getRank() == 0 ? in : Value();
  }
  if (auto c = v.getDefiningOp<ConstantOp>()) {
    auto dense = llvm::dyn_cast<DenseElementsAttr>(c.getValue());
    if (!dense || !dense.isSplat())
      return Value();
    auto scalarType = tensorOf(dense.getElementType(), {});
    return ConstantOp::create(rewriter, loc, scalarType, dense.resizeSplat(scalarType));
  }
  return Value();
}

struct HoistUniformElementwise : RewritePattern {
  explicit HoistUniformElementwise(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (!isElementwise(op))
      return failure();
    auto type = llvm::cast<RankedTensorType>(op->getResult(0).getType());
    if (type.getRank() == 0)
      return failure();
    // Only when every operand is uniform, and at least one is a broadcast (a chain of splat
    // constants alone is the folder's business).
    bool broadcast = false;
    for (Value v : op->getOperands()) {
      if (v.getDefiningOp<BroadcastInDimOp>())
        broadcast = true;
      else if (!v.getDefiningOp<ConstantOp>())
        return failure();
    }
    if (!broadcast)
      return failure();
    SmallVector<Value> scalars;
    for (Value v : op->getOperands()) {
      Value s = scalarOf(rewriter, op->getLoc(), v);
      if (!s)
        return failure();
      scalars.push_back(s);
    }
    OperationState state(op->getLoc(), op->getName(), scalars, {tensorOf(type.getElementType(), {})}, op->getAttrs());
    Operation *scalarOp = rewriter.create(state);
    rewriter.replaceOpWithNewOp<BroadcastInDimOp>(op, type, scalarOp->getResult(0), rewriter.getDenseI64ArrayAttr({}),
                                                  rewriter.getDenseI64ArrayAttr(type.getShape()));
    return success();
  }
};

// (a b)^T = b^T a^T, applied when it cancels a transpose: the weight gradient of a Linear
// layer, x^T dy, is needed as (x^T dy)^T = dy^T x, a product that reads both operands along
// their rows.
struct TransposeOfProduct : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp t, PatternRewriter &rewriter) const override {
    auto product = t.getOperand().getDefiningOp<MatmulOp>();
    if (!product || !product->hasOneUse() || t.getPermutation() != ArrayRef<int64_t>{1, 0})
      return failure();
    Value lhs = product.getLhs(), rhs = product.getRhs();
    if (!lhs.getDefiningOp<TransposeOp>() && !rhs.getDefiningOp<TransposeOp>())
      return failure();
    auto swap = rewriter.getDenseI64ArrayAttr({1, 0});
    Value rhsT = TransposeOp::create(rewriter, t.getLoc(), rhs, swap);
    Value lhsT = TransposeOp::create(rewriter, t.getLoc(), lhs, swap);
    rewriter.replaceOpWithNewOp<MatmulOp>(t, rhsT, lhsT);
    return success();
  }
};

} // namespace

void KilnDialect::getCanonicalizationPatterns(RewritePatternSet &results) const {
  results.add<HoistUniformElementwise, TransposeOfProduct>(getContext());
}

} // namespace kiln
