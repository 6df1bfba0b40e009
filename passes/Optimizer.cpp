// Appends the optimizer's update to the gradient function, giving the train step.
//
// Expects: @grad from kiln-autodiff and a module attribute
//   kiln.optimizer = {name = "sgd", momentum = 0.9, dampening = 0.0, nesterov = false,
//                     weight_decay = 0.0}
// (missing entries take PyTorch's defaults; a missing attribute means plain SGD).
// Produces @train_step(params..., state..., inputs..., lr, step) ->
//   (loss, outputs..., new params..., new state...), each new value tagged `kiln.update_of`.
// The learning rate and the step count t = 1, 2, ... are runtime tensor<f32> inputs, so a
// schedule needs no recompile. @grad is inlined and erased.
#include "ir/Dialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;

namespace kiln {
namespace {

struct Hyper {
  DictionaryAttr dict;
  double get(StringRef key, double fallback) const {
    if (auto f = dict ? dict.getAs<FloatAttr>(key) : nullptr)
      return f.getValueAsDouble();
    if (auto i = dict ? dict.getAs<IntegerAttr>(key) : nullptr)
      return double(i.getInt());
    return fallback;
  }
  bool flag(StringRef key) const {
    auto b = dict ? dict.getAs<BoolAttr>(key) : nullptr;
    return b && b.getValue();
  }
};

// What one parameter's update sees and produces.
struct Slot {
  Value param, grad, lr, step;     // lr and step already broadcast to the param's shape
  SmallVector<Value> state;        // in the order of the rule's stateNames
};

struct UpdateRule {
  StringRef name;
  SmallVector<std::string> (*stateNames)(const Hyper &);
  // Returns the new param followed by the new state.
  SmallVector<Value> (*update)(OpBuilder &, Location, const Hyper &, const Slot &);
};

Value scaled(OpBuilder &b, Location loc, Value v, double c) {
  return MulOp::create(b, loc, splat(b, loc, llvm::cast<RankedTensorType>(v.getType()), c), v);
}

// PyTorch's SGD (torch.optim.SGD):
//   g = grad + weight_decay * p
//   buf = g at t = 1, else momentum * buf + (1 - dampening) * g
//   g = nesterov ? g + momentum * buf : buf
//   p = p - lr * g
const UpdateRule sgd = {
    "sgd",
    [](const Hyper &h) {
      SmallVector<std::string> names;
      if (h.get("momentum", 0.0) != 0.0)
        names.push_back("momentum_buffer");
      return names;
    },
    [](OpBuilder &b, Location loc, const Hyper &h, const Slot &s) {
      double momentum = h.get("momentum", 0.0), dampening = h.get("dampening", 0.0);
      double decay = h.get("weight_decay", 0.0);
      Value g = s.grad;
      if (decay != 0.0)
        g = AddOp::create(b, loc, g, scaled(b, loc, s.param, decay));
      SmallVector<Value> out = {Value()};
      if (momentum != 0.0) {
        auto type = llvm::cast<RankedTensorType>(g.getType());
        Value decayed = scaled(b, loc, s.state[0], momentum);
        Value fresh = scaled(b, loc, g, 1.0 - dampening);
        Value later = AddOp::create(b, loc, decayed, fresh);
        Value first = CompareOp::create(b, loc, s.step, splat(b, loc, type, 1.0), "EQ");
        Value buf = SelectOp::create(b, loc, first, g, later);
        if (h.flag("nesterov")) {
          Value look = scaled(b, loc, buf, momentum);
          g = AddOp::create(b, loc, g, look);
        } else {
          g = buf;
        }
        out.push_back(buf);
      }
      Value stepSize = MulOp::create(b, loc, s.lr, g);
      out[0] = SubOp::create(b, loc, s.param, stepSize);
      return out;
    }};

const UpdateRule *findRule(StringRef name) {
  static const UpdateRule *rules[] = {&sgd};
  for (const UpdateRule *r : rules)
    if (r->name == name)
      return r;
  return nullptr;
}

struct OptimizerPass : PassWrapper<OptimizerPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(OptimizerPass)
  StringRef getName() const override { return "KilnOptimizer"; }
  StringRef getArgument() const override { return "kiln-optimizer"; }
  StringRef getDescription() const override {
    return "Append the kiln.optimizer update to @grad, giving @train_step";
  }
  void getDependentDialects(DialectRegistry &r) const override { r.insert<KilnDialect>(); }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto grad = module.lookupSymbol<func::FuncOp>("grad");
    if (!grad) {
      module.emitError("kiln-optimizer: no func.func @grad (run kiln-autodiff first)");
      return signalPassFailure();
    }
    Hyper hyper{module->getAttrOfType<DictionaryAttr>("kiln.optimizer")};
    StringRef name = "sgd";
    if (hyper.dict) {
      auto n = hyper.dict.getAs<StringAttr>("name");
      if (!n) {
        module.emitError("kiln-optimizer: kiln.optimizer has no string 'name'");
        return signalPassFailure();
      }
      name = n.getValue();
    }
    const UpdateRule *rule = findRule(name);
    if (!rule) {
      module.emitError("kiln-optimizer: unknown optimizer '") << name << "'";
      return signalPassFailure();
    }
    buildTrainStep(module, grad, *rule, hyper);
    grad.erase();
  }

  void buildTrainStep(ModuleOp module, func::FuncOp grad, const UpdateRule &rule,
                      const Hyper &hyper) {
    MLIRContext *ctx = &getContext();
    FunctionType gradType = grad.getFunctionType();
    auto scalar = tensorOf(Float32Type::get(ctx), {});
    SmallVector<unsigned> params, inputs;
    for (unsigned i = 0; i < gradType.getNumInputs(); ++i)
      (grad.getArgAttr(i, "kiln.param") ? params : inputs).push_back(i);
    unsigned numForwardResults = gradType.getNumResults() - params.size();
    SmallVector<std::string> stateNames = rule.stateNames(hyper);

    // Signature: params, state (per param, per name), inputs, lr, step.
    SmallVector<Type> argTypes, resultTypes;
    SmallVector<DictionaryAttr> argAttrs;
    for (unsigned p : params) {
      argTypes.push_back(gradType.getInput(p));
      argAttrs.push_back(grad.getArgAttrDict(p));
    }
    for (unsigned p : params)
      for (const std::string &s : stateNames) {
        argTypes.push_back(gradType.getInput(p));
        auto paramName = grad.getArgAttrOfType<StringAttr>(p, "kiln.param").getValue();
        argAttrs.push_back(DictionaryAttr::get(
            ctx, {NamedAttribute(StringAttr::get(ctx, "kiln.state"),
                                 StringAttr::get(ctx, paramName + "." + s))}));
      }
    for (unsigned i : inputs) {
      argTypes.push_back(gradType.getInput(i));
      argAttrs.push_back(grad.getArgAttrDict(i));
    }
    for (StringRef role : {"kiln.lr", "kiln.step"}) {
      argTypes.push_back(scalar);
      argAttrs.push_back(DictionaryAttr::get(
          ctx, {NamedAttribute(StringAttr::get(ctx, role), UnitAttr::get(ctx))}));
    }
    for (unsigned r = 0; r < numForwardResults; ++r)
      resultTypes.push_back(gradType.getResult(r));
    for (unsigned k = 0; k < params.size() * (1 + stateNames.size()); ++k)
      resultTypes.push_back(argTypes[k]);

    OpBuilder b(grad);
    b.setInsertionPointAfter(grad);
    Location loc = grad.getLoc();
    auto step = func::FuncOp::create(b, loc, "train_step", b.getFunctionType(argTypes, resultTypes));
    step.setAllArgAttrs(argAttrs);
    Block *body = step.addEntryBlock();
    b.setInsertionPointToEnd(body);

    // Inline @grad.
    IRMapping map;
    unsigned next = 0;
    for (unsigned p : params)
      map.map(grad.getArgument(p), step.getArgument(next++));
    unsigned stateBase = next;
    next += params.size() * stateNames.size();
    for (unsigned i : inputs)
      map.map(grad.getArgument(i), step.getArgument(next++));
    Value lr = step.getArgument(next++), t = step.getArgument(next++);
    func::ReturnOp gradReturn;
    for (Operation &op : grad.getBody().front()) {
      if (auto ret = llvm::dyn_cast<func::ReturnOp>(op))
        gradReturn = ret;
      else
        b.clone(op, map);
    }

    SmallVector<Value> results, newParams, newState;
    for (unsigned r = 0; r < numForwardResults; ++r)
      results.push_back(map.lookup(gradReturn.getOperand(r)));
    for (auto [k, p] : llvm::enumerate(params)) {
      Slot slot;
      slot.param = step.getArgument(k);
      slot.grad = map.lookup(gradReturn.getOperand(numForwardResults + k));
      auto type = llvm::cast<RankedTensorType>(slot.param.getType());
      slot.lr = broadcastScalar(b, loc, lr, type);
      slot.step = broadcastScalar(b, loc, t, type);
      for (unsigned s = 0; s < stateNames.size(); ++s)
        slot.state.push_back(step.getArgument(stateBase + k * stateNames.size() + s));
      SmallVector<Value> updated = rule.update(b, loc, hyper, slot);
      newParams.push_back(updated[0]);
      newState.append(updated.begin() + 1, updated.end());
    }
    results.append(newParams);
    results.append(newState);
    func::ReturnOp::create(b, gradReturn.getLoc(), results);

    for (unsigned r = 0; r < numForwardResults; ++r)
      step.setResultAttrs(r, grad.getResultAttrDict(r));
    for (unsigned k = 0; k < params.size() * (1 + stateNames.size()); ++k) {
      auto dict = step.getArgAttrDict(k);
      Attribute name = dict.get("kiln.param") ? dict.get("kiln.param") : dict.get("kiln.state");
      step.setResultAttr(numForwardResults + k, "kiln.update_of", name);
    }
    (void)module;
  }
};

} // namespace

std::unique_ptr<Pass> createOptimizerPass() { return std::make_unique<OptimizerPass>(); }

} // namespace kiln
