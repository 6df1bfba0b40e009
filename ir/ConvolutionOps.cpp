// Convolutions: shape rules, verifiers and gradient rules. The three forms (conv2d and its
// input and filter gradients) are each other's adjoints, so every one is differentiable.
#include "ir/Dialect.h"

#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;

namespace kiln {
namespace {

// The output shape of conv2d for an NCHW input and OIHW filter, or an error message.
FailureOr<SmallVector<int64_t>> convShape(function_ref<InFlightDiagnostic()> emitError, ArrayRef<int64_t> input,
                                          ArrayRef<int64_t> filter, ArrayRef<int64_t> stride, ArrayRef<int64_t> padding,
                                          ArrayRef<int64_t> dilation) {
  auto fail = [&](const Twine &message) -> FailureOr<SmallVector<int64_t>> {
    if (emitError)
      emitError() << message;
    return failure();
  };
  if (input.size() != 4 || filter.size() != 4)
    return fail("expects an NCHW input and an OIHW filter, got " + shapeString(input) + " and " + shapeString(filter));
  if (stride.size() != 2 || padding.size() != 2 || dilation.size() != 2)
    return fail("stride, padding and dilation need two values each (height, width)");
  if (input[1] != filter[1])
    return fail("input " + shapeString(input) + " has " + Twine(input[1]) + " channels, filter " + shapeString(filter) +
                " expects " + Twine(filter[1]));
  SmallVector<int64_t> out = {input[0], filter[0]};
  for (int i = 0; i < 2; ++i) {
    if (stride[i] < 1 || dilation[i] < 1 || padding[i] < 0)
      return fail("stride and dilation must be >= 1 and padding >= 0");
    if (filter[2 + i] < 1)
      return fail("the filter " + shapeString(filter) + " has an empty window");
    // Checked: sizes and attributes as large as 2^62 are refused, not wrapped around. With a
    // span of at least 1, size / stride + 1 below cannot overflow either.
    std::optional<int64_t> span = llvm::checkedMulAdd<int64_t>(dilation[i], filter[2 + i] - 1, 1);
    std::optional<int64_t> padded = llvm::checkedMulAdd<int64_t>(2, padding[i], input[2 + i]);
    if (!span)
      return fail("the filter's span, dilation " + Twine(dilation[i]) + " x (" + Twine(filter[2 + i]) +
                  " - 1) + 1, is beyond 64 bits");
    if (!padded)
      return fail("the padded input, " + Twine(input[2 + i]) + " + 2 x padding " + Twine(padding[i]) +
                  ", is beyond 64 bits");
    int64_t size = *padded - *span;
    if (size < 0)
      return fail("the filter " + shapeString(filter) + " does not fit the padded input " + shapeString(input));
    out.push_back(size / stride[i] + 1);
  }
  return out;
}

std::function<InFlightDiagnostic()> reporter(Operation *op) {
  return [op] { return op->emitOpError(); };
}

LogicalResult checkResult(Operation *op, ArrayRef<int64_t> expected, const char *what) {
  auto actual = llvm::cast<RankedTensorType>(op->getResult(0).getType()).getShape();
  if (actual != expected)
    return op->emitOpError() << what << " " << shapeString(actual) << " should be " << shapeString(expected);
  return success();
}

} // namespace

LogicalResult Conv2dOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>, Adaptor a,
                                         SmallVectorImpl<Type> &types) {
  auto shape =
      convShape(nullptr, shapeOf(a.getInput()), shapeOf(a.getFilter()), a.getStride(), a.getPadding(), a.getDilation());
  // An ill-formed conv keeps a placeholder; verify() reports why.
  types.push_back(
      tensorOf(Float32Type::get(ctx), succeeded(shape) ? ArrayRef<int64_t>(*shape) : ArrayRef<int64_t>{0, 0, 0, 0}));
  return success();
}

LogicalResult Conv2dOp::verify() {
  auto shape =
      convShape(reporter(*this), shapeOf(getInput()), shapeOf(getFilter()), getStride(), getPadding(), getDilation());
  return failed(shape) ? failure() : checkResult(*this, *shape, "result shape");
}

LogicalResult Conv2dInputGradOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>, Adaptor a,
                                                  SmallVectorImpl<Type> &types) {
  types.push_back(tensorOf(Float32Type::get(ctx), a.getInputShape()));
  return success();
}

// Both gradient forms take the conv2d output's gradient: it must have that output's shape.
static LogicalResult verifyGradOf(Operation *op, Value grad, ArrayRef<int64_t> input, ArrayRef<int64_t> filter,
                                  ArrayRef<int64_t> stride, ArrayRef<int64_t> padding, ArrayRef<int64_t> dilation) {
  auto shape = convShape(reporter(op), input, filter, stride, padding, dilation);
  if (failed(shape))
    return failure();
  if (shapeOf(grad) != ArrayRef<int64_t>(*shape))
    return op->emitOpError() << "grad " << shapeString(shapeOf(grad)) << " should be the conv2d output "
                             << shapeString(*shape);
  return success();
}

LogicalResult Conv2dInputGradOp::verify() {
  return verifyGradOf(*this, getGrad(), getInputShape(), shapeOf(getFilter()), getStride(), getPadding(),
                      getDilation());
}

LogicalResult Conv2dFilterGradOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location>, Adaptor a,
                                                   SmallVectorImpl<Type> &types) {
  types.push_back(tensorOf(Float32Type::get(ctx), a.getFilterShape()));
  return success();
}

LogicalResult Conv2dFilterGradOp::verify() {
  return verifyGradOf(*this, getGrad(), shapeOf(getInput()), getFilterShape(), getStride(), getPadding(),
                      getDilation());
}

// y = conv(x, w):  dx = conv_input_grad(dy, w),  dw = conv_filter_grad(x, dy)
SmallVector<Value> Conv2dOp::gradient(OpBuilder &b, ValueRange g) {
  Location loc = getLoc();
  return {Conv2dInputGradOp::create(b, loc, g[0], getFilter(), getStrideAttr(), getPaddingAttr(), getDilationAttr(),
                                    b.getDenseI64ArrayAttr(shapeOf(getInput()))),
          Conv2dFilterGradOp::create(b, loc, getInput(), g[0], getStrideAttr(), getPaddingAttr(), getDilationAttr(),
                                     b.getDenseI64ArrayAttr(shapeOf(getFilter())))};
}

// dx = conv_input_grad(dy, w) is linear in dy and in w: its adjoints are
//   d dy = conv(G, w),  d w = conv_filter_grad(G, dy)
SmallVector<Value> Conv2dInputGradOp::gradient(OpBuilder &b, ValueRange g) {
  Location loc = getLoc();
  return {Conv2dOp::create(b, loc, g[0], getFilter(), getStrideAttr(), getPaddingAttr(), getDilationAttr()),
          Conv2dFilterGradOp::create(b, loc, g[0], getGrad(), getStrideAttr(), getPaddingAttr(), getDilationAttr(),
                                     b.getDenseI64ArrayAttr(shapeOf(getFilter())))};
}

// dw = conv_filter_grad(x, dy) is linear in x and in dy: its adjoints are
//   d x = conv_input_grad(dy, G),  d dy = conv(x, G)
SmallVector<Value> Conv2dFilterGradOp::gradient(OpBuilder &b, ValueRange g) {
  Location loc = getLoc();
  return {Conv2dInputGradOp::create(b, loc, getGrad(), g[0], getStrideAttr(), getPaddingAttr(), getDilationAttr(),
                                    b.getDenseI64ArrayAttr(shapeOf(getInput()))),
          Conv2dOp::create(b, loc, getInput(), g[0], getStrideAttr(), getPaddingAttr(), getDilationAttr())};
}

// The batch and the channels; spatial sizes also depend on stride and padding.
void Conv2dOp::linkDimensions(SameDimension same) {
  same(getInput(), 0, getResult(), 0);
  same(getInput(), 1, getFilter(), 1);
  same(getFilter(), 0, getResult(), 1);
}

} // namespace kiln
