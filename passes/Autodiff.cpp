// Reverse-mode automatic differentiation as an IR pass.
//
// Expects: forward functions (@forward, and any func.func with kiln.role = "forward", such as
// @forward_tail for the short last batch) whose parameters carry `kiln.param` (the rest are
// inputs) and whose first result is the scalar f32 loss. Produces for each a gradient function
// (@grad for @forward, @grad_tail for @forward_tail; kiln.role = "grad") with the same
// arguments returning the loss, the other results unchanged, and then d loss / d param for
// every param in argument order (`kiln.grad_of` names it). Gradients are kiln ops built by each op's gradient rule, so
// later passes optimise them like the forward ops.
#include "ir/Dialect.h"
#include "ir/Roles.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

namespace kiln {
#define GEN_PASS_DEF_KILNAUTODIFF
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace kiln {
namespace {

struct AutodiffPass : impl::KilnAutodiffBase<AutodiffPass> {

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> forwards;
    for (auto f : module.getOps<func::FuncOp>())
      if (roleOf(f) == FunctionRole::forward)
        forwards.push_back(f);
    if (forwards.empty()) {
      module.emitError("kiln-autodiff: no func.func @forward to differentiate");
      return signalPassFailure();
    }
    for (func::FuncOp f : forwards)
      if (failed(differentiate(f, derivedName(f.getName(), "forward", "grad"))))
        return signalPassFailure();
  }

  LogicalResult differentiate(func::FuncOp forward, std::string gradName) {
    if (failed(checkForward(forward)))
      return failure();
    FunctionType type = forward.getFunctionType();
    SmallVector<unsigned> params;
    for (unsigned i = 0; i < type.getNumInputs(); ++i)
      if (forward.getArgAttr(i, attr::param))
        params.push_back(i);

    OpBuilder b(forward);
    func::FuncOp grad = createGradFunction(b, forward, gradName, params);
    IRMapping map;
    func::ReturnOp forwardReturn;
    SmallVector<Operation *> tape = cloneForward(b, forward, grad, map, forwardReturn);
    llvm::DenseSet<Value> active = activeValues(grad, params, tape);
    llvm::DenseMap<Value, Value> adjoint;
    Value loss = map.lookup(forwardReturn.getOperand(0));
    adjoint[loss] = splat(b, forward.getLoc(), scalarF32(), 1.0);
    if (failed(sweepBackwards(b, tape, active, adjoint)))
      return failure();
    returnGradients(b, forward, grad, params, map, forwardReturn, adjoint);
    return success();
  }

  // The loss's type: a scalar f32 tensor.
  RankedTensorType scalarF32() { return tensorOf(Float32Type::get(&getContext()), {}); }

  // Refuses a forward function autodiff cannot take: no body, dynamic or non-tensor arguments,
  // params that are not named f32 tensors, or no scalar loss first.
  LogicalResult checkForward(func::FuncOp forward) {
    if (forward.isExternal())
      return forward.emitError("kiln-autodiff: @") << forward.getName() << " has no body to differentiate";
    FunctionType type = forward.getFunctionType();
    for (unsigned i = 0; i < type.getNumInputs(); ++i) {
      auto t = llvm::dyn_cast<RankedTensorType>(type.getInput(i));
      if (!t || !t.hasStaticShape())
        return forward.emitError("kiln-autodiff: argument ")
               << i << " has type " << type.getInput(i) << "; kiln needs statically shaped tensors";
      Attribute param = forward.getArgAttr(i, attr::param);
      if (param && (!llvm::isa<StringAttr>(param) || !t.getElementType().isF32()))
        return forward.emitError("kiln-autodiff: argument ")
               << i << ": " << attr::param << " must name an f32 tensor, as in {" << attr::param
               << " = \"fc1.weight\"}";
    }
    if (type.getNumResults() == 0 || type.getResult(0) != scalarF32())
      return forward.emitError("kiln-autodiff: @forward must return the loss as tensor<f32> first");
    return success();
  }

  // The empty gradient function after `forward`: its arguments, its results and then one
  // gradient per param.
  static func::FuncOp createGradFunction(OpBuilder &b, func::FuncOp forward, const std::string &gradName,
                                         ArrayRef<unsigned> params) {
    FunctionType type = forward.getFunctionType();
    SmallVector<Type> results(type.getResults());
    for (unsigned p : params)
      results.push_back(type.getInput(p));
    b.setInsertionPointAfter(forward);
    auto grad = func::FuncOp::create(b, forward.getLoc(), gradName, b.getFunctionType(type.getInputs(), results));
    setRole(grad, FunctionRole::grad);
    grad.setAllArgAttrs(forward.getAllArgAttrs());
    return grad;
  }

  // Clones the forward computation into `grad`'s new body; returns the cloned ops (the tape)
  // and sets `forwardReturn` to the forward's return.
  static SmallVector<Operation *> cloneForward(OpBuilder &b, func::FuncOp forward, func::FuncOp grad, IRMapping &map,
                                               func::ReturnOp &forwardReturn) {
    Block *body = grad.addEntryBlock();
    for (auto [from, to] : llvm::zip(forward.getArguments(), grad.getArguments()))
      map.map(from, to);
    b.setInsertionPointToEnd(body);
    SmallVector<Operation *> tape;
    for (Operation &op : forward.getBody().front()) {
      if (auto ret = llvm::dyn_cast<func::ReturnOp>(op)) {
        forwardReturn = ret;
        continue;
      }
      tape.push_back(b.clone(op, map));
    }
    return tape;
  }

  // Values that depend on a parameter: only they need adjoints.
  static llvm::DenseSet<Value> activeValues(func::FuncOp grad, ArrayRef<unsigned> params, ArrayRef<Operation *> tape) {
    llvm::DenseSet<Value> active;
    for (unsigned p : params)
      active.insert(grad.getArgument(p));
    for (Operation *op : tape)
      if (llvm::any_of(op->getOperands(), [&](Value v) { return active.contains(v); }))
        active.insert(op->result_begin(), op->result_end());
    return active;
  }

  // Sweeps the tape backwards, accumulating adjoints by each op's gradient rule.
  static LogicalResult sweepBackwards(OpBuilder &b, ArrayRef<Operation *> tape, const llvm::DenseSet<Value> &active,
                                      llvm::DenseMap<Value, Value> &adjoint) {
    for (Operation *op : llvm::reverse(tape)) {
      SmallVector<Value> resultGrads;
      bool any = false;
      for (Value r : op->getResults()) {
        resultGrads.push_back(adjoint.lookup(r));
        any |= bool(resultGrads.back());
      }
      if (!any || !llvm::any_of(op->getOperands(), [&](Value v) { return active.contains(v); }))
        continue;
      auto rule = llvm::dyn_cast<GradientOpInterface>(op);
      if (!rule)
        return op->emitError("kiln-autodiff: no gradient rule for ") << op->getName();
      if (llvm::any_of(resultGrads, [](Value v) { return !v; }))
        return op->emitError("kiln-autodiff: multi-result ops with partial adjoints are unsupported");
      SmallVector<Value> operandGrads = rule.gradient(b, resultGrads);
      if (operandGrads.size() != op->getNumOperands())
        return op->emitError("kiln-autodiff: ") << op->getName() << " has no gradient rule";
      for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads)) {
        if (!g || !active.contains(operand))
          continue;
        Value &acc = adjoint[operand];
        acc = acc ? Value(AddOp::create(b, op->getLoc(), acc, g)) : g;
      }
    }
    return success();
  }

  // Returns the forward's results and then each param's gradient, tagging the gradients with
  // the param they belong to.
  static void returnGradients(OpBuilder &b, func::FuncOp forward, func::FuncOp grad, ArrayRef<unsigned> params,
                              IRMapping &map, func::ReturnOp forwardReturn,
                              const llvm::DenseMap<Value, Value> &adjoint) {
    FunctionType type = forward.getFunctionType();
    SmallVector<Value> returned;
    for (Value v : forwardReturn.getOperands())
      returned.push_back(map.lookup(v));
    for (unsigned p : params) {
      Value g = adjoint.lookup(grad.getArgument(p));
      if (!g) // the loss does not depend on this parameter
        g = splat(b, forward.getLoc(), llvm::cast<RankedTensorType>(type.getInput(p)), 0.0);
      returned.push_back(g);
    }
    func::ReturnOp::create(b, forwardReturn.getLoc(), returned);

    for (unsigned i = 0; i < type.getNumResults(); ++i)
      grad.setResultAttrs(i, forward.getResultAttrDict(i));
    for (auto [k, p] : llvm::enumerate(params))
      grad.setResultAttr(type.getNumResults() + k, attr::grad_of, forward.getArgAttr(p, attr::param));
  }
};

} // namespace

} // namespace kiln
