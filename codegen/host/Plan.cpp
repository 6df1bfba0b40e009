// Builds the step plan and the manifest from the train steps and eval functions, and prints it.
#include "codegen/host/Plan.h"

#include "ir/Dialect.h"
#include "ir/Roles.h"
#include "kiln/contract.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <limits>
#include <tuple>
#include <map>
#include <set>

using namespace mlir;

namespace kiln {
namespace {

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

// How the manifest and the plan's text spell a tensor's role or an entry's kind.
StringRef roleName(Role role) { return spelling(kRoles, role); }
StringRef kindName(EntryKind kind) { return spelling(kEntryKinds, kind); }

const char *dtypeName(DType t) { return t == DType::f32 ? "f32" : t == DType::i32 ? "i32" : "i1"; }

// KernelCall::values for every value of a function.
class ValueIds {
public:
  explicit ValueIds(func::FuncOp fn) {
    for (BlockArgument arg : fn.getArguments())
      ids[arg] = llvm::hash_combine(fn.getArgAttrDict(arg.getArgNumber()).getAsOpaquePointer(),
                                    arg.getType().getAsOpaquePointer());
    assign(fn.getBody().front());
  }
  uint64_t operator[](Value v) const { return ids.lookup(v); }

private:
  void assign(Block &block) {
    for (Operation &op : block) {
      if (auto kernel = llvm::dyn_cast<KernelOp>(op)) {
        Block &body = kernel.getBody().front();
        for (auto [arg, operand] : llvm::zip(body.getArguments(), op.getOperands()))
          ids[arg] = ids.lookup(operand);
        assign(body);
        for (auto [result, yielded] : llvm::zip(op.getResults(), body.getTerminator()->getOperands()))
          ids[result] = ids.lookup(yielded);
        continue;
      }
      for (OpResult result : op.getResults()) {
        llvm::hash_code h =
            llvm::hash_combine(op.getName().getAsOpaquePointer(), op.getAttrDictionary().getAsOpaquePointer(),
                               result.getType().getAsOpaquePointer(), result.getResultNumber());
        for (Value operand : op.getOperands())
          h = llvm::hash_combine(h, ids.lookup(operand));
        ids[result] = h;
      }
    }
  }
  llvm::DenseMap<Value, uint64_t> ids;
};

// The ops a call computes, with their DSL lines, as fusion recorded them (kiln.sources).
std::vector<std::string> sourcesOf(Operation &op) {
  std::vector<std::string> sources;
  if (auto list = op.getAttrOfType<ArrayAttr>(attr::sources))
    for (Attribute s : list)
      if (auto text = llvm::dyn_cast<StringAttr>(s))
        sources.push_back(text.getValue().str());
  if (sources.empty())
    sources.push_back(op.getName().stripDialect().str());
  return sources;
}

// Why each result of a call is written to memory rather than fused into its readers, as
// fusion recorded it (kiln.unfused); empty where it recorded nothing.
std::vector<std::string> unfusedReasons(Operation &op) {
  std::vector<std::string> reasons(op.getNumResults());
  if (auto list = op.getAttrOfType<ArrayAttr>(attr::unfused))
    for (auto [i, s] : llvm::enumerate(list))
      if (auto text = llvm::dyn_cast<StringAttr>(s); text && i < reasons.size())
        reasons[i] = text.getValue().str();
  return reasons;
}

struct Planner {
  StepPlan plan;
  llvm::json::Array tensors;
  std::map<std::string, int> kernelByKey;
  std::map<std::string, int> sharedSlots;  // params, state and buffers, by name
  std::map<std::string, Role> sharedRoles; // Param, State or Buffer, by name

  // Buffers that live across kiln_run calls (params, state, constants, each entry's inputs and
  // results) get their own slot in the persistent region. An entry's intermediates live only
  // during its run: they share one scratch region, which follows the persistent one, and slots
  // whose lifetimes do not overlap reuse the same bytes.
  struct Interval {
    int buffer, first, last; // op indices within the entry
  };

  // What the phases of planEntry share about the entry being planned.
  struct EntryState {
    EntryState(func::FuncOp fn, EntryKind kind, int index)
        : fn(fn), index(index), entry{fn.getName().str(), kind, 0, {}, {}}, ids(fn) {
      Operation *terminator = fn.getBody().front().getTerminator();
      for (Value v : terminator->getOperands())
        returned.insert(v);
      for (auto [r, v] : llvm::enumerate(terminator->getOperands()))
        if (auto of = fn.getResultAttrOfType<StringAttr>(r, attr::update_of))
          updateOf[v] = of.getValue();
    }
    func::FuncOp fn;
    int index; // the entry's number in the plan
    EntryPlan entry;
    llvm::DenseMap<Value, int> slot; // the buffer of each value planned so far
    // Results outlive the run (the runtime reads them); everything else is scratch.
    llvm::DenseSet<Value> returned;
    llvm::DenseMap<Value, Interval> lifetime; // of each scratch value
    ValueIds ids;
    int opIndex = 0; // of the kiln op being planned, from 1
    // Returned values that are the new value of a param, state or buffer, by its name.
    llvm::DenseMap<Value, StringRef> updateOf;
    std::set<std::string> inputNames;
  };
  std::vector<int> scratchBuffers;
  int64_t scratchBytes = 0;

  int64_t alignment = 64;
  int64_t rounded(int64_t bytes) const { return (bytes + alignment - 1) / alignment * alignment; }

  int allocate(std::string name, const TensorDesc &desc) {
    plan.buffers.push_back({std::move(name), desc, plan.arenaBytes});
    plan.arenaBytes += rounded(desc.bytes());
    return int(plan.buffers.size()) - 1;
  }

  // Buffer `base` seen with `desc`'s shape: itself, or a view of its bytes (a reshape).
  int view(int base, const TensorDesc &desc) {
    if (plan.buffers[base].desc.shape == desc.shape)
      return base;
    auto [it, added] = views.try_emplace({base, desc.shape}, int(plan.buffers.size()));
    if (added)
      plan.buffers.push_back({plan.buffers[base].name + ".view", desc, 0, base});
    return it->second;
  }
  std::map<std::pair<int, std::vector<int64_t>>, int> views;

  int allocateScratch(std::string name, const TensorDesc &desc) {
    plan.buffers.push_back({std::move(name), desc, 0});
    scratchBuffers.push_back(int(plan.buffers.size()) - 1);
    return int(plan.buffers.size()) - 1;
  }

  // First fit by start time: each interval takes the lowest offset not used by an interval
  // it overlaps. Offsets are relative to the scratch region until finish() moves them. Ties go
  // by buffer number, so that a model always gets the same plan (the intervals come from a map
  // ordered by pointers).
  void assignScratch(std::vector<Interval> intervals) {
    std::sort(intervals.begin(), intervals.end(), [](const Interval &a, const Interval &b) {
      return std::tie(a.first, a.buffer) < std::tie(b.first, b.buffer);
    });
    std::vector<std::pair<Interval, int64_t>> placed;
    for (const Interval &iv : intervals) {
      int64_t size = rounded(plan.buffers[iv.buffer].desc.bytes());
      std::vector<std::pair<int64_t, int64_t>> busy;
      for (auto &[other, offset] : placed)
        if (other.first <= iv.last && iv.first <= other.last)
          busy.push_back({offset, offset + rounded(plan.buffers[other.buffer].desc.bytes())});
      std::sort(busy.begin(), busy.end());
      int64_t offset = 0;
      for (auto [begin, end] : busy) {
        if (offset + size <= begin)
          break;
        offset = std::max(offset, end);
      }
      plan.buffers[iv.buffer].offset = offset;
      placed.push_back({iv, offset});
      scratchBytes = std::max(scratchBytes, offset + size);
    }
  }

  void finish() {
    for (int b : scratchBuffers)
      plan.buffers[b].offset += plan.arenaBytes;
    plan.arenaBytes += scratchBytes;
    for (PlannedBuffer &b : plan.buffers)
      if (b.viewOf >= 0)
        b.offset = plan.buffers[b.viewOf].offset;
  }

  void record(int b, Role role, std::optional<int> entry, llvm::json::Object extra = {}) {
    const PlannedBuffer &buf = plan.buffers[b];
    llvm::json::Object t{{"name", buf.name},
                         {"role", roleName(role).str()},
                         {"dtype", std::string(dtypeName(buf.desc.dtype))},
                         {"offset", buf.offset}};
    if (entry)
      t["entry"] = *entry;
    llvm::json::Array shape;
    for (int64_t d : buf.desc.shape)
      shape.push_back(d);
    t["shape"] = std::move(shape);
    for (auto &kv : extra)
      t[kv.first] = std::move(kv.second);
    tensors.push_back(std::move(t));
  }

  // The param, state or buffer slot a kernel can write `result` into directly (no copy after the
  // step), or -1. Safe when the kernel maps its buffers point by point, the old value is read
  // only while computing this result (the other outputs see it only through this one's
  // buffer), and nothing after the kernel reads the old value.
  int inPlaceSlot(func::FuncOp fn, Operation &op, const FusedKernel &k, const std::vector<int> &operandOf, Value result,
                  const llvm::DenseMap<Value, StringRef> &updateOf) {
    auto of = updateOf.find(result);
    if (of == updateOf.end() || !isPointwise(k))
      return -1;
    auto target = sharedSlots.find(of->second.str());
    if (target == sharedSlots.end())
      return -1;
    BlockArgument old;
    for (BlockArgument arg : fn.getArguments())
      if (slotOfArg(fn, arg) == of->second)
        old = arg;
    if (!old)
      return -1;
    // A collective sending the old value (a gradient that is a parameter itself) may still read
    // it when the update runs.
    for (Operation &other : fn.getBody().front())
      if (other.hasTrait<OpTrait::Communication>() && llvm::is_contained(other.getOperands(), Value(old)))
        return -1;
    for (Operation *later = op.getNextNode(); later; later = later->getNextNode())
      if (llvm::is_contained(later->getOperands(), Value(old)))
        return -1;
    int output = int(llvm::cast<OpResult>(result).getResultNumber());
    for (size_t o = 0; o < k.outputs.size(); ++o) {
      if (int(o) == output)
        continue;
      // The nodes computed inline for output o: its tree, stopping at other outputs.
      std::vector<int> work = {k.outputs[o]};
      std::set<int> seen;
      while (!work.empty()) {
        int n = work.back();
        work.pop_back();
        if (!seen.insert(n).second)
          continue;
        for (int operand : k.nodes[n].operands) {
          if (operand < 0 && Value(op.getOperand(operandOf[-operand - 1])) == Value(old))
            return -1;
          bool isOutput = std::find(k.outputs.begin(), k.outputs.end(), operand) != k.outputs.end();
          if (operand >= 0 && !isOutput)
            work.push_back(operand);
        }
      }
    }
    return target->second;
  }

  // The collectives of the entry being planned whose wait is not placed yet, by their result.
  llvm::DenseMap<Value, int> unwaited;

  // A collective starts where it stands (its operand was computed by the call before it) and
  // writes its result buffer until its wait: both buffers live from here to the wait.
  LogicalResult planCollective(Operation &op, EntryState &e) {
    if (op.getNumOperands() != 1 || op.getNumResults() != 1)
      return op.emitError("kiln codegen: a collective has one operand and one result");
    Value in = op.getOperand(0), out = op.getResult(0);
    auto d = tensorDesc(op.getLoc(), out.getType());
    if (failed(d))
      return failure();
    PlannedCollective c;
    auto of = op.getAttrOfType<StringAttr>(attr::of);
    c.of = of ? of.getValue().str() : "value " + std::to_string(e.entry.collectives.size());
    c.input = e.slot.lookup(in);
    c.start = int(e.entry.calls.size());
    std::string name = "sum." + c.of;
    if (e.returned.contains(out)) {
      c.output = e.slot[out] = allocate(name, *d);
    } else {
      c.output = e.slot[out] = allocateScratch(name, *d);
      e.lifetime[out] = {c.output, std::max(e.opIndex, 1), std::max(e.opIndex, 1)};
    }
    unwaited[out] = int(e.entry.collectives.size());
    e.entry.collectives.push_back(c);
    return success();
  }

  // Places the wait of the collective giving `v` before the op `e.opIndex` (the call about to
  // be added), the first that reads it, and keeps its input buffer until then.
  void waitFor(Value v, EntryState &e) {
    auto it = unwaited.find(v);
    if (it == unwaited.end())
      return;
    e.entry.collectives[size_t(it->second)].wait = int(e.entry.calls.size());
    auto in = e.lifetime.find(v.getDefiningOp()->getOperand(0));
    if (in != e.lifetime.end())
      in->second.last = std::max(in->second.last, std::max(e.opIndex, 1));
    unwaited.erase(it);
  }

  static StringRef slotOfArg(func::FuncOp fn, BlockArgument arg) {
    unsigned i = arg.getArgNumber();
    if (auto p = fn.getArgAttrOfType<StringAttr>(i, attr::param))
      return p.getValue();
    if (auto s = fn.getArgAttrOfType<StringAttr>(i, attr::state))
      return s.getValue();
    if (auto b = fn.getArgAttrOfType<StringAttr>(i, attr::buffer))
      return b.getValue();
    return "";
  }

  // Adds the entry `fn` to the plan: its arguments, then its ops in order, then its scratch.
  LogicalResult planEntry(func::FuncOp fn, EntryKind kind) {
    if (fn.isExternal())
      return fn.emitError("kiln codegen: @") << fn.getName() << " has no body";
    EntryState e(fn, kind, int(plan.entries.size()));
    if (failed(planArguments(e)))
      return failure();
    for (Operation &op : fn.getBody().front())
      if (failed(planOp(op, e)))
        return failure();
    waitAtEnd(e);
    finishEntry(e);
    return success();
  }

  // The buffer of `v`: the one it has, or a new persistent one named `name`.
  FailureOr<int> local(Value v, std::string name, EntryState &e) {
    auto it = e.slot.find(v);
    if (it != e.slot.end())
      return it->second;
    auto d = tensorDesc(e.fn.getLoc(), v.getType());
    if (failed(d))
      return failure();
    return e.slot[v] = allocate(std::move(name), *d);
  }

  // How errors about argument `i` of `fn` begin.
  static std::string argumentWhere(func::FuncOp fn, unsigned i) {
    return "kiln codegen: @" + fn.getName().str() + "'s argument " + std::to_string(i);
  }

  // Names key checkpoints, --init files and the manifest: non-empty, not safetensors'
  // reserved key, one tensor each. The error for a name that breaks the first two rules.
  static std::optional<std::string> badName(const std::string &where, StringRef name, Role role) {
    if (name.empty())
      return where + " is a " + roleName(role).str() + " with an empty name";
    if (name == "__metadata__")
      return where + " is a " + roleName(role).str() + " named '__metadata__', which safetensors files reserve";
    return std::nullopt;
  }

  // `extra` with an argument's constant start (kiln.init, a float) and whether it is a counter
  // kept as int64 in files (kiln.integer); a kiln.init that is not a float goes to `badInit`.
  static llvm::json::Object withStart(func::FuncOp fn, unsigned i, llvm::json::Object extra, Attribute &badInit) {
    if (auto init = fn.getArgAttrOfType<FloatAttr>(i, attr::init))
      extra["init"] = init.getValueAsDouble();
    else if (Attribute other = fn.getArgAttr(i, attr::init))
      badInit = other;
    if (fn.getArgAttr(i, attr::integer))
      extra["integer"] = true;
    return extra;
  }

  // Gives every argument its slot: params, state and buffers share one by name across
  // entries; what the runtime writes (inputs, lr, step, random) gets one of the entry's own.
  LogicalResult planArguments(EntryState &e) {
    func::FuncOp fn = e.fn;
    for (BlockArgument arg : fn.getArguments()) {
      unsigned i = arg.getArgNumber();
      auto d = tensorDesc(fn.getLoc(), arg.getType());
      if (failed(d))
        return failure();
      LogicalResult ok = success();
      Attribute badInit;
      if (auto p = fn.getArgAttrOfType<StringAttr>(i, attr::param)) {
        llvm::json::Object extra;
        if (auto fan = fn.getArgAttrOfType<IntegerAttr>(i, attr::fan_in))
          extra["fan_in"] = fan.getInt();
        ok = planShared(arg, *d, p.getValue(), Role::Param, withStart(fn, i, std::move(extra), badInit), e);
      } else if (auto s = fn.getArgAttrOfType<StringAttr>(i, attr::state)) {
        ok = planShared(arg, *d, s.getValue(), Role::State, {}, e);
      } else if (auto buf = fn.getArgAttrOfType<StringAttr>(i, attr::buffer)) {
        ok = planShared(arg, *d, buf.getValue(), Role::Buffer, withStart(fn, i, {}, badInit), e);
      } else if (failed(planHostArgument(arg, *d, e))) {
        return failure();
      }
      if (badInit)
        return fn.emitError(argumentWhere(fn, i))
               << ": " << attr::init << " is " << badInit << "; it takes a float, as in " << attr::init << " = 1.0";
      if (failed(ok))
        return failure();
    }
    return success();
  }

  // The shared slot of the param, state or buffer `name`: allocated and recorded when first
  // seen, then checked to be the same tensor in every entry.
  LogicalResult planShared(BlockArgument arg, const TensorDesc &d, StringRef name, Role role, llvm::json::Object extra,
                           EntryState &e) {
    func::FuncOp fn = e.fn;
    std::string where = argumentWhere(fn, arg.getArgNumber());
    if (auto bad = badName(where, name, role))
      return fn.emitError(*bad);
    if (e.inputNames.count(name.str()))
      return fn.emitError(where) << " is a " << roleName(role) << " named '" << name
                                 << "', the name of an input; every tensor needs a name of its own";
    auto [it, added] = sharedSlots.try_emplace(name.str(), -1);
    if (added) {
      it->second = allocate(name.str(), d);
      sharedRoles[name.str()] = role;
      record(it->second, role, std::nullopt, std::move(extra));
    } else if (sharedRoles[name.str()] != role) {
      return fn.emitError(where) << " is a " << roleName(role) << " named '" << name << "', the name of a "
                                 << roleName(sharedRoles[name.str()]) << "; every tensor needs a name of its own";
    } else if (plan.buffers[it->second].desc.shape != d.shape) {
      return fn.emitError(where) << ", " << roleName(role) << " '" << name << "', is " << arg.getType() << " here but "
                                 << shapeString(plan.buffers[it->second].desc.shape) << " in an earlier entry";
    }
    e.slot[arg] = it->second;
    return success();
  }

  // The entry's own slot for an argument the runtime writes before a run: an input, the
  // learning rate, the step or the random seed. The first input's dimension 0 is the batch.
  LogicalResult planHostArgument(BlockArgument arg, const TensorDesc &d, EntryState &e) {
    func::FuncOp fn = e.fn;
    unsigned i = arg.getArgNumber();
    std::string where = argumentWhere(fn, i);
    Role role = Role::Input;
    std::string name;
    if (auto in = fn.getArgAttrOfType<StringAttr>(i, attr::input))
      role = Role::Input, name = in.getValue().str();
    else if (fn.getArgAttr(i, attr::lr))
      role = Role::Lr, name = "lr";
    else if (fn.getArgAttr(i, attr::step))
      role = Role::Step, name = "step";
    else if (fn.getArgAttr(i, attr::random))
      role = Role::Random, name = "random";
    else
      return fn.emitError(where) << " (" << arg.getType() << ") has no kiln role: " << attr::param << ", "
                                 << attr::state << ", " << attr::buffer << ", " << attr::input << ", " << attr::lr
                                 << ", " << attr::step << " or " << attr::random;
    if (role == Role::Input) {
      if (auto bad = badName(where, name, role))
        return fn.emitError(*bad);
      if (sharedSlots.count(name) || name == "lr" || name == "step" || name == "random" ||
          !e.inputNames.insert(name).second)
        return fn.emitError(where) << " is an input named '" << name
                                   << "', a name already taken by another tensor of the model";
    }
    int b = *local(arg, name, e);
    record(b, role, e.index);
    e.entry.hostWrites.push_back(b);
    if (role == Role::Input && e.entry.batch == 0 && !d.shape.empty())
      e.entry.batch = d.shape[0];
    return success();
  }

  // Plans one op of the body: the return, a collective, or a kernel call.
  LogicalResult planOp(Operation &op, EntryState &e) {
    if (auto ret = llvm::dyn_cast<func::ReturnOp>(op))
      return planResults(ret, e);
    if (op.hasTrait<OpTrait::Communication>())
      return planCollective(op, e);
    if (!llvm::isa<KilnDialect>(op.getDialect()))
      return op.emitError("kiln codegen: cannot lower ") << op.getName();
    return planCall(op, e);
  }

  // The entry's results: the loss and the outputs, which the runtime reads, and the updates,
  // copied over the param, state or buffer they replace after the step.
  LogicalResult planResults(func::ReturnOp ret, EntryState &e) {
    func::FuncOp fn = e.fn;
    for (Value v : ret.getOperands())
      waitFor(v, e);
    for (auto [r, v] : llvm::enumerate(ret.getOperands())) {
      auto b = local(v, "result" + std::to_string(r), e);
      if (failed(b))
        return failure();
      if (auto of = fn.getResultAttrOfType<StringAttr>(r, attr::update_of)) {
        auto target = sharedSlots.find(of.getValue().str());
        if (target == sharedSlots.end())
          return fn.emitError("kiln codegen: update of unknown tensor ") << of;
        if (target->second == *b)
          continue;
        // Another tensor's old value (b.set(a) while a changes too) is saved before the
        // updates overwrite it, as an argument returned as an output is.
        int from = *b;
        if (llvm::isa<BlockArgument>(v)) {
          from = allocate(of.getValue().str() + ".new", plan.buffers[*b].desc);
          e.entry.outputCopies.push_back({*b, from});
        }
        e.entry.copies.push_back({from, target->second});
        continue;
      }
      auto name = fn.getResultAttrOfType<StringAttr>(r, attr::output);
      std::string outName = name ? name.getValue().str() : "output" + std::to_string(r);
      if (llvm::isa<BlockArgument>(v)) {
        // An argument returned as an output (a param, say) is copied to a slot of its own
        // before the updates overwrite it: the runtime reads the value this step used.
        int own = allocate(outName, plan.buffers[*b].desc);
        e.entry.outputCopies.push_back({*b, own});
        b = own;
      } else {
        plan.buffers[*b].name = outName;
      }
      record(*b, r == 0 ? Role::Loss : Role::Output, e.index);
      e.entry.hostReads.push_back(*b);
    }
    return success();
  }

  // The call of the kernel `op` compiles to, over its operands' buffers and new ones for its
  // results (or the slots they update in place).
  LogicalResult planCall(Operation &op, EntryState &e) {
    ++e.opIndex;
    for (Value v : op.getOperands()) {
      waitFor(v, e);
      auto it = e.lifetime.find(v);
      if (it != e.lifetime.end())
        it->second.last = e.opIndex;
    }
    std::vector<int> operandOf;
    auto fused = kernelOf(&op, &operandOf);
    if (failed(fused))
      return failure();
    *fused = flattenElementwise(*fused);
    // Outputs written over the param or state they replace; the kernel must then compute
    // each point once, which is part of what it compiles to.
    std::vector<int> inPlace;
    for (Value result : op.getResults()) {
      inPlace.push_back(inPlaceSlot(e.fn, op, *fused, operandOf, result, e.updateOf));
      fused->updatesInPlace |= inPlace.back() >= 0;
    }
    KernelCall call{kernelNumber(*fused), {}, {}, {}, {}, sourcesOf(op), unfusedReasons(op)};
    for (auto [i, operand] : llvm::enumerate(operandOf)) {
      call.buffers.push_back(view(e.slot.lookup(op.getOperand(operand)), fused->inputs[i]));
      call.reads.push_back(e.ids[op.getOperand(operand)]);
    }
    if (failed(planCallResults(op, *fused, inPlace, call, e)))
      return failure();
    // Without inputs a kernel computes a constant: once, when the arena is bound.
    (op.getNumOperands() == 0 ? plan.once : e.entry.calls).push_back(call);
    return success();
  }

  // The kernel's number in the plan; a kernel no call used yet is added, named by its number.
  int kernelNumber(FusedKernel &fused) {
    auto [it, added] = kernelByKey.try_emplace(fused.key(), int(plan.kernels.size()));
    if (added) {
      fused.name = "kiln_" + fused.name + "_" + std::to_string(plan.kernels.size());
      plan.kernels.push_back(fused);
    }
    return it->second;
  }

  // The buffers `call` writes `op`'s results to: the slot a result updates in place, a
  // persistent one for a result or a constant, or scratch that lives from this call on.
  LogicalResult planCallResults(Operation &op, const FusedKernel &fused, const std::vector<int> &inPlace,
                                KernelCall &call, EntryState &e) {
    for (Value result : op.getResults()) {
      std::string name = "e" + std::to_string(e.index) + ".v" + std::to_string(plan.buffers.size());
      FailureOr<int> out;
      int target = inPlace[llvm::cast<OpResult>(result).getResultNumber()];
      if (target >= 0) {
        out = e.slot[result] = target;
      } else if (e.returned.contains(result) || op.getNumOperands() == 0) {
        out = local(result, name, e);
      } else {
        auto d = tensorDesc(op.getLoc(), result.getType());
        if (failed(d))
          return failure();
        out = e.slot[result] = allocateScratch(name, *d);
        e.lifetime[result] = {*out, e.opIndex, e.opIndex};
      }
      if (failed(out))
        return failure();
      const TensorDesc &written = fused.output(int(llvm::cast<OpResult>(result).getResultNumber()));
      call.buffers.push_back(view(*out, written));
      call.values.push_back(e.ids[result]);
      call.written.push_back(plan.buffers[*out].desc); // the value's own shape
    }
    return success();
  }

  // Collectives whose results nothing reads are waited for at the end of the entry.
  void waitAtEnd(EntryState &e) {
    for (auto &kv : unwaited) {
      e.entry.collectives[size_t(kv.second)].wait = int(e.entry.calls.size());
      for (Value v : {kv.first, kv.first.getDefiningOp()->getOperand(0)})
        if (auto it = e.lifetime.find(v); it != e.lifetime.end())
          it->second.last = std::max(it->second.last, std::max(e.opIndex, 1));
    }
    unwaited.clear();
  }

  // Records the scratch values' lifetimes in calls, places them, and adds the entry to the plan.
  void finishEntry(EntryState &e) {
    std::vector<Interval> intervals;
    for (auto &kv : e.lifetime)
      intervals.push_back(kv.second);
    for (const Interval &iv : intervals) {
      plan.buffers[iv.buffer].entry = e.index;
      plan.buffers[iv.buffer].first = iv.first - 1; // op indices count from 1: calls from 0
      plan.buffers[iv.buffer].last = iv.last - 1;
    }
    assignScratch(std::move(intervals));
    plan.entries.push_back(std::move(e.entry));
  }
};

} // namespace

std::string describePlan(const StepPlan &plan) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (plan.ranks > 1)
    os << "// data-parallel over " << plan.ranks << " ranks: each rank's train step computes its share of the "
       << "batch's loss, and the shares' losses and gradients are added up over the ranks "
       << "them (MPI all-reduce, started when the value is computed, waited for where it is first read)\n";
  os << "// arena: " << plan.arenaBytes << " bytes; buffers that live across steps first, then one "
     << "scratch region whose bytes are reused by values whose lifetimes do not overlap\n";
  os << llvm::formatv("// {0,-28} {1,10} {2,10}  {3,-16} {4}\n", "buffer", "offset", "bytes", "shape", "lifetime");
  for (const PlannedBuffer &b : plan.buffers) {
    std::string lifetime =
        b.viewOf >= 0 ? "view of " + plan.buffers[b.viewOf].name
        : b.entry < 0 ? "across steps"
                      : plan.entries[b.entry].name + " calls " + std::to_string(b.first) + "-" + std::to_string(b.last);
    os << llvm::formatv("// {0,-28} {1,10} {2,10}  {3,-16} {4}\n", b.name, b.offset, b.desc.bytes(),
                        shapeString(b.desc.shape), lifetime);
  }
  auto collectives = [&](const EntryPlan *e, size_t i) {
    if (!e)
      return;
    for (const PlannedCollective &c : e->collectives)
      if (size_t(c.start) == i)
        os << "//   start all-reduce (sum over ranks) of " << c.of << ": " << plan.buffers[c.input].name << " -> "
           << plan.buffers[c.output].name << " (" << plan.buffers[c.output].desc.bytes() << " bytes)\n";
    for (const PlannedCollective &c : e->collectives)
      if (size_t(c.wait) == i)
        os << "//   wait for the all-reduce of " << c.of << "\n";
  };
  auto calls = [&](const std::vector<KernelCall> &list, const EntryPlan *e = nullptr) {
    for (auto [i, c] : llvm::enumerate(list)) {
      collectives(e, i);
      const FusedKernel &k = plan.kernels[c.kernel];
      os << "//   " << i << ": " << k.name << "(";
      for (auto [j, b] : llvm::enumerate(c.buffers))
        os << (j == k.inputs.size() ? " -> " : j ? ", " : "") << plan.buffers[b].name;
      os << ")\n";
    }
    collectives(e, list.size());
  };
  if (!plan.once.empty()) {
    os << "// once, when the arena is bound:\n";
    calls(plan.once);
  }
  for (const EntryPlan &e : plan.entries) {
    os << "// entry " << e.name << " (" << kindName(e.kind) << ", batch " << e.batch << "): " << e.calls.size()
       << " kernel calls\n";
    calls(e.calls, &e);
    for (auto [from, to] : e.copies)
      os << "//   then copy " << plan.buffers[from].name << " -> " << plan.buffers[to].name << "\n";
  }
  return os.str();
}

int64_t bufferAlignment(Device device) {
  switch (device) {
  case Device::host: return 64;     // a cache line, and the widest vector
  case Device::cuda: return 256;    // as cudaMalloc aligns
  case Device::opencl: return 4096; // above any device's CL_DEVICE_MEM_BASE_ADDR_ALIGN seen
  }
  return 64;
}

FailureOr<StepPlan> planModel(ModuleOp module, std::string modelIR, Device device) {
  Planner p;
  p.alignment = bufferAlignment(device);
  p.plan.modelIR = std::move(modelIR);
  SmallVector<func::FuncOp> train, eval;
  for (auto fn : module.getOps<func::FuncOp>()) {
    std::optional<FunctionRole> role = roleOf(fn);
    (role == FunctionRole::train ? train : eval).push_back(fn);
    // No role, an unknown kiln.role or a gradient: nothing the binary runs.
    if (role != FunctionRole::train && role != FunctionRole::eval && role != FunctionRole::forward)
      return fn.emitError("kiln codegen: function has no ") << attr::role << " the binary can run";
  }
  // @forward functions were differentiated into train steps; they are not entries.
  eval.erase(
      std::remove_if(eval.begin(), eval.end(), [](func::FuncOp f) { return roleOf(f) == FunctionRole::forward; }),
      eval.end());
  if (train.empty())
    return module.emitError("kiln codegen: no train step (run the optimizer first)");
  std::stable_partition(train.begin(), train.end(), [](func::FuncOp f) { return f.getName() == "train_step"; });
  for (func::FuncOp fn : train)
    if (failed(p.planEntry(fn, EntryKind::train)))
      return failure();
  for (func::FuncOp fn : eval)
    if (failed(p.planEntry(fn, EntryKind::eval)))
      return failure();
  p.finish();
  // A GPU build's buffers are crops of one device arena, addressed by Halide's 32-bit extents.
  if (device != Device::host && p.plan.arenaBytes > std::numeric_limits<int32_t>::max())
    return module.emitError("kiln codegen: the model needs an arena of ")
           << p.plan.arenaBytes << " bytes; a GPU build holds at most " << std::numeric_limits<int32_t>::max()
           << " (its buffers are crops of one device allocation with 32-bit extents)";

  llvm::json::Array entries;
  for (const EntryPlan &e : p.plan.entries) {
    llvm::json::Array kernels, work; // each call's symbol and [FLOPs, bytes], for timing reports
    for (const KernelCall &call : e.calls) {
      const FusedKernel &kernel = p.plan.kernels[call.kernel];
      kernels.push_back(kernel.name);
      work.push_back(llvm::json::Array{kernel.flops(), kernel.bytesMoved()});
    }
    llvm::json::Object entry{{"name", e.name},
                             {"kind", kindName(e.kind).str()},
                             {"batch", e.batch},
                             {"kernels", std::move(kernels)},
                             {"kernel_work", std::move(work)}};
    if (!e.collectives.empty()) {
      llvm::json::Array collectives;
      for (const PlannedCollective &c : e.collectives)
        collectives.push_back(llvm::json::Object{{"of", c.of},
                                                 {"elements", p.plan.buffers[c.output].desc.elements()},
                                                 {"start", c.start},
                                                 {"wait", c.wait}});
      entry["collectives"] = std::move(collectives);
    }
    entries.push_back(std::move(entry));
  }
  if (auto ranks = module->getAttrOfType<IntegerAttr>(attr::ranks))
    p.plan.ranks = ranks.getInt();
  llvm::json::Object manifest{{"model", "model"},
                              {"arena_bytes", p.plan.arenaBytes},
                              {"ranks", p.plan.ranks},
                              {"entries", std::move(entries)},
                              {"tensors", std::move(p.tensors)}};
  if (device == Device::host) // the key of the machine limits a model's kernel times are set against
    manifest["vector_lanes"] = hostVectorLanes();
  if (auto name = module->getAttrOfType<StringAttr>(attr::model))
    manifest["model"] = name.getValue().str();
  if (auto trainAttr = module->getAttrOfType<DictionaryAttr>(attr::train))
    manifest["train"] = toJson(trainAttr);
  else
    manifest["train"] = llvm::json::Object{};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(manifest));
  p.plan.manifest = os.str();
  return std::move(p.plan);
}

} // namespace kiln
