// Data parallelism: adds up each gradient, and the loss, over the ranks of the run.
//
// Expects: gradient functions from kiln-autodiff (their last results are d loss / d param, one
// per kiln.param argument, in argument order) and a module attribute kiln.ranks = R. With R > 1
// each rank's forward computes its share of the global batch's loss (specializeBatch with
// shares = R: a mean over the batch divides by the whole batch), so the sums over ranks of the
// losses and of their gradients are the single-process ones over the whole batch, whether the
// loss averages or sums over the rows.
// Each gradient gets a kiln.all_reduce_sum right after the op that finishes it (codegen starts
// the exchange there, while the rest of the backward pass runs, and waits for it before the
// update reads it); the loss gets one too, so every rank reports the global batch's loss.
// Without kiln.ranks, or with R = 1, nothing changes.
#include "ir/Dialect.h"
#include "ir/Roles.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace kiln {
#define GEN_PASS_DEF_KILNDATAPARALLEL
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace kiln {
namespace {

struct DataParallelPass : impl::KilnDataParallelBase<DataParallelPass> {

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto ranks = module->getAttrOfType<IntegerAttr>(attr::ranks);
    if (!ranks || ranks.getInt() == 1)
      return;
    if (ranks.getInt() < 1) {
      module.emitError("kiln-data-parallel: ") << attr::ranks << " must be at least 1, got " << ranks.getInt();
      return signalPassFailure();
    }
    for (auto fn : module.getOps<func::FuncOp>())
      if (roleOf(fn) == FunctionRole::grad && failed(sumOverRanks(fn)))
        return signalPassFailure();
  }

  static LogicalResult sumOverRanks(func::FuncOp fn) {
    if (fn.isExternal())
      return fn.emitError("kiln-data-parallel: @") << fn.getName() << " has no body";
    unsigned params = 0;
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      params += fn.getArgAttr(i, attr::param) != nullptr;
    auto ret = llvm::cast<func::ReturnOp>(fn.getBody().front().getTerminator());
    if (ret.getNumOperands() < params + 1)
      return fn.emitError("kiln-data-parallel: @") << fn.getName() << " returns " << ret.getNumOperands()
                                                   << " values, fewer than its loss and " << params << " gradients";
    SmallVector<unsigned> summed = {0};
    for (unsigned r = ret.getNumOperands() - params; r < ret.getNumOperands(); ++r)
      summed.push_back(r);
    llvm::DenseMap<Value, Value> sumOf;
    for (unsigned r : summed) {
      Value v = ret.getOperand(r);
      if (!sumOf.count(v)) {
        OpBuilder b(fn.getContext());
        if (Operation *def = v.getDefiningOp())
          b.setInsertionPointAfter(def);
        else
          b.setInsertionPointToStart(&fn.getBody().front());
        auto sum = AllReduceSumOp::create(b, v.getLoc(), v);
        // What it adds up, for the plan and the runtime's messages.
        auto param = fn.getResultAttrOfType<StringAttr>(r, attr::grad_of);
        sum->setAttr(attr::of, b.getStringAttr(r == 0  ? std::string("loss")
                                               : param ? (param.getValue() + ".grad").str()
                                                       : "result " + std::to_string(r)));
        sumOf[v] = sum;
      }
      ret.setOperand(r, sumOf[v]);
    }
    return success();
  }
};

} // namespace

} // namespace kiln
