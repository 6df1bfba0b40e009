// From kiln ops to the plain kernel descriptions codegen compiles: one primitive
// (kernelFor), a kiln.kernel's region (kernelOf), and the schedule dump.
#include "codegen/host/Plan.h"

#include "ir/Dialect.h"
#include "kiln/contract.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace kiln {

FailureOr<TensorDesc> tensorDesc(Location loc, Type type) {
  auto t = llvm::dyn_cast<RankedTensorType>(type);
  if (!t || !t.hasStaticShape())
    return emitError(loc) << "kiln codegen: expected a statically shaped tensor, got " << type;
  // Kernels index with 32 bits (Halide's buffers): a larger tensor would wrap silently.
  constexpr int64_t kMaxElements = (int64_t(1) << 31) - 1;
  int64_t elements = 1;
  for (int64_t extent : t.getShape()) {
    if (extent == 0)
      return emitError(loc) << "kiln codegen: " << type << " has a dimension of size 0; kiln's tensors hold "
                            << "at least one element";
    if (elements > kMaxElements / extent)
      return emitError(loc) << "kiln codegen: " << type << " has more than " << kMaxElements
                            << " elements, the most kiln's kernels index (32 bits)";
    elements *= extent;
  }
  TensorDesc d;
  d.shape.assign(t.getShape().begin(), t.getShape().end());
  Type e = t.getElementType();
  if (e.isF32())
    d.dtype = DType::f32;
  else if (e.isInteger(1))
    d.dtype = DType::i1;
  else if (e.isInteger(32))
    d.dtype = DType::i32;
  else
    return emitError(loc) << "kiln codegen: unsupported element type " << e;
  return d;
}

std::optional<Family> familyOf(OperationName op) {
  if (op.hasTrait<OpTrait::Elementwise>())
    return Family::elementwise;
  if (op.hasTrait<OpTrait::IndexOnly>())
    return Family::indexOnly;
  if (op.hasTrait<mlir::OpTrait::ConstantLike>())
    return Family::constant;
  if (op.hasTrait<OpTrait::Reduction>())
    return Family::reduction;
  if (op.hasTrait<OpTrait::Contraction>())
    return Family::contraction;
  if (op.hasTrait<OpTrait::Pooling>())
    return Family::pooling;
  if (op.hasTrait<OpTrait::Random>())
    return Family::random;
  return std::nullopt;
}

FailureOr<KernelSpec> kernelFor(Operation *op) {
  KernelSpec spec;
  std::optional<Primitive> primitive = primitiveNamed(op->getName().stripDialect());
  std::optional<Family> family = familyOf(op->getName());
  if (!primitive || !family)
    return op->emitError("kiln codegen: no lowering for ") << op->getName();
  spec.op = *primitive;
  spec.family = *family;
  for (Value v : op->getOperands()) {
    auto d = tensorDesc(op->getLoc(), v.getType());
    if (failed(d))
      return failure();
    spec.inputs.push_back(*d);
  }
  auto out = tensorDesc(op->getLoc(), op->getResult(0).getType());
  if (failed(out))
    return failure();
  spec.output = *out;
  auto assign = [](std::vector<int64_t> &to, ArrayRef<int64_t> from) { to.assign(from.begin(), from.end()); };
  llvm::TypeSwitch<Operation *>(op)
      .Case([&](BroadcastInDimOp b) { assign(spec.dims, b.getBroadcastDimensions()); })
      .Case([&](TransposeOp t) { assign(spec.dims, t.getPermutation()); })
      .Case<ReduceSumOp, ReduceMeanOp, ReduceMaxOp>([&](auto r) { assign(spec.dims, r.getDimensions()); })
      .Case<Conv2dOp, Conv2dInputGradOp, Conv2dFilterGradOp>([&](auto c) {
        assign(spec.stride, c.getStride());
        assign(spec.padding, c.getPadding());
        assign(spec.dilation, c.getDilation());
      })
      .Case<MaxPool2dOp, MaxPool2dGradOp, AvgPool2dOp, AvgPool2dGradOp>([&](auto p) {
        assign(spec.window, p.getKernel());
        assign(spec.stride, p.getStride());
        assign(spec.padding, p.getPadding());
      })
      .Case([&](CompareOp c) { spec.direction = c.getDirection().str(); })
      .Case([&](RandomUniformOp r) { spec.stream = r.getStream(); });
  if (auto c = llvm::dyn_cast<ConstantOp>(op)) {
    auto dense = llvm::dyn_cast<DenseElementsAttr>(c.getValue());
    if (!dense)
      return op->emitError("kiln codegen: constants must be dense");
    if (dense.isSplat()) {
      Type e = dense.getElementType();
      spec.values.push_back(llvm::isa<FloatType>(e) ? dense.getSplatValue<APFloat>().convertToFloat()
                            : e.isInteger(1)        ? float(dense.getSplatValue<APInt>().getZExtValue())
                                                    : float(dense.getSplatValue<APInt>().getSExtValue()));
    } else if (llvm::isa<FloatType>(dense.getElementType())) {
      for (APFloat v : dense.getValues<APFloat>())
        spec.values.push_back(v.convertToFloat());
    } else {
      for (APInt v : dense.getValues<APInt>()) // i1 true is 1, not -1
        spec.values.push_back(float(dense.getElementType().isInteger(1) ? v.getZExtValue() : v.getSExtValue()));
    }
  }
  return spec;
}

FailureOr<FusedKernel> kernelOf(Operation *op, std::vector<int> *operandOf) {
  auto kernel = llvm::dyn_cast<KernelOp>(op);
  if (!kernel) {
    if (op->getNumResults() != 1)
      return op->emitError("kiln codegen: cannot lower ") << op->getName();
    auto spec = kernelFor(op);
    if (failed(spec))
      return failure();
    FusedKernel k = FusedKernel::of(*spec);
    k.name = std::string(mnemonic(spec->op));
    if (operandOf)
      for (unsigned i = 0; i < op->getNumOperands(); ++i)
        operandOf->push_back(int(i));
    return k;
  }
  FusedKernel k;
  k.name = kernel.getName().str();
  llvm::DenseMap<Value, int> ref;
  for (BlockArgument arg : kernel.block().getArguments()) {
    auto d = tensorDesc(kernel.getLoc(), arg.getType());
    if (failed(d))
      return failure();
    k.inputs.push_back(*d);
    ref[arg] = -int(arg.getArgNumber()) - 1;
    if (operandOf)
      operandOf->push_back(int(arg.getArgNumber()));
  }
  for (Operation &inner : kernel.block()) {
    if (auto yield = llvm::dyn_cast<YieldOp>(inner)) {
      for (Value v : yield.getValues()) {
        if (llvm::isa<BlockArgument>(v))
          return kernel.emitError("kiln codegen: a kernel output must be computed, not an input");
        k.outputs.push_back(ref.lookup(v));
      }
      continue;
    }
    if (inner.getNumResults() != 1 || llvm::isa<KernelOp>(inner))
      return inner.emitError("kiln codegen: cannot lower ") << inner.getName() << " inside a kernel";
    auto spec = kernelFor(&inner);
    if (failed(spec))
      return failure();
    // A reshape of an input is the same bytes seen with another shape: a view the caller
    // passes as one more input, instead of index arithmetic inside the kernel.
    auto reshape = llvm::dyn_cast<ReshapeOp>(inner);
    auto arg = reshape ? llvm::dyn_cast<BlockArgument>(reshape.getOperand()) : BlockArgument();
    bool yielded = llvm::any_of(inner.getUsers(), [](Operation *u) { return llvm::isa<YieldOp>(u); });
    if (operandOf && arg && !yielded) {
      ref[inner.getResult(0)] = -int(k.inputs.size()) - 1;
      k.inputs.push_back(spec->output);
      operandOf->push_back(int(arg.getArgNumber()));
      continue;
    }
    FusedKernel::Node node{*spec, {}};
    for (Value v : inner.getOperands())
      node.operands.push_back(ref.lookup(v));
    ref[inner.getResult(0)] = int(k.nodes.size());
    k.nodes.push_back(std::move(node));
  }
  return k;
}

LogicalResult annotateSchedules(ModuleOp module, Device device) {
  auto result = module.walk([&](KernelOp op) {
    std::vector<int> operandOf;
    auto kernel = kernelOf(op, &operandOf);
    if (failed(kernel))
      return WalkResult::interrupt();
    Builder b(op.getContext());
    SmallVector<Attribute> notes;
    FusedKernel flat = flattenElementwise(*kernel);
    if (flat.key() != kernel->key())
      notes.push_back(b.getStringAttr("elementwise: runs over its buffers flattened to one dimension"));
    for (const std::string &note : describeSchedule(flat, device))
      notes.push_back(b.getStringAttr(note));
    op->setAttr(attr::schedule, b.getArrayAttr(notes));
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

} // namespace kiln
