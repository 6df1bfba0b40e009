// Elementwise primitives: shape rules, verifiers, folds and gradient rules.
//
// Every op here maps equal shapes to the same shape: the result type is the first data operand's
// (generated from ElementwiseOps.td) and the Elementwise trait checks that the shapes agree.
#include "ir/Dialect.h"

using namespace mlir;

namespace kiln {
namespace {

Value zerosLike(OpBuilder &b, Location loc, Value v) {
  return splat(b, loc, llvm::cast<RankedTensorType>(v.getType()), 0.0);
}

// Folds `op(splat a, splat b)` to a splat when both operands are splat constants.
OpFoldResult foldSplats(Operation *op, function_ref<double(double, double)> fn) {
  auto a = splatValue(op->getOperand(0));
  auto b = splatValue(op->getOperand(1));
  if (!a || !b)
    return {};
  auto type = llvm::cast<ShapedType>(op->getResult(0).getType());
  return DenseElementsAttr::get(type, llvm::ArrayRef<float>(static_cast<float>(fn(*a, *b))));
}

LogicalResult sameShapes(Operation *op, ValueRange values) {
  auto first = llvm::cast<ShapedType>(values.front().getType());
  for (Value v : values.drop_front()) {
    auto t = llvm::cast<ShapedType>(v.getType());
    if (t.getShape() != first.getShape())
      return op->emitOpError() << "operand shapes differ: " << shapeString(first) << " vs " << shapeString(t);
  }
  auto result = llvm::cast<ShapedType>(op->getResult(0).getType());
  if (result.getShape() != first.getShape())
    return op->emitOpError() << "result shape " << shapeString(result) << " differs from operand shape "
                             << shapeString(first);
  return success();
}

} // namespace

LogicalResult verifySameShapes(Operation *op) { return sameShapes(op, op->getOperands()); }

LogicalResult StopGradientOp::verify() { return sameShapes(*this, getOperand()); }

// Used where a term's gradient is exactly zero in exact arithmetic (log_softmax's row maximum):
// leaving it out keeps rounding noise out of the other gradients.
SmallVector<Value> StopGradientOp::gradient(OpBuilder &, ValueRange) { return {Value()}; }

// d(a + b) = da + db
SmallVector<Value> AddOp::gradient(OpBuilder &, ValueRange g) { return {g[0], g[0]}; }

// d(a - b) = da - db
SmallVector<Value> SubOp::gradient(OpBuilder &b, ValueRange g) { return {g[0], NegOp::create(b, getLoc(), g[0])}; }

// d(a * b) = b da + a db
SmallVector<Value> MulOp::gradient(OpBuilder &b, ValueRange g) {
  return {MulOp::create(b, getLoc(), g[0], getRhs()), MulOp::create(b, getLoc(), g[0], getLhs())};
}

// d(a / b) = da / b - (a / b^2) db = da / b - (result / b) db
SmallVector<Value> DivOp::gradient(OpBuilder &b, ValueRange g) {
  Location loc = getLoc();
  Value da = DivOp::create(b, loc, g[0], getRhs());
  Value db = NegOp::create(b, loc, DivOp::create(b, loc, MulOp::create(b, loc, g[0], getResult()), getRhs()));
  return {da, db};
}

// The adjoints of max (`wins` GT) or min (LT) of a and b: each side takes g where it wins, and
// half of it where a == b (PyTorch's rule).
static SmallVector<Value> extremumGradient(OpBuilder &b, Location loc, Value lhs, Value rhs, Value g, StringRef wins) {
  Value zero = zerosLike(b, loc, g);
  Value half = MulOp::create(b, loc, g, splat(b, loc, llvm::cast<RankedTensorType>(g.getType()), 0.5));
  Value tie = CompareOp::create(b, loc, lhs, rhs, "EQ");
  Value tieShare = SelectOp::create(b, loc, tie, half, zero);
  Value lhsWins = CompareOp::create(b, loc, lhs, rhs, wins);
  Value rhsWins = CompareOp::create(b, loc, rhs, lhs, wins);
  return {SelectOp::create(b, loc, lhsWins, g, tieShare), SelectOp::create(b, loc, rhsWins, g, tieShare)};
}

// d max(a, b) = [a > b] da + [b > a] db, and half of each where a == b
SmallVector<Value> MaxOp::gradient(OpBuilder &b, ValueRange g) {
  return extremumGradient(b, getLoc(), getLhs(), getRhs(), g[0], "GT");
}

// d min(a, b) = [a < b] da + [b < a] db, and half of each where a == b
SmallVector<Value> MinOp::gradient(OpBuilder &b, ValueRange g) {
  return extremumGradient(b, getLoc(), getLhs(), getRhs(), g[0], "LT");
}

// d(-x) = -dx
SmallVector<Value> NegOp::gradient(OpBuilder &b, ValueRange g) { return {NegOp::create(b, getLoc(), g[0])}; }

// d exp(x) = exp(x) dx
SmallVector<Value> ExpOp::gradient(OpBuilder &b, ValueRange g) {
  return {MulOp::create(b, getLoc(), g[0], getResult())};
}

// d log(x) = dx / x
SmallVector<Value> LogOp::gradient(OpBuilder &b, ValueRange g) {
  return {DivOp::create(b, getLoc(), g[0], getOperand())};
}

// d sqrt(x) = dx / (2 sqrt(x))
SmallVector<Value> SqrtOp::gradient(OpBuilder &b, ValueRange g) {
  Location loc = getLoc();
  Value half = MulOp::create(b, loc, g[0], splat(b, loc, llvm::cast<RankedTensorType>(g[0].getType()), 0.5));
  return {DivOp::create(b, loc, half, getResult())};
}

// d |x| = sign(x) dx, with sign(0) = 0 (PyTorch's rule)
SmallVector<Value> AbsOp::gradient(OpBuilder &b, ValueRange g) {
  Location loc = getLoc();
  Value zero = zerosLike(b, loc, g[0]);
  Value positive = CompareOp::create(b, loc, getOperand(), zero, "GT");
  Value negative = CompareOp::create(b, loc, getOperand(), zero, "LT");
  Value minus = NegOp::create(b, loc, g[0]);
  Value inner = SelectOp::create(b, loc, negative, minus, zero);
  return {SelectOp::create(b, loc, positive, g[0], inner)};
}

// d sin(x) = cos(x) dx
SmallVector<Value> SinOp::gradient(OpBuilder &b, ValueRange g) {
  return {MulOp::create(b, getLoc(), g[0], CosOp::create(b, getLoc(), getOperand()))};
}

// d erf(x) = 2 / sqrt(pi) * exp(-x^2) dx
SmallVector<Value> ErfOp::gradient(OpBuilder &b, ValueRange g) {
  Location loc = getLoc();
  auto type = llvm::cast<RankedTensorType>(getOperand().getType());
  Value x = getOperand();
  Value gauss = ExpOp::create(b, loc, NegOp::create(b, loc, MulOp::create(b, loc, x, x)));
  Value scale = splat(b, loc, type, 1.1283791670955126); // 2 / sqrt(pi)
  return {MulOp::create(b, loc, g[0], MulOp::create(b, loc, scale, gauss))};
}

// d cos(x) = -sin(x) dx
SmallVector<Value> CosOp::gradient(OpBuilder &b, ValueRange g) {
  Value sin = SinOp::create(b, getLoc(), getOperand());
  return {NegOp::create(b, getLoc(), MulOp::create(b, getLoc(), g[0], sin))};
}

// Labels are integers: nothing to differentiate.
SmallVector<Value> OneHotOp::gradient(OpBuilder &, ValueRange) { return {Value()}; }

LogicalResult OneHotOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>, Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto labels = llvm::cast<RankedTensorType>(adaptor.getLabels().getType());
  SmallVector<int64_t> shape(labels.getShape());
  shape.push_back(adaptor.getClasses());
  types.push_back(tensorOf(Float32Type::get(ctx), shape));
  return success();
}

LogicalResult OneHotOp::verify() {
  if (getClasses() < 1)
    return emitOpError() << "needs at least one class, got " << getClasses();
  return success();
}

// A comparison is piecewise constant: no gradient flows through it.
SmallVector<Value> CompareOp::gradient(OpBuilder &, ValueRange) { return {Value(), Value()}; }

// d select(p, a, b) = select(p, da, 0) + select(p, 0, db)
SmallVector<Value> SelectOp::gradient(OpBuilder &b, ValueRange g) {
  Location loc = getLoc();
  Value zero = zerosLike(b, loc, g[0]);
  return {Value(), SelectOp::create(b, loc, getPred(), g[0], zero), SelectOp::create(b, loc, getPred(), zero, g[0])};
}

SmallVector<Value> ConstantOp::gradient(OpBuilder &, ValueRange) { return {}; }

LogicalResult CompareOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>, Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto lhs = llvm::cast<RankedTensorType>(adaptor.getLhs().getType());
  types.push_back(tensorOf(IntegerType::get(ctx, 1), lhs.getShape()));
  return success();
}

LogicalResult CompareOp::verify() {
  static const char *directions[] = {"EQ", "NE", "LT", "LE", "GT", "GE"};
  if (!llvm::is_contained(directions, getDirection()))
    return emitOpError() << "unknown direction '" << getDirection() << "'; expected EQ, NE, LT, LE, GT or GE";
  return success(); // shapes: the Elementwise trait
}

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getValue().getType());
  return success();
}

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getResult().getType())
    return emitOpError() << "value type " << getValue().getType() << " differs from result type "
                         << getResult().getType();
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

// x + 0 = x; constant splats fold.
OpFoldResult AddOp::fold(FoldAdaptor) {
  if (splatValue(getRhs()) == 0.0)
    return getLhs();
  if (splatValue(getLhs()) == 0.0)
    return getRhs();
  return foldSplats(*this, [](double a, double b) { return a + b; });
}

// x - 0 = x
OpFoldResult SubOp::fold(FoldAdaptor) {
  if (splatValue(getRhs()) == 0.0)
    return getLhs();
  return foldSplats(*this, [](double a, double b) { return a - b; });
}

// x * 1 = x (x * 0 is not folded: it must stay NaN for NaN or inf inputs)
OpFoldResult MulOp::fold(FoldAdaptor) {
  if (splatValue(getRhs()) == 1.0)
    return getLhs();
  if (splatValue(getLhs()) == 1.0)
    return getRhs();
  return foldSplats(*this, [](double a, double b) { return a * b; });
}

// x < x and x > x are false for every x, NaN included (x != x is not: NaN differs from itself).
OpFoldResult CompareOp::fold(FoldAdaptor) {
  if (getLhs() != getRhs() || (getDirection() != "LT" && getDirection() != "GT"))
    return {};
  return DenseElementsAttr::get(llvm::cast<ShapedType>(getType()), false);
}

// A predicate that is the same everywhere picks one side.
OpFoldResult SelectOp::fold(FoldAdaptor adaptor) {
  auto pred = llvm::dyn_cast_if_present<DenseElementsAttr>(adaptor.getPred());
  if (!pred || !pred.isSplat())
    return {};
  return pred.getSplatValue<bool>() ? getOnTrue() : getOnFalse();
}

// x / 1 = x
OpFoldResult DivOp::fold(FoldAdaptor) {
  if (splatValue(getRhs()) == 1.0)
    return getLhs();
  return foldSplats(*this, [](double a, double b) { return a / b; });
}

void OneHotOp::linkDimensions(SameDimension same) {
  for (int64_t i = 0; i < int64_t(shapeOf(getLabels()).size()); ++i)
    same(getLabels(), i, getResult(), i);
}

// A constant's dimensions are whatever its users need (re-specialised only when a splat).
void ConstantOp::linkDimensions(SameDimension) {}

// The value itself: one shape in and out.
void StopGradientOp::linkDimensions(SameDimension same) {
  for (int64_t d = 0; d < int64_t(shapeOf(getOperand()).size()); ++d)
    same(getOperand(), d, getResult(), d);
}

} // namespace kiln
