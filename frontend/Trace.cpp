// Records DSL calls as kiln ops inside func.func @forward.
#include "frontend/TraceImpl.h"

#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <fstream>

using namespace mlir;

namespace kiln {

static thread_local std::vector<Trace *> liveTraces;

Trace::Trace(std::string model) : impl_(std::make_unique<Impl>()) {
  impl_->context.loadDialect<KilnDialect, func::FuncDialect>();
  impl_->model = std::move(model);
  OpBuilder b(&impl_->context);
  impl_->module = ModuleOp::create(b.getUnknownLoc());
  b.setInsertionPointToEnd(impl_->module->getBody());
  impl_->forward = func::FuncOp::create(b, b.getUnknownLoc(), "forward", b.getFunctionType({}, {}));
  impl_->forward.addEntryBlock();
  impl_->builder = std::make_unique<OpBuilder>(&impl_->context);
  impl_->builder->setInsertionPointToEnd(&impl_->forward.getBody().front());
  liveTraces.push_back(this);
}

Trace::~Trace() {
  liveTraces.erase(std::remove(liveTraces.begin(), liveTraces.end(), this), liveTraces.end());
}

Trace &Trace::current() {
  if (liveTraces.empty())
    throw Error("no kiln::Trace is alive: create one before building layers");
  return *liveTraces.back();
}

Location Trace::Impl::loc(Where at) {
  // The base name keeps traced files independent of where the model was built.
  return FileLineColLoc::get(&context, llvm::sys::path::filename(at.file), at.line, 0);
}

Tensor Trace::Impl::wrap(Trace *trace, Value v) {
  auto type = llvm::cast<RankedTensorType>(v.getType());
  return Tensor(trace, v.getAsOpaquePointer(), Shape(type.getShape().begin(), type.getShape().end()));
}

Value Trace::Impl::unwrap(const Tensor &t) {
  if (!t.defined())
    throw Error("use of an undefined kiln::Tensor");
  return Value::getFromOpaquePointer(t.value());
}

static Tensor addArgument(Trace *trace, Trace::Impl &impl, Shape shape,
                          llvm::ArrayRef<NamedAttribute> attrs) {
  auto type = tensorOf(Float32Type::get(&impl.context), shape);
  BlockArgument arg = impl.forward.getBody().front().addArgument(type, impl.forward.getLoc());
  impl.argAttrs.push_back(DictionaryAttr::get(&impl.context, attrs));
  return Trace::Impl::wrap(trace, arg);
}

Tensor Trace::input(const std::string &name, Shape shape) {
  Builder b(&impl_->context);
  return addArgument(this, *impl_, std::move(shape), {b.getNamedAttr("kiln.input", b.getStringAttr(name))});
}

Tensor Trace::parameter(const std::string &name, Shape shape, int64_t fanIn) {
  Builder b(&impl_->context);
  return addArgument(this, *impl_, std::move(shape),
                     {b.getNamedAttr("kiln.param", b.getStringAttr(name)),
                      b.getNamedAttr("kiln.fan_in", b.getI64IntegerAttr(fanIn))});
}

void Trace::rename_parameter(const Tensor &param, const std::string &name) {
  auto arg = llvm::dyn_cast<BlockArgument>(Impl::unwrap(param));
  if (!arg)
    throw Error("rename_parameter: not a parameter");
  NamedAttrList attrs(impl_->argAttrs[arg.getArgNumber()]);
  attrs.set("kiln.param", StringAttr::get(&impl_->context, name));
  impl_->argAttrs[arg.getArgNumber()] = attrs.getDictionary(&impl_->context);
}

void Trace::output(const std::string &name, const Tensor &value) {
  impl_->outputs.push_back({name, Impl::unwrap(value)});
}

void Trace::optimizer(const optim::SGD &sgd) {
  Builder b(&impl_->context);
  impl_->module->getOperation()->setAttr(
      "kiln.optimizer",
      b.getDictionaryAttr({b.getNamedAttr("name", b.getStringAttr("sgd")),
                           b.getNamedAttr("momentum", b.getF64FloatAttr(sgd.momentum)),
                           b.getNamedAttr("dampening", b.getF64FloatAttr(sgd.dampening)),
                           b.getNamedAttr("weight_decay", b.getF64FloatAttr(sgd.weight_decay)),
                           b.getNamedAttr("nesterov", b.getBoolAttr(sgd.nesterov))}));
  impl_->lr = sgd.lr;
}

void Trace::train(const TrainConfig &config) { impl_->trainConfig = config; }

std::string Trace::finish(const Tensor &loss) {
  if (!loss.shape().empty())
    throw Error("the loss must be a scalar, got a tensor of rank " + std::to_string(loss.shape().size()));
  Impl &m = *impl_;
  Builder b(&m.context);
  SmallVector<Value> results = {Impl::unwrap(loss)};
  SmallVector<DictionaryAttr> resultAttrs = {
      b.getDictionaryAttr({b.getNamedAttr("kiln.output", b.getStringAttr("loss"))})};
  for (auto &[name, v] : m.outputs) {
    results.push_back(v);
    resultAttrs.push_back(b.getDictionaryAttr({b.getNamedAttr("kiln.output", b.getStringAttr(name))}));
  }
  func::ReturnOp::create(*m.builder, m.forward.getLoc(), results);
  Block &body = m.forward.getBody().front();
  m.forward.setFunctionType(b.getFunctionType(body.getArgumentTypes(), ValueRange(results).getTypes()));
  m.forward.setAllArgAttrs(m.argAttrs);
  m.forward.setAllResultAttrs(resultAttrs);
  Operation *module = m.module->getOperation();
  module->setAttr("kiln.model", b.getStringAttr(m.model));
  module->setAttr("kiln.train",
                  b.getDictionaryAttr({b.getNamedAttr("dataset", b.getStringAttr(m.trainConfig.dataset)),
                                       b.getNamedAttr("steps", b.getI64IntegerAttr(m.trainConfig.steps)),
                                       b.getNamedAttr("log_every", b.getI64IntegerAttr(m.trainConfig.log_every)),
                                       b.getNamedAttr("lr", b.getF64FloatAttr(m.lr))}));
  if (failed(verify(module)))
    throw Error("internal error: the traced module does not verify");
  std::string text;
  llvm::raw_string_ostream os(text);
  OpPrintingFlags flags;
  flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  m.module->print(os, flags);
  return text;
}

void Trace::write(const std::string &path, const Tensor &loss) {
  std::string text = finish(loss);
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    throw Error("cannot write " + path + ": " + ec.message());
  out << text;
}

} // namespace kiln
