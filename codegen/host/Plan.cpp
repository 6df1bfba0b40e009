// Builds the step plan and the manifest from @train_step.
#include "codegen/host/Plan.h"

#include "ir/Dialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/JSON.h"

#include <map>

using namespace mlir;

namespace kiln {
namespace {

FailureOr<TensorDesc> describe(Location loc, Type type) {
  auto t = llvm::dyn_cast<RankedTensorType>(type);
  if (!t || !t.hasStaticShape())
    return emitError(loc) << "kiln codegen: expected a statically shaped tensor, got " << type;
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

llvm::json::Value toJson(Attribute a) {
  if (auto s = llvm::dyn_cast<StringAttr>(a))
    return s.getValue().str();
  if (auto b = llvm::dyn_cast<BoolAttr>(a))
    return b.getValue();
  if (auto i = llvm::dyn_cast<IntegerAttr>(a))
    return i.getInt();
  if (auto f = llvm::dyn_cast<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto d = llvm::dyn_cast<DictionaryAttr>(a)) {
    llvm::json::Object o;
    for (NamedAttribute n : d)
      o[n.getName().getValue()] = toJson(n.getValue());
    return std::move(o);
  }
  std::string s;
  llvm::raw_string_ostream os(s);
  a.print(os);
  return s;
}

const char *dtypeName(DType t) {
  return t == DType::f32 ? "f32" : t == DType::i32 ? "i32" : "i1";
}

} // namespace

FailureOr<KernelSpec> kernelFor(Operation *op) {
  KernelSpec spec;
  spec.op = op->getName().stripDialect().str();
  for (Value v : op->getOperands()) {
    auto d = describe(op->getLoc(), v.getType());
    if (failed(d))
      return failure();
    spec.inputs.push_back(*d);
  }
  auto out = describe(op->getLoc(), op->getResult(0).getType());
  if (failed(out))
    return failure();
  spec.output = *out;
  if (auto b = llvm::dyn_cast<BroadcastInDimOp>(op))
    spec.dims.assign(b.getBroadcastDimensions().begin(), b.getBroadcastDimensions().end());
  else if (auto t = llvm::dyn_cast<TransposeOp>(op))
    spec.dims.assign(t.getPermutation().begin(), t.getPermutation().end());
  else if (auto r = llvm::dyn_cast<ReduceSumOp>(op))
    spec.dims.assign(r.getDimensions().begin(), r.getDimensions().end());
  else if (auto r = llvm::dyn_cast<ReduceMeanOp>(op))
    spec.dims.assign(r.getDimensions().begin(), r.getDimensions().end());
  else if (auto r = llvm::dyn_cast<ReduceMaxOp>(op))
    spec.dims.assign(r.getDimensions().begin(), r.getDimensions().end());
  else if (auto c = llvm::dyn_cast<CompareOp>(op))
    spec.direction = c.getDirection().str();
  else if (auto c = llvm::dyn_cast<ConstantOp>(op)) {
    auto dense = llvm::dyn_cast<DenseElementsAttr>(c.getValue());
    if (!dense)
      return op->emitError("kiln codegen: constants must be dense");
    if (dense.isSplat()) {
      Type e = dense.getElementType();
      spec.values.push_back(llvm::isa<FloatType>(e)
                                ? dense.getSplatValue<APFloat>().convertToFloat()
                                : float(dense.getSplatValue<APInt>().getSExtValue()));
    } else if (llvm::isa<FloatType>(dense.getElementType())) {
      for (APFloat v : dense.getValues<APFloat>())
        spec.values.push_back(v.convertToFloat());
    } else {
      for (APInt v : dense.getValues<APInt>())
        spec.values.push_back(float(v.getSExtValue()));
    }
  }
  return spec;
}

FailureOr<StepPlan> planTrainStep(ModuleOp module) {
  auto step = module.lookupSymbol<func::FuncOp>("train_step");
  if (!step)
    return module.emitError("kiln codegen: no func.func @train_step (run the optimizer first)");
  StepPlan plan;
  llvm::DenseMap<Value, int> slot;
  auto allocate = [&](Value v, std::string name) -> FailureOr<int> {
    auto it = slot.find(v);
    if (it != slot.end())
      return it->second;
    auto d = describe(step.getLoc(), v.getType());
    if (failed(d))
      return failure();
    PlannedBuffer b{std::move(name), *d, plan.arenaBytes};
    plan.arenaBytes += (d->bytes() + 63) / 64 * 64;
    plan.buffers.push_back(b);
    return slot[v] = int(plan.buffers.size()) - 1;
  };

  llvm::json::Array tensors;
  auto record = [&](int b, StringRef role, llvm::json::Object extra = {}) {
    const PlannedBuffer &buf = plan.buffers[b];
    llvm::json::Object t{{"name", buf.name}, {"role", role.str()},
                         {"dtype", std::string(dtypeName(buf.desc.dtype))},
                         {"offset", buf.offset}};
    llvm::json::Array shape;
    for (int64_t d : buf.desc.shape)
      shape.push_back(d);
    t["shape"] = std::move(shape);
    for (auto &kv : extra)
      t[kv.first] = std::move(kv.second);
    tensors.push_back(std::move(t));
  };

  for (BlockArgument arg : step.getArguments()) {
    unsigned i = arg.getArgNumber();
    std::string role, name;
    llvm::json::Object extra;
    if (auto p = step.getArgAttrOfType<StringAttr>(i, "kiln.param")) {
      role = "param", name = p.getValue().str();
      if (auto fan = step.getArgAttrOfType<IntegerAttr>(i, "kiln.fan_in"))
        extra["fan_in"] = fan.getInt();
    } else if (auto s = step.getArgAttrOfType<StringAttr>(i, "kiln.state")) {
      role = "state", name = s.getValue().str();
    } else if (auto in = step.getArgAttrOfType<StringAttr>(i, "kiln.input")) {
      role = "input", name = in.getValue().str();
    } else if (step.getArgAttr(i, "kiln.lr")) {
      role = "lr", name = "lr";
    } else if (step.getArgAttr(i, "kiln.step")) {
      role = "step", name = "step";
    } else {
      return step.emitError("kiln codegen: argument ") << i << " has no kiln role attribute";
    }
    auto b = allocate(arg, name);
    if (failed(b))
      return failure();
    record(*b, role, std::move(extra));
  }

  std::map<std::string, int> kernelByKey;
  for (Operation &op : step.getBody().front()) {
    if (auto ret = llvm::dyn_cast<func::ReturnOp>(op)) {
      for (auto [r, v] : llvm::enumerate(ret.getOperands())) {
        auto b = allocate(v, "result" + std::to_string(r));
        if (failed(b))
          return failure();
        if (auto of = step.getResultAttrOfType<StringAttr>(r, "kiln.update_of")) {
          int target = -1;
          for (BlockArgument arg : step.getArguments()) {
            auto p = step.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "kiln.param");
            auto s = step.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "kiln.state");
            if ((p && p == of) || (s && s == of))
              target = slot[arg];
          }
          if (target < 0)
            return step.emitError("kiln codegen: update of unknown tensor ") << of;
          if (target != *b)
            plan.copies.push_back({*b, target});
          continue;
        }
        auto name = step.getResultAttrOfType<StringAttr>(r, "kiln.output");
        plan.buffers[*b].name = name ? name.getValue().str() : "output" + std::to_string(r);
        record(*b, r == 0 ? "loss" : "output");
      }
      continue;
    }
    if (op.getNumResults() != 1 || op.getDialect() != step->getContext()->getLoadedDialect<KilnDialect>())
      return op.emitError("kiln codegen: cannot lower ") << op.getName();
    auto spec = kernelFor(&op);
    if (failed(spec))
      return failure();
    auto [it, added] = kernelByKey.try_emplace(spec->key(), int(plan.kernels.size()));
    if (added) {
      spec->name = "kiln_" + spec->op + "_" + std::to_string(plan.kernels.size());
      plan.kernels.push_back(*spec);
    }
    KernelCall call{it->second, {}};
    for (Value v : op.getOperands())
      call.buffers.push_back(slot.lookup(v));
    auto out = allocate(op.getResult(0), "v" + std::to_string(plan.buffers.size()));
    if (failed(out))
      return failure();
    call.buffers.push_back(*out);
    (llvm::isa<ConstantOp>(op) ? plan.once : plan.calls).push_back(call);
  }

  llvm::json::Object manifest{{"model", "model"}, {"arena_bytes", plan.arenaBytes},
                              {"tensors", std::move(tensors)}};
  if (auto name = module->getAttrOfType<StringAttr>("kiln.model"))
    manifest["model"] = name.getValue().str();
  if (auto train = module->getAttrOfType<DictionaryAttr>("kiln.train"))
    manifest["train"] = toJson(train);
  else
    manifest["train"] = llvm::json::Object{};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(manifest));
  plan.manifest = os.str();
  return plan;
}

} // namespace kiln
