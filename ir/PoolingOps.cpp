// Pooling: shape rules, verifiers and gradient rules.
#include "ir/Dialect.h"

#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;

namespace kiln {
namespace {

// The pooled shape of an NCHW input, or an error.
FailureOr<SmallVector<int64_t>> poolShape(function_ref<InFlightDiagnostic()> emitError, ArrayRef<int64_t> input,
                                          ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
                                          ArrayRef<int64_t> padding) {
  auto fail = [&](const Twine &message) -> FailureOr<SmallVector<int64_t>> {
    if (emitError)
      emitError() << message;
    return failure();
  };
  if (input.size() != 4)
    return fail("expects an NCHW input, got " + shapeString(input));
  if (kernel.size() != 2 || stride.size() != 2 || padding.size() != 2)
    return fail("kernel, stride and padding need two values each (height, width)");
  SmallVector<int64_t> out = {input[0], input[1]};
  for (int i = 0; i < 2; ++i) {
    if (kernel[i] < 1 || stride[i] < 1)
      return fail("kernel and stride must be >= 1");
    // PyTorch's rule: a window must always hold at least one real element.
    if (padding[i] < 0 || padding[i] > kernel[i] / 2) // 2 * padding <= kernel, without overflow
      return fail("padding must be between 0 and half the kernel");
    int64_t size = input[2 + i] - (kernel[i] - 2 * padding[i]);
    if (size < 0)
      return fail("the kernel " + shapeString(kernel) + " does not fit the input " + shapeString(input));
    // A window as wide as twice its padding keeps the size: an input of 2^63 - 1 would overflow.
    std::optional<int64_t> windows = llvm::checkedAdd<int64_t>(size / stride[i], 1);
    if (!windows)
      return fail("the output size, " + Twine(size) + " / stride " + Twine(stride[i]) + " + 1, is beyond 64 bits");
    out.push_back(*windows);
  }
  return out;
}

std::function<InFlightDiagnostic()> reporter(Operation *op) {
  return [op] { return op->emitOpError(); };
}

LogicalResult checkGrad(Operation *op, Value grad, ArrayRef<int64_t> pooled) {
  if (shapeOf(grad) != pooled)
    return op->emitOpError() << "grad " << shapeString(shapeOf(grad)) << " should be the pooled shape "
                             << shapeString(pooled);
  return success();
}

SmallVector<int64_t> orPlaceholder(FailureOr<SmallVector<int64_t>> shape) {
  return succeeded(shape) ? *shape : SmallVector<int64_t>{0, 0, 0, 0};
}

} // namespace

// max_pool2d and avg_pool2d share their shape rule and verifier.
template <typename Adaptor> void inferPooled(MLIRContext *ctx, Adaptor a, SmallVectorImpl<Type> &types) {
  types.push_back(tensorOf(Float32Type::get(ctx), orPlaceholder(poolShape(nullptr, shapeOf(a.getInput()), a.getKernel(),
                                                                          a.getStride(), a.getPadding()))));
}

template <typename PoolOp> LogicalResult verifyPooled(PoolOp op) {
  auto shape = poolShape(reporter(op), shapeOf(op.getInput()), op.getKernel(), op.getStride(), op.getPadding());
  if (failed(shape))
    return failure();
  if (shapeOf(op.getResult()) != ArrayRef<int64_t>(*shape))
    return op.emitOpError() << "result shape " << shapeString(shapeOf(op.getResult())) << " should be "
                            << shapeString(*shape);
  return success();
}

LogicalResult MaxPool2dOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>, Adaptor a,
                                            SmallVectorImpl<Type> &types) {
  inferPooled(ctx, a, types);
  return success();
}

LogicalResult AvgPool2dOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>, Adaptor a,
                                            SmallVectorImpl<Type> &types) {
  inferPooled(ctx, a, types);
  return success();
}

LogicalResult MaxPool2dOp::verify() { return verifyPooled(*this); }
LogicalResult AvgPool2dOp::verify() { return verifyPooled(*this); }

LogicalResult MaxPool2dGradOp::inferReturnTypes(MLIRContext *, std::optional<Location>, Adaptor a,
                                                SmallVectorImpl<Type> &types) {
  types.push_back(a.getInput().getType());
  return success();
}

LogicalResult MaxPool2dGradOp::verify() {
  auto shape = poolShape(reporter(*this), shapeOf(getInput()), getKernel(), getStride(), getPadding());
  return failed(shape) ? failure() : checkGrad(*this, getGrad(), *shape);
}

LogicalResult AvgPool2dGradOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>, Adaptor a,
                                                SmallVectorImpl<Type> &types) {
  types.push_back(tensorOf(Float32Type::get(ctx), a.getInputShape()));
  return success();
}

LogicalResult AvgPool2dGradOp::verify() {
  auto shape = poolShape(reporter(*this), getInputShape(), getKernel(), getStride(), getPadding());
  return failed(shape) ? failure() : checkGrad(*this, getGrad(), *shape);
}

// d max_pool(x) = max_pool_grad(x, dy): each window's adjoint goes to its first maximum.
SmallVector<Value> MaxPool2dOp::gradient(OpBuilder &b, ValueRange g) {
  return {MaxPool2dGradOp::create(b, getLoc(), getInput(), g[0], getKernelAttr(), getStrideAttr(), getPaddingAttr())};
}

// Second-order gradients through max pooling are not needed for training; the empty result
// makes kiln-autodiff report the op as having no gradient rule.
SmallVector<Value> MaxPool2dGradOp::gradient(OpBuilder &, ValueRange) { return {}; }

// d avg_pool(x) = avg_pool_grad(dy): each window's adjoint spread evenly over it.
SmallVector<Value> AvgPool2dOp::gradient(OpBuilder &b, ValueRange g) {
  return {AvgPool2dGradOp::create(b, getLoc(), g[0], getKernelAttr(), getStrideAttr(), getPaddingAttr(),
                                  b.getDenseI64ArrayAttr(shapeOf(getInput())))};
}

// avg_pool_grad is linear in dy; its adjoint is avg_pool.
SmallVector<Value> AvgPool2dGradOp::gradient(OpBuilder &b, ValueRange g) {
  return {AvgPool2dOp::create(b, getLoc(), g[0], getKernelAttr(), getStrideAttr(), getPaddingAttr())};
}

void MaxPool2dOp::linkDimensions(SameDimension same) {
  same(getInput(), 0, getResult(), 0);
  same(getInput(), 1, getResult(), 1);
}

void AvgPool2dOp::linkDimensions(SameDimension same) {
  same(getInput(), 0, getResult(), 0);
  same(getInput(), 1, getResult(), 1);
}

} // namespace kiln
