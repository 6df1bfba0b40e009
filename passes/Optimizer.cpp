// Appends the optimizer's update to the gradient function, giving the train step.
//
// Expects: gradient functions from kiln-autodiff (@grad, @grad_tail, ...) and a module attribute
//   kiln.optimizer = {name = "sgd", momentum = 0.9, dampening = 0.0, nesterov = false,
//                     weight_decay = 0.0}
// (missing entries take PyTorch's defaults; a missing attribute means plain SGD).
// Produces for each @grad<suffix> a @train_step<suffix>(params..., state..., inputs..., lr,
// step) -> (loss, outputs..., new params..., new state...) with kiln.role = "train", each new
// value tagged `kiln.update_of`. Every train step shares the same state names, so the runtime
// keeps one copy of the state for all of them.
// The learning rate and the step count t = 1, 2, ... are runtime tensor<f32> inputs, so a
// schedule needs no recompile. @grad is inlined and erased.
#include "ir/Dialect.h"
#include "ir/Roles.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_KILNOPTIMIZER
#include "passes/Passes.h.inc"
} // namespace kiln

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
  Value param, grad, lr, step; // lr and step already broadcast to the param's shape
  SmallVector<Value> state;    // in the order of the rule's stateNames
};

// A setting an optimizer takes, and the values PyTorch's constructor accepts for it.
struct Setting {
  StringRef key;
  enum Range { flag, number, atLeastZero, unitClosed, unitOpen } range;
};

struct UpdateRule {
  StringRef name;
  SmallVector<std::string> (*stateNames)(const Hyper &);
  // Returns the new param followed by the new state.
  SmallVector<Value> (*update)(OpBuilder &, Location, const Hyper &, const Slot &);
  ArrayRef<Setting> settings;
};

const Setting sgdSettings[] = {{"momentum", Setting::atLeastZero},
                               {"dampening", Setting::number},
                               {"weight_decay", Setting::atLeastZero},
                               {"nesterov", Setting::flag}};
const Setting adagradSettings[] = {{"lr_decay", Setting::atLeastZero},
                                   {"weight_decay", Setting::atLeastZero},
                                   {"initial_accumulator_value", Setting::atLeastZero},
                                   {"eps", Setting::atLeastZero}};
const Setting adadeltaSettings[] = {
    {"rho", Setting::unitClosed}, {"eps", Setting::atLeastZero}, {"weight_decay", Setting::atLeastZero}};
const Setting rmspropSettings[] = {{"alpha", Setting::atLeastZero},
                                   {"eps", Setting::atLeastZero},
                                   {"weight_decay", Setting::atLeastZero},
                                   {"momentum", Setting::atLeastZero},
                                   {"centered", Setting::flag}};
const Setting adamSettings[] = {{"beta1", Setting::unitOpen},
                                {"beta2", Setting::unitOpen},
                                {"eps", Setting::atLeastZero},
                                {"weight_decay", Setting::atLeastZero},
                                {"amsgrad", Setting::flag}};

// Small builders so that each rule below reads like PyTorch's update.
struct Ops {
  OpBuilder &b;
  Location loc;
  RankedTensorType type;

  Value c(double v) { return splat(b, loc, type, v); }
  Value add(Value x, Value y) { return AddOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return SubOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return MulOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return DivOp::create(b, loc, x, y); }
  Value sqrt(Value x) { return SqrtOp::create(b, loc, x); }
  Value max(Value x, Value y) { return MaxOp::create(b, loc, x, y); }
  Value scale(Value x, double k) { return mul(c(k), x); }
  Value first(Value step) { return CompareOp::create(b, loc, step, c(1.0), "EQ"); }
  Value select(Value m, Value x, Value y) { return SelectOp::create(b, loc, m, x, y); }
  // 1 - beta^t, with t the runtime step count, to float precision. With c = t ln(beta),
  // 1 - exp(c) loses most digits to cancellation when c is near 0 (t = 1, beta = 0.999 leaves
  // a relative error of 6e-5); there the Taylor series of -expm1(c) is used instead, exact to
  // float rounding for |c| < 0.1.
  Value biasCorrection(Value step, double beta) {
    Value c = scale(step, std::log(beta));
    Value series = this->c(1.0 / 120.0);
    for (double coefficient : {1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0})
      series = add(this->c(coefficient), mul(c, series));
    series = mul(NegOp::create(b, loc, c), series);
    Value direct = sub(this->c(1.0), ExpOp::create(b, loc, c));
    Value nearZero = CompareOp::create(b, loc, c, this->c(-0.1), "GT");
    return select(nearZero, series, direct);
  }
  // g + weight_decay * p (PyTorch's coupled L2 penalty)
  Value decayed(Value g, Value p, double decay) { return decay == 0.0 ? g : add(g, scale(p, decay)); }
};

SmallVector<std::string> names(std::initializer_list<std::pair<const char *, bool>> wanted) {
  SmallVector<std::string> out;
  for (auto [name, on] : wanted)
    if (on)
      out.push_back(name);
  return out;
}

// torch.optim.SGD:
//   g = grad + weight_decay * p
//   buf = g at t = 1, else momentum * buf + (1 - dampening) * g
//   g = nesterov ? g + momentum * buf : buf
//   p = p - lr * g
const UpdateRule sgd = {"sgd",
                        [](const Hyper &h) { return names({{"momentum_buffer", h.get("momentum", 0.0) != 0.0}}); },
                        [](OpBuilder &b, Location loc, const Hyper &h, const Slot &s) {
                          Ops o{b, loc, llvm::cast<RankedTensorType>(s.param.getType())};
                          double momentum = h.get("momentum", 0.0), dampening = h.get("dampening", 0.0);
                          Value g = o.decayed(s.grad, s.param, h.get("weight_decay", 0.0));
                          SmallVector<Value> out = {Value()};
                          if (momentum != 0.0) {
                            Value later = o.add(o.scale(s.state[0], momentum), o.scale(g, 1.0 - dampening));
                            Value buf = o.select(o.first(s.step), g, later);
                            g = h.flag("nesterov") ? o.add(g, o.scale(buf, momentum)) : buf;
                            out.push_back(buf);
                          }
                          out[0] = o.sub(s.param, o.mul(s.lr, g));
                          return out;
                        },
                        sgdSettings};

// torch.optim.Adagrad:
//   g = grad + weight_decay * p;  clr = lr / (1 + (t - 1) lr_decay)
//   sum = sum + g^2 (sum starts at initial_accumulator_value)
//   p = p - clr * g / (sqrt(sum) + eps)
const UpdateRule adagrad = {
    "adagrad", [](const Hyper &) { return names({{"sum", true}}); },
    [](OpBuilder &b, Location loc, const Hyper &h, const Slot &s) {
      Ops o{b, loc, llvm::cast<RankedTensorType>(s.param.getType())};
      Value g = o.decayed(s.grad, s.param, h.get("weight_decay", 0.0));
      double decay = h.get("lr_decay", 0.0);
      Value clr = decay == 0.0 ? s.lr : o.div(s.lr, o.add(o.c(1.0), o.scale(o.sub(s.step, o.c(1.0)), decay)));
      Value previous = o.select(o.first(s.step), o.c(h.get("initial_accumulator_value", 0.0)), s.state[0]);
      Value sum = o.add(previous, o.mul(g, g));
      Value std = o.add(o.sqrt(sum), o.c(h.get("eps", 1e-10)));
      return SmallVector<Value>{o.sub(s.param, o.mul(clr, o.div(g, std))), sum};
    },
    adagradSettings};

// torch.optim.Adadelta:
//   g = grad + weight_decay * p
//   v = rho v + (1 - rho) g^2;  delta = sqrt(u + eps) / sqrt(v + eps) * g
//   u = rho u + (1 - rho) delta^2;  p = p - lr * delta
const UpdateRule adadelta = {"adadelta",
                             [](const Hyper &) { return names({{"square_avg", true}, {"acc_delta", true}}); },
                             [](OpBuilder &b, Location loc, const Hyper &h, const Slot &s) {
                               Ops o{b, loc, llvm::cast<RankedTensorType>(s.param.getType())};
                               double rho = h.get("rho", 0.9), eps = h.get("eps", 1e-6);
                               Value g = o.decayed(s.grad, s.param, h.get("weight_decay", 0.0));
                               Value v = o.add(o.scale(s.state[0], rho), o.scale(o.mul(g, g), 1.0 - rho));
                               Value std = o.sqrt(o.add(v, o.c(eps)));
                               Value delta = o.mul(o.div(o.sqrt(o.add(s.state[1], o.c(eps))), std), g);
                               Value u = o.add(o.scale(s.state[1], rho), o.scale(o.mul(delta, delta), 1.0 - rho));
                               return SmallVector<Value>{o.sub(s.param, o.mul(s.lr, delta)), v, u};
                             },
                             adadeltaSettings};

// torch.optim.RMSprop:
//   g = grad + weight_decay * p;  v = alpha v + (1 - alpha) g^2
//   centered: m = alpha m + (1 - alpha) g; avg = sqrt(v - m^2) + eps, else avg = sqrt(v) + eps
//   momentum: buf = momentum buf + g / avg; p = p - lr buf, else p = p - lr g / avg
const UpdateRule rmsprop = {
    "rmsprop",
    [](const Hyper &h) {
      return names(
          {{"square_avg", true}, {"momentum_buffer", h.get("momentum", 0.0) > 0.0}, {"grad_avg", h.flag("centered")}});
    },
    [](OpBuilder &b, Location loc, const Hyper &h, const Slot &s) {
      Ops o{b, loc, llvm::cast<RankedTensorType>(s.param.getType())};
      double alpha = h.get("alpha", 0.99), eps = h.get("eps", 1e-8), momentum = h.get("momentum", 0.0);
      Value g = o.decayed(s.grad, s.param, h.get("weight_decay", 0.0));
      Value v = o.add(o.scale(s.state[0], alpha), o.scale(o.mul(g, g), 1.0 - alpha));
      unsigned next = 1;
      Value bufIn = momentum > 0.0 ? s.state[next++] : Value();
      Value meanIn = h.flag("centered") ? s.state[next++] : Value();
      Value mean, avg;
      if (meanIn) {
        mean = o.add(o.scale(meanIn, alpha), o.scale(g, 1.0 - alpha));
        avg = o.add(o.sqrt(o.sub(v, o.mul(mean, mean))), o.c(eps));
      } else {
        avg = o.add(o.sqrt(v), o.c(eps));
      }
      SmallVector<Value> out = {Value(), v};
      if (bufIn) {
        Value buf = o.add(o.scale(bufIn, momentum), o.div(g, avg));
        out.push_back(buf);
        out[0] = o.sub(s.param, o.mul(s.lr, buf));
      } else {
        out[0] = o.sub(s.param, o.mul(s.lr, o.div(g, avg)));
      }
      if (mean)
        out.push_back(mean);
      return out;
    },
    rmspropSettings};

// torch.optim.Adam (and AdamW, whose weight decay is decoupled: p = p (1 - lr wd) first):
//   g = grad + weight_decay * p  (Adam only)
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  amsgrad: vmax = max(vmax, v)
//   p = p - lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps)
SmallVector<Value> adamUpdate(OpBuilder &b, Location loc, const Hyper &h, const Slot &s, bool decoupled) {
  Ops o{b, loc, llvm::cast<RankedTensorType>(s.param.getType())};
  double b1 = h.get("beta1", 0.9), b2 = h.get("beta2", 0.999), eps = h.get("eps", 1e-8);
  double decay = h.get("weight_decay", decoupled ? 1e-2 : 0.0);
  Value p = s.param, g = s.grad;
  if (decoupled && decay != 0.0)
    p = o.mul(p, o.sub(o.c(1.0), o.scale(s.lr, decay)));
  else
    g = o.decayed(g, p, decay);
  Value m = o.add(o.scale(s.state[0], b1), o.scale(g, 1.0 - b1));
  Value v = o.add(o.scale(s.state[1], b2), o.scale(o.mul(g, g), 1.0 - b2));
  SmallVector<Value> out = {Value(), m, v};
  Value second = v;
  if (h.flag("amsgrad")) {
    second = o.max(s.state[2], v);
    out.push_back(second);
  }
  Value stepSize = o.div(s.lr, o.biasCorrection(s.step, b1));
  Value denom = o.add(o.div(o.sqrt(second), o.sqrt(o.biasCorrection(s.step, b2))), o.c(eps));
  out[0] = o.sub(p, o.mul(stepSize, o.div(m, denom)));
  return out;
}

SmallVector<std::string> adamState(const Hyper &h) {
  return names({{"exp_avg", true}, {"exp_avg_sq", true}, {"max_exp_avg_sq", h.flag("amsgrad")}});
}

const UpdateRule adam = {"adam", adamState,
                         [](OpBuilder &b, Location loc, const Hyper &h, const Slot &s) {
                           return adamUpdate(b, loc, h, s, /*decoupled=*/false);
                         },
                         adamSettings};
const UpdateRule adamw = {"adamw", adamState,
                          [](OpBuilder &b, Location loc, const Hyper &h, const Slot &s) {
                            return adamUpdate(b, loc, h, s, /*decoupled=*/true);
                          },
                          adamSettings};

std::string number(double v) { return llvm::formatv("{0}", llvm::format("%g", v)).str(); }

// A setting's value as a person wrote it: 0.9, -1, true, "fast".
std::string shown(Attribute a) {
  if (auto f = llvm::dyn_cast<FloatAttr>(a))
    return number(f.getValueAsDouble());
  if (auto b = llvm::dyn_cast<BoolAttr>(a))
    return b.getValue() ? "true" : "false";
  if (auto i = llvm::dyn_cast<IntegerAttr>(a))
    return std::to_string(i.getInt());
  std::string text;
  llvm::raw_string_ostream(text) << a;
  return text;
}

// The optimizer's settings as PyTorch's constructor checks them: each key one the optimizer
// takes, a flag true or false, a number finite and in its range; nesterov needs a momentum and
// no dampening. Errors name the setting, its value and what is accepted.
LogicalResult checkSettings(ModuleOp module, const UpdateRule &rule, const Hyper &h) {
  auto fail = [&](StringRef key) {
    return module.emitError("kiln-optimizer: ") << rule.name << "'s setting '" << key << "' ";
  };
  for (NamedAttribute a : h.dict ? h.dict.getValue() : ArrayRef<NamedAttribute>()) {
    StringRef key = a.getName().getValue();
    if (key == optimizer_key::name)
      continue;
    const Setting *s = llvm::find_if(rule.settings, [&](const Setting &s) { return s.key == key; });
    if (s == rule.settings.end()) {
      std::string valid;
      for (const Setting &t : rule.settings)
        valid += (valid.empty() ? "" : ", ") + t.key.str();
      return module.emitError("kiln-optimizer: '")
             << key << "' is not a setting of " << rule.name << "; its settings are " << valid;
    }
    if (s->range == Setting::flag) {
      if (!llvm::isa<BoolAttr>(a.getValue()))
        return fail(key) << "is " << shown(a.getValue()) << ": it must be true or false";
      continue;
    }
    std::optional<double> v;
    if (auto f = llvm::dyn_cast<FloatAttr>(a.getValue()))
      v = f.getValueAsDouble();
    else if (auto i = llvm::dyn_cast<IntegerAttr>(a.getValue()); i && !llvm::isa<BoolAttr>(a.getValue()))
      v = double(i.getInt());
    if (!v)
      return fail(key) << "is " << shown(a.getValue()) << ": it must be a number";
    const char *accepted = s->range == Setting::number        ? "a finite number"
                           : s->range == Setting::atLeastZero ? "a number >= 0"
                           : s->range == Setting::unitClosed  ? "a number in [0, 1]"
                                                              : "a number in [0, 1)";
    bool ok =
        std::isfinite(*v) &&
        (s->range == Setting::number ||
         (*v >= 0 && (s->range == Setting::atLeastZero || *v < 1 || (s->range == Setting::unitClosed && *v == 1))));
    if (!ok)
      return fail(key) << "is " << shown(a.getValue()) << ": PyTorch accepts " << accepted;
  }
  if (rule.name == "sgd" && h.flag("nesterov") && (h.get("momentum", 0.0) <= 0 || h.get("dampening", 0.0) != 0))
    return module.emitError("kiln-optimizer: sgd's nesterov needs a momentum above 0 and zero dampening, as "
                            "PyTorch's does (momentum ")
           << number(h.get("momentum", 0.0)) << ", dampening " << number(h.get("dampening", 0.0)) << ")";
  return success();
}

// The model's learning rate (kiln.train's lr), where it has one: a finite number >= 0.
LogicalResult checkLearningRate(ModuleOp module) {
  auto train = module->getAttrOfType<DictionaryAttr>(attr::train);
  Attribute lr = train ? train.get(setting::lr) : Attribute();
  if (!lr)
    return success();
  std::optional<double> v;
  if (auto f = llvm::dyn_cast<FloatAttr>(lr))
    v = f.getValueAsDouble();
  else if (auto i = llvm::dyn_cast<IntegerAttr>(lr); i && !llvm::isa<BoolAttr>(lr))
    v = double(i.getInt());
  if (!v || !std::isfinite(*v) || *v < 0)
    return module.emitError("kiln-optimizer: the learning rate (")
           << attr::train << "'s " << setting::lr << ") is " << shown(lr) << ": PyTorch accepts a number >= 0";
  return success();
}

const UpdateRule *findRule(StringRef name) {
  static const UpdateRule *rules[] = {&sgd, &adagrad, &adadelta, &rmsprop, &adam, &adamw};
  for (const UpdateRule *r : rules)
    if (r->name == name)
      return r;
  return nullptr;
}

struct OptimizerPass : impl::KilnOptimizerBase<OptimizerPass> {

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> grads;
    for (auto f : module.getOps<func::FuncOp>())
      if (roleOf(f) == FunctionRole::grad)
        grads.push_back(f);
    if (grads.empty()) {
      module.emitError("kiln-optimizer: no func.func @grad (run kiln-autodiff first)");
      return signalPassFailure();
    }
    Hyper hyper{module->getAttrOfType<DictionaryAttr>(attr::optimizer)};
    StringRef name = "sgd";
    if (hyper.dict) {
      auto n = hyper.dict.getAs<StringAttr>(optimizer_key::name);
      if (!n) {
        module.emitError("kiln-optimizer: ") << attr::optimizer << " has no string '" << optimizer_key::name << "'";
        return signalPassFailure();
      }
      name = n.getValue();
    }
    const UpdateRule *rule = findRule(name);
    if (!rule) {
      module.emitError("kiln-optimizer: unknown optimizer '")
          << name << "'; kiln has sgd, adagrad, adadelta, rmsprop, adam and adamw";
      return signalPassFailure();
    }
    if (failed(checkSettings(module, *rule, hyper)) || failed(checkLearningRate(module)))
      return signalPassFailure();
    for (func::FuncOp grad : grads) {
      if (grad.isExternal()) {
        grad.emitError("kiln-optimizer: @") << grad.getName() << " has no body";
        return signalPassFailure();
      }
      buildTrainStep(grad, derivedName(grad.getName(), "grad", "train_step"), *rule, hyper);
      grad.erase();
    }
  }

  // The arguments of @grad by role: params, and the inputs (everything else).
  struct GradArguments {
    SmallVector<unsigned> params, inputs;
  };

  // The train step's signature: params, state (per param, per name), inputs, lr, step; and
  // the forward results, then the new params and the new state.
  struct Signature {
    SmallVector<Type> argTypes, resultTypes;
    SmallVector<DictionaryAttr> argAttrs;
  };

  // @grad inlined into the train step: its results there, and the arguments the updates read.
  struct Inlined {
    SmallVector<Value> forwardResults, grads;
    unsigned stateBase = 0; // the first state argument
    Value lr, step;
    func::ReturnOp gradReturn;
  };

  void buildTrainStep(func::FuncOp grad, std::string name, const UpdateRule &rule, const Hyper &hyper) {
    FunctionType gradType = grad.getFunctionType();
    GradArguments args;
    for (unsigned i = 0; i < gradType.getNumInputs(); ++i)
      (grad.getArgAttr(i, attr::param) ? args.params : args.inputs).push_back(i);
    unsigned numForwardResults = gradType.getNumResults() - args.params.size();
    SmallVector<std::string> stateNames = rule.stateNames(hyper);
    Signature sig = trainStepSignature(grad, args, stateNames, numForwardResults);

    OpBuilder b(grad);
    b.setInsertionPointAfter(grad);
    Location loc = grad.getLoc();
    auto step = func::FuncOp::create(b, loc, name, b.getFunctionType(sig.argTypes, sig.resultTypes));
    setRole(step, FunctionRole::train);
    step.setAllArgAttrs(sig.argAttrs);
    Block *body = step.addEntryBlock();
    b.setInsertionPointToEnd(body);

    Inlined inlined = inlineGrad(b, grad, step, args, stateNames.size(), numForwardResults);
    SmallVector<Value> results = inlined.forwardResults;
    results.append(updates(b, loc, step, inlined, stateNames.size(), rule, hyper));
    func::ReturnOp::create(b, inlined.gradReturn.getLoc(), results);
    tagResults(grad, step, numForwardResults, args.params.size() * (1 + stateNames.size()));
  }

  // The train step's signature (see Signature) for @grad's arguments and `stateNames`.
  Signature trainStepSignature(func::FuncOp grad, const GradArguments &args, ArrayRef<std::string> stateNames,
                               unsigned numForwardResults) {
    MLIRContext *ctx = &getContext();
    FunctionType gradType = grad.getFunctionType();
    auto scalar = tensorOf(Float32Type::get(ctx), {});
    Signature sig;
    for (unsigned p : args.params) {
      sig.argTypes.push_back(gradType.getInput(p));
      sig.argAttrs.push_back(grad.getArgAttrDict(p));
    }
    for (unsigned p : args.params)
      for (const std::string &s : stateNames) {
        sig.argTypes.push_back(gradType.getInput(p));
        auto paramName = grad.getArgAttrOfType<StringAttr>(p, attr::param).getValue();
        sig.argAttrs.push_back(DictionaryAttr::get(
            ctx, {NamedAttribute(StringAttr::get(ctx, attr::state), StringAttr::get(ctx, paramName + "." + s))}));
      }
    for (unsigned i : args.inputs) {
      sig.argTypes.push_back(gradType.getInput(i));
      sig.argAttrs.push_back(grad.getArgAttrDict(i));
    }
    for (StringRef role : {attr::lr, attr::step}) {
      sig.argTypes.push_back(scalar);
      sig.argAttrs.push_back(
          DictionaryAttr::get(ctx, {NamedAttribute(StringAttr::get(ctx, role), UnitAttr::get(ctx))}));
    }
    for (unsigned r = 0; r < numForwardResults; ++r)
      sig.resultTypes.push_back(gradType.getResult(r));
    for (unsigned k = 0; k < args.params.size() * (1 + stateNames.size()); ++k)
      sig.resultTypes.push_back(sig.argTypes[k]);
    return sig;
  }

  // Clones @grad's body (all but its return) into the train step at `b`.
  static Inlined inlineGrad(OpBuilder &b, func::FuncOp grad, func::FuncOp step, const GradArguments &args,
                            size_t numStateNames, unsigned numForwardResults) {
    Inlined inlined;
    IRMapping map;
    unsigned next = 0;
    for (unsigned p : args.params)
      map.map(grad.getArgument(p), step.getArgument(next++));
    inlined.stateBase = next;
    next += args.params.size() * numStateNames;
    for (unsigned i : args.inputs)
      map.map(grad.getArgument(i), step.getArgument(next++));
    inlined.lr = step.getArgument(next++);
    inlined.step = step.getArgument(next++);
    for (Operation &op : grad.getBody().front()) {
      if (auto ret = llvm::dyn_cast<func::ReturnOp>(op))
        inlined.gradReturn = ret;
      else
        b.clone(op, map);
    }
    for (auto [r, v] : llvm::enumerate(inlined.gradReturn.getOperands()))
      (r < numForwardResults ? inlined.forwardResults : inlined.grads).push_back(map.lookup(v));
    return inlined;
  }

  // Applies the update rule to each param: the new params, then the new state.
  static SmallVector<Value> updates(OpBuilder &b, Location loc, func::FuncOp step, const Inlined &inlined,
                                    size_t numStateNames, const UpdateRule &rule, const Hyper &hyper) {
    SmallVector<Value> newParams, newState;
    for (auto [k, paramGrad] : llvm::enumerate(inlined.grads)) {
      Slot slot;
      slot.param = step.getArgument(unsigned(k));
      slot.grad = paramGrad;
      auto type = llvm::cast<RankedTensorType>(slot.param.getType());
      slot.lr = broadcastScalar(b, loc, inlined.lr, type);
      slot.step = broadcastScalar(b, loc, inlined.step, type);
      for (unsigned s = 0; s < numStateNames; ++s)
        slot.state.push_back(step.getArgument(unsigned(inlined.stateBase + k * numStateNames + s)));
      SmallVector<Value> updated = rule.update(b, loc, hyper, slot);
      newParams.push_back(updated[0]);
      newState.append(updated.begin() + 1, updated.end());
    }
    newParams.append(newState);
    return newParams;
  }

  // Gives the forward results @grad's attributes, and each new value the param or state it replaces.
  static void tagResults(func::FuncOp grad, func::FuncOp step, unsigned numForwardResults, size_t numUpdates) {
    for (unsigned r = 0; r < numForwardResults; ++r)
      step.setResultAttrs(r, grad.getResultAttrDict(r));
    for (unsigned k = 0; k < numUpdates; ++k) {
      auto dict = step.getArgAttrDict(k);
      Attribute name = dict.get(attr::param) ? dict.get(attr::param) : dict.get(attr::state);
      step.setResultAttr(numForwardResults + k, attr::update_of, name);
    }
  }
};

} // namespace

} // namespace kiln
