// Fusion: groups each function's primitives into kiln.kernel ops, one per generated kernel.
//
// The pass decides which values are materialized (written to a buffer); every other value is
// recomputed inside each kernel that reads it. A kernel is a materialized value's op plus the
// tree of non-materialized ops it reads. The rules:
// - returned values, operands of collectives (kiln.all_reduce_sum, which stays between
//   kernels), reductions, pooling, contractions (matmul, convolutions) and dense
//   constants are materialized; index-only ops (broadcast, reshape, transpose, splat
//   constants, one_hot, stop_gradient) never are;
// - an elementwise value is recomputed by each reader, unless several ops read it and its tree
//   holds more than kMaxRecompute elementwise ops, or one of them is a contraction (which
//   would rebuild it inside its tiles): then it is materialized once;
// - epilogue: a matmul, a reduction or a max-pool gradient whose value feeds a chain of
//   same-shaped elementwise ops (bias, ReLU's compare and select, ReLU's gradient, an update)
//   is computed inside the kernel of the chain's end, which is materialized instead;
// - prologues need no rule: an elementwise producer (ReLU's gradient, say) is recomputed inside
//   the contraction's or pooling's kernel that reads it;
// - multi-output: an elementwise kernel whose value only the kernel of another same-shaped
//   elementwise value reads joins that kernel (an optimizer's new moments and new parameter
//   become one kernel);
// - size: an elementwise value whose tree reaches kMaxKernelOps elementwise ops is materialized,
//   and no merge makes a kernel of more, so that compile time stays linear in a chain's length.
// With fusion off, every primitive becomes a kernel of its own: the unfused baseline.
#include "ir/Dialect.h"
#include "ir/ModelFile.h"
#include "kiln/contract.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

#include <set>

namespace kiln {
#define GEN_PASS_DEF_KILNFUSE
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace kiln {
namespace {

// Elementwise ops recomputed by more than one reader stay below this many ops.
constexpr int kMaxRecompute = 4;
// No kernel inlines more elementwise ops than this: a chain of thousands fused into one kernel
// took Halide time that grew with the cube of its length (1,000 ops, 113 s).
constexpr int kMaxKernelOps = 64;

enum class Kind { indexOnly, elementwise, contraction, root };

Kind kindOf(Operation *op) {
  if (op->hasTrait<OpTrait::IndexOnly>())
    return Kind::indexOnly;
  if (auto c = llvm::dyn_cast<ConstantOp>(op)) {
    auto dense = llvm::dyn_cast<DenseElementsAttr>(c.getValue());
    return dense && dense.isSplat() ? Kind::indexOnly : Kind::root;
  }
  if (op->hasTrait<OpTrait::Contraction>())
    return Kind::contraction;
  if (isElementwise(op))
    return Kind::elementwise;
  return Kind::root; // reductions, pooling and their gradients
}

// Maps same-shaped values point by point: elementwise ops, and stop_gradient (the identity).
bool pointwise(Operation *op) { return isElementwise(op) || llvm::isa<StopGradientOp>(op); }

// A short name of the ops a kernel holds, for its symbol and for people reading the dump:
// the root first, then the rest in program order, repeats dropped.
std::string kernelName(Operation *root, ArrayRef<Operation *> members) {
  std::string name = root->getName().stripDialect().str();
  std::set<std::string> seen = {name};
  int shown = 0;
  for (Operation *op : members) {
    std::string n = op->getName().stripDialect().str();
    if (kindOf(op) == Kind::indexOnly || !seen.insert(n).second)
      continue;
    if (++shown > 3)
      return name + "_etc";
    name += "_" + n;
  }
  return name;
}

// Where a kernel's ops come from, for people reading the dump: "conv2d cnn.cpp:51", one
// entry per op and line (index-only ops left out).
ArrayAttr sourcesOf(OpBuilder &b, ArrayRef<Operation *> members) {
  SmallVector<Attribute> sources;
  std::set<std::string> seen;
  for (Operation *op : members) {
    if (kindOf(op) == Kind::indexOnly)
      continue;
    std::string text = op->getName().stripDialect().str();
    if (FileLineColLoc at = sourceLine(op->getLoc()))
      text += " " + at.getFilename().str() + ":" + std::to_string(at.getLine());
    if (seen.insert(text).second)
      sources.push_back(b.getStringAttr(text));
  }
  return b.getArrayAttr(sources);
}

struct FunctionFusion {
  FunctionFusion(func::FuncOp fn, bool enabled) : fn(fn), enabled(enabled) {}
  func::FuncOp fn;
  bool enabled;
  SmallVector<Operation *> ops;         // the body's kiln primitives in program order
  SmallVector<Operation *> collectives; // its collectives, left where they are
  llvm::DenseMap<Operation *, int> position;
  llvm::DenseSet<Value> materialized;
  llvm::DenseMap<Value, std::string> why; // why each materialized value is not fused into its readers

  void keep(Value v, std::string reason) {
    materialized.insert(v);
    why[v] = std::move(reason);
  }

  void sortByPosition(SmallVectorImpl<Operation *> &members) {
    llvm::sort(members, [&](Operation *x, Operation *y) { return position[x] < position[y]; });
  }

  // Arguments and the results of collectives: buffers no kernel of this function computes.
  static bool external(Value v) {
    return llvm::isa<BlockArgument>(v) || v.getDefiningOp()->hasTrait<OpTrait::Communication>();
  }

  bool isMaterialized(Value v) { return external(v) || materialized.contains(v); }

  void decide() {
    Operation *ret = fn.getBody().front().getTerminator();
    for (Operation *op : ops)
      if (Kind k = kindOf(op); k == Kind::contraction || k == Kind::root)
        keep(op->getResult(0), whyRoot(op));
    // Results and collectives' operands are written whatever else holds, and say so.
    auto required = [&](auto each) {
      for (Operation *c : collectives)
        for (Value v : c->getOperands())
          if (!external(v))
            each(v, "summed across the ranks between kernels");
      for (Value v : ret->getOperands())
        if (!external(v))
          each(v, "a result of the step");
    };
    required([&](Value v, const char *) { materialized.insert(v); });
    moveEpilogues();
    required([&](Value v, const char *reason) { why[v] = reason; });
    // Elementwise values read by several ops are recomputed by each, while cheap.
    llvm::DenseMap<Value, int> cost;
    for (Operation *op : ops) {
      Value v = op->getResult(0);
      int c = kindOf(op) == Kind::elementwise ? 1 : 0;
      for (Value in : op->getOperands())
        if (!isMaterialized(in))
          c += cost.lookup(in);
      if (kindOf(op) == Kind::elementwise && !materialized.contains(v))
        if (std::string reason = whyElementwise(v, c); !reason.empty())
          keep(v, reason), c = 0;
      cost[v] = c;
    }
  }

  // Epilogues: a producer that takes one moves into the kernel of its chain's end.
  void moveEpilogues() {
    llvm::DenseSet<Value> claimed;
    for (Operation *op : ops) {
      if (!takesEpilogue(op))
        continue;
      Value v = op->getResult(0), end = v;
      while (end == v || !materialized.contains(end)) {
        Operation *next = epilogueStep(end);
        if (!next || next->getResult(0).getType() != v.getType())
          break;
        end = next->getResult(0);
      }
      std::string name(op->getName().stripDialect()), kept;
      if (end == v)
        kept = "a " + name + " whose value is not read by exactly one same-shaped pointwise op: no epilogue";
      else if (claimed.contains(end))
        kept = "a " + name + " whose epilogue's end already computes another producer's epilogue";
      else if (hasOtherContraction(end, v))
        kept = "a " + name + " whose epilogue reads another contraction (two tiles cannot share one output loop)";
      if (!kept.empty()) {
        why[v] = kept;
        continue;
      }
      materialized.erase(v);
      if (!materialized.contains(end))
        keep(end, "the end of " + name + "'s epilogue: its value is not read by exactly one same-shaped pointwise op");
      claimed.insert(end);
    }
  }

  // Why a contraction's, reduction's, pooling's or dense constant's value is written to memory.
  std::string whyRoot(Operation *op) {
    if (kindOf(op) == Kind::contraction && !llvm::isa<MatmulOp>(op))
      return "a convolution: its register tiles store through loops of their own, so it takes no epilogue";
    if (llvm::isa<MatmulOp>(op))
      return "a matrix product";
    if (op->hasTrait<OpTrait::Reduction>())
      return "a reduction: each reader would redo the whole sum";
    if (op->hasTrait<OpTrait::Pooling>())
      return "a pooling or its gradient: each element reads a window";
    return "a dense constant";
  }

  // Why an elementwise value whose recomputation costs `cost` ops is written to memory; "" when
  // its readers recompute it.
  std::string whyElementwise(Value v, int cost) {
    int readers = distinctUsers(v);
    if (cost >= kMaxKernelOps)
      return "its tree reaches " + std::to_string(kMaxKernelOps) + " elementwise ops, the most one kernel holds";
    if (readers > 1 && readByContraction(v))
      return "read by " + std::to_string(readers) + " ops, one a contraction that would rebuild it inside its tiles";
    if (readers > 1 && cost > kMaxRecompute)
      return "read by " + std::to_string(readers) + " ops, and " + std::to_string(cost) +
             " elementwise ops deep: too dear to recompute in each";
    return "";
  }

  // The op an epilogue chain continues with after `v`: its one pointwise reader, or, for
  // ReLU's select(v > 0, v, 0), the select whose mask is computed from v alone.
  static Operation *epilogueStep(Value v) {
    llvm::SmallPtrSet<Operation *, 4> users(v.getUsers().begin(), v.getUsers().end());
    for (Operation *u : users)
      if (!pointwise(u))
        return nullptr;
    if (users.size() == 1)
      return *users.begin();
    if (users.size() != 2)
      return nullptr;
    auto it = users.begin();
    Operation *a = *it++, *b = *it;
    for (int swap = 0; swap < 2; ++swap, std::swap(a, b))
      if (a->getResult(0).hasOneUse() && *a->getResult(0).user_begin() == b)
        return b;
    return nullptr;
  }

  // Matmuls, reductions (a bias gradient and its update, a mean and its negation) and the
  // gather form of max-pooling's gradient (windows that do not overlap) take epilogues.
  // Convolutions do not: their register tiles store through loops of their own, and work
  // added there cost more than a separate pass (measured with kiln bench).
  static bool takesEpilogue(Operation *op) {
    if (llvm::isa<MatmulOp>(op) || op->hasTrait<OpTrait::Reduction>())
      return true;
    if (auto pool = llvm::dyn_cast<MaxPool2dGradOp>(op)) {
      ArrayRef<int64_t> window = pool.getKernel(), stride = pool.getStride();
      return stride[0] >= window[0] && stride[1] >= window[1];
    }
    return false;
  }

  static bool readByContraction(Value v) {
    return llvm::any_of(v.getUsers(), [](Operation *u) { return kindOf(u) == Kind::contraction; });
  }

  static int distinctUsers(Value v) {
    llvm::SmallPtrSet<Operation *, 4> users(v.getUsers().begin(), v.getUsers().end());
    return int(users.size());
  }

  // Whether the chain from `contraction`'s value to `end` reads another contraction that is
  // not materialized (two tiles cannot share one output loop).
  bool hasOtherContraction(Value end, Value contraction) {
    SmallVector<Value> work = {end};
    llvm::DenseSet<Value> seen;
    while (!work.empty()) {
      Value v = work.pop_back_val();
      if (!seen.insert(v).second || external(v))
        continue;
      Operation *op = v.getDefiningOp();
      if (v != contraction && v != end && materialized.contains(v))
        continue;
      if (v != contraction && kindOf(op) == Kind::contraction)
        return true;
      if (v == contraction)
        continue;
      for (Value in : op->getOperands())
        work.push_back(in);
    }
    return false;
  }

  struct Group {
    SmallVector<Value> outputs;             // in program order
    SmallVector<Operation *> members;       // ops to clone, in program order
    llvm::SmallPtrSet<Operation *, 16> has; // the same, for lookups
    Operation *last = nullptr;              // where the kernel goes
  };

  // The ops a kernel rooted at `v` computes: its tree down to materialized values.
  void collect(Value v, bool isRoot, Group &g) {
    if (external(v) || (!isRoot && materialized.contains(v)))
      return;
    Operation *op = v.getDefiningOp();
    if (g.has.contains(op))
      return;
    for (Value in : op->getOperands())
      collect(in, false, g);
    g.has.insert(op);
    g.members.push_back(op);
  }

  bool holdsContraction(const Group &g) {
    return llvm::any_of(g.members, [](Operation *m) { return kindOf(m) == Kind::contraction; });
  }

  LogicalResult run() {
    if (failed(collectOps()))
      return failure();
    if (enabled)
      decide();
    else
      for (Operation *op : ops)
        keep(op->getResult(0), "fusion is off");
    std::vector<Group> groups = groupsOfMaterialized();
    std::vector<int> mergedInto(groups.size(), -1);
    if (enabled)
      mergeElementwiseGroups(groups, mergedInto);
    buildKernels(groups, mergedInto);
    return eraseFusedOps();
  }

  // Records the body's primitives and collectives; anything else is an error.
  LogicalResult collectOps() {
    for (Operation &op : fn.getBody().front()) {
      if (llvm::isa<func::ReturnOp>(op))
        continue;
      if (op.hasTrait<OpTrait::Communication>()) {
        collectives.push_back(&op);
        continue;
      }
      if (!llvm::isa<KilnDialect>(op.getDialect()) || op.getNumResults() != 1 || llvm::isa<KernelOp>(op))
        return op.emitError("kiln-fuse: expected kiln primitives, found ") << op.getName();
      position[&op] = int(ops.size());
      ops.push_back(&op);
    }
    return success();
  }

  // One group per materialized value, in program order.
  std::vector<Group> groupsOfMaterialized() {
    std::vector<Group> groups;
    for (Operation *op : ops) {
      Value v = op->getResult(0);
      if (!materialized.contains(v))
        continue;
      Group g;
      g.outputs.push_back(v);
      collect(v, true, g);
      sortByPosition(g.members);
      g.last = op;
      groups.push_back(std::move(g));
    }
    return groups;
  }

  // Same-shaped elementwise groups merge into the one group that reads them (multi-output
  // kernels); `mergedInto[a]` is the group that group a joined, or -1.
  void mergeElementwiseGroups(std::vector<Group> &groups, std::vector<int> &mergedInto) {
    for (int a = int(groups.size()) - 1; a >= 0; --a) {
      Value v = groups[a].outputs.front();
      if (!pointwise(v.getDefiningOp()) || holdsContraction(groups[a]))
        continue;
      int target = onlyReaderGroup(groups, mergedInto, a);
      if (target < 0)
        continue;
      Group &g = groups[target];
      Value t = g.outputs.front();
      if (!pointwise(t.getDefiningOp()) || t.getType() != v.getType() || holdsContraction(g))
        continue;
      // Every reader of v must be inside the target (or the return).
      bool contained =
          llvm::all_of(v.getUsers(), [&](Operation *u) { return llvm::isa<func::ReturnOp>(u) || g.has.contains(u); });
      auto elementwiseOps = [](const Group &x) {
        return llvm::count_if(x.members, [](Operation *m) { return kindOf(m) == Kind::elementwise; });
      };
      if (!contained || elementwiseOps(g) + elementwiseOps(groups[a]) > kMaxKernelOps)
        continue;
      mergedInto[a] = target;
      for (Operation *m : groups[a].members)
        if (g.has.insert(m).second)
          g.members.push_back(m);
      sortByPosition(g.members);
      g.outputs.append(groups[a].outputs);
      llvm::sort(g.outputs,
                 [&](Value x, Value y) { return position[x.getDefiningOp()] < position[y.getDefiningOp()]; });
    }
  }

  // The one group (after merges) whose ops read group a's value; -1 when none or several do.
  static int onlyReaderGroup(const std::vector<Group> &groups, const std::vector<int> &mergedInto, int a) {
    Value v = groups[a].outputs.front();
    int target = -1;
    bool single = true;
    for (int b = a + 1; b < int(groups.size()); ++b) {
      int root = b;
      while (mergedInto[root] >= 0)
        root = mergedInto[root];
      bool reads =
          llvm::any_of(groups[b].members, [&](Operation *m) { return llvm::is_contained(m->getOperands(), v); });
      if (!reads)
        continue;
      if (target >= 0 && target != root)
        single = false;
      target = root;
    }
    return single ? target : -1;
  }

  // Builds each unmerged group's kernel where its last op is, and points the group's values
  // at the kernel's results.
  void buildKernels(const std::vector<Group> &groups, const std::vector<int> &mergedInto) {
    OpBuilder b(fn.getContext());
    llvm::DenseMap<Value, Value> replacement;
    for (auto [i, g] : llvm::enumerate(groups))
      if (mergedInto[i] < 0)
        buildKernel(b, g, replacement);
    for (auto [from, to] : replacement)
      from.replaceAllUsesWith(to);
  }

  // Builds the kiln.kernel of group `g`, recording its results in `replacement`.
  void buildKernel(OpBuilder &b, const Group &g, llvm::DenseMap<Value, Value> &replacement) {
    SmallVector<Value> inputs;
    for (Operation *m : g.members)
      for (Value in : m->getOperands()) {
        bool inside = !llvm::isa<BlockArgument>(in) && g.has.contains(in.getDefiningOp());
        if (!inside && !llvm::is_contained(inputs, in))
          inputs.push_back(in);
      }
    SmallVector<Value> mappedInputs;
    SmallVector<Type> inputTypes, outputTypes;
    for (Value in : inputs) {
      mappedInputs.push_back(replacement.lookup(in) ? replacement.lookup(in) : in);
      inputTypes.push_back(in.getType());
    }
    for (Value out : g.outputs)
      outputTypes.push_back(out.getType());
    Operation *root = g.outputs.back().getDefiningOp();
    b.setInsertionPoint(g.last);
    auto kernel =
        KernelOp::create(b, root->getLoc(), outputTypes, mappedInputs, b.getStringAttr(kernelName(root, g.members)));
    kernel->setAttr(attr::sources, sourcesOf(b, g.members));
    SmallVector<Attribute> reasons;
    for (Value out : g.outputs)
      reasons.push_back(b.getStringAttr(why.lookup(out)));
    kernel->setAttr(attr::unfused, b.getArrayAttr(reasons));
    Block *body = new Block();
    kernel.getBody().push_back(body);
    IRMapping map;
    for (Value in : inputs)
      map.map(in, body->addArgument(in.getType(), in.getLoc()));
    OpBuilder inner = OpBuilder::atBlockEnd(body);
    for (Operation *m : g.members)
      inner.clone(*m, map);
    SmallVector<Value> yielded;
    for (Value out : g.outputs)
      yielded.push_back(map.lookup(out));
    YieldOp::create(inner, root->getLoc(), yielded);
    for (auto [out, result] : llvm::zip(g.outputs, kernel.getResults()))
      replacement[out] = result;
  }

  // Erases the primitives, now that the kernels compute them.
  LogicalResult eraseFusedOps() {
    for (Operation *op : llvm::reverse(ops)) {
      if (!op->use_empty())
        return op->emitError("kiln-fuse: internal error: a fused value is still used outside "
                             "its kernel");
      op->erase();
    }
    return success();
  }
};

struct FusePass : impl::KilnFuseBase<FusePass> {
  using Base::Base;

  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      FunctionFusion fusion(fn, enabled);
      if (failed(fusion.run()))
        return signalPassFailure();
    }
  }
};

} // namespace

} // namespace kiln
