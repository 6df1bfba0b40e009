// Records DSL calls as kiln ops: one func.func per entry (@forward first), parameters shared
// between entries by name.
#include "frontend/TraceImpl.h"
#include "ir/Roles.h"

#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace kiln {

static thread_local std::vector<Trace *> liveTraces;

Trace::Trace(std::string model) : impl_(std::make_unique<Impl>()) {
  impl_->context.loadDialect<KilnDialect, func::FuncDialect>();
  impl_->model = std::move(model);
  impl_->module = ModuleOp::create(UnknownLoc::get(&impl_->context));
  impl_->startEntry("forward", EntryKind::train);
  liveTraces.push_back(this);
}

Trace::~Trace() { liveTraces.erase(std::remove(liveTraces.begin(), liveTraces.end(), this), liveTraces.end()); }

Trace &Trace::current() {
  if (liveTraces.empty())
    throw Error("no kiln::Trace is alive: create one before using layers");
  return *liveTraces.back();
}

void Trace::Impl::startEntry(const std::string &name, EntryKind kind) {
  for (Entry &e : entries)
    if (e.func.getName() == name)
      throw Error("entry '" + name + "' is traced twice");
  OpBuilder b(&context);
  b.setInsertionPointToEnd(module->getBody());
  Entry e;
  e.kind = kind;
  e.func = func::FuncOp::create(b, b.getUnknownLoc(), name, b.getFunctionType({}, {}));
  setRole(e.func, kind == EntryKind::train ? FunctionRole::forward : FunctionRole::eval);
  e.func.addEntryBlock();
  e.builder = std::make_unique<OpBuilder>(&context);
  e.builder->setInsertionPointToEnd(&e.func.getBody().front());
  entries.push_back(std::move(e));
}

void Trace::Impl::endEntry(const Tensor &loss) {
  if (!loss.shape().empty())
    throw Error("the loss must be a scalar, got a tensor of rank " + std::to_string(loss.shape().size()));
  endEntry(std::vector<Tensor>{loss}, std::nullopt);
}

void Trace::Impl::endEntry(const std::vector<Tensor> &values, std::optional<FunctionRole> role) {
  Entry &e = current();
  Builder b(&context);
  if (role)
    setRole(e.func, *role);
  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultAttrs;
  for (const Tensor &v : values) {
    results.push_back(unwrap(v));
    resultAttrs.push_back(
        b.getDictionaryAttr({b.getNamedAttr(attr::output, b.getStringAttr(resultAttrs.empty() ? "loss" : "result"))}));
  }
  for (auto &[name, v] : e.outputs) {
    results.push_back(v);
    resultAttrs.push_back(b.getDictionaryAttr({b.getNamedAttr(attr::output, b.getStringAttr(name))}));
  }
  for (auto &[name, v] : e.updates) {
    results.push_back(v);
    resultAttrs.push_back(b.getDictionaryAttr({b.getNamedAttr(attr::update_of, b.getStringAttr(name))}));
  }
  func::ReturnOp::create(*e.builder, e.func.getLoc(), results);
  Block &body = e.func.getBody().front();
  e.func.setFunctionType(b.getFunctionType(body.getArgumentTypes(), ValueRange(results).getTypes()));
  e.func.setAllArgAttrs(e.argAttrs);
  e.func.setAllResultAttrs(resultAttrs);
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
  Value v = Value::getFromOpaquePointer(t.value());
  // Each entry is its own function: tensors of an earlier entry (or of another trace) cannot
  // be used in the current one.
  Entry &e = t.trace()->impl().current();
  if (v.getParentRegion() != &e.func.getBody())
    throw Error("a tensor traced in another entry is used in entry '" + e.func.getName().str() +
                "': trace each entry's inputs anew (trace.input) in that entry");
  return v;
}

static Value addArgument(Trace::Impl &impl, Type element, const Shape &shape, llvm::ArrayRef<NamedAttribute> attrs) {
  for (int64_t d : shape)
    if (d < 0)
      throw Error("shapes are static: dimension " + std::to_string(d) +
                  " is not allowed (-1 for 'infer' is not supported; give the size)");
  Entry &e = impl.current();
  BlockArgument arg = e.func.getBody().front().addArgument(tensorOf(element, shape), e.func.getLoc());
  e.argAttrs.push_back(DictionaryAttr::get(&impl.context, attrs));
  return arg;
}

Value Trace::Impl::randomKey(const std::string &what, Where at) {
  Entry &e = current();
  if (e.kind != EntryKind::train)
    throw Error(at.str() + ": " + what + " draws random numbers in entry '" + e.func.getName().str() +
                "', an eval entry: only train steps have a generator (use the layer's eval behaviour, or "
                "training=false)");
  if (!e.randomKey) {
    Builder b(&context);
    e.randomKey = addArgument(*this, b.getI32Type(), {4}, {b.getNamedAttr(attr::random, b.getUnitAttr())});
  }
  return e.randomKey;
}

bool Trace::training() const { return impl_->current().kind == EntryKind::train; }

void Trace::require_rows(int64_t rows, const std::string &why) {
  Operation *module = impl_->module->getOperation();
  auto known = module->getAttrOfType<DictionaryAttr>(attr::min_rows);
  auto atLeast = known ? known.getAs<IntegerAttr>(min_rows::rows) : nullptr;
  if (atLeast && atLeast.getInt() >= rows)
    return;
  Builder b(&impl_->context);
  module->setAttr(attr::min_rows, b.getDictionaryAttr({b.getNamedAttr(min_rows::rows, b.getI64IntegerAttr(rows)),
                                                       b.getNamedAttr(min_rows::why, b.getStringAttr(why))}));
}

void Trace::begin(const std::string &name, EntryKind kind, const Tensor &previousLoss) {
  impl_->endEntry(previousLoss);
  impl_->startEntry(name, kind);
}

Tensor Trace::input(const std::string &name, Shape shape) {
  Builder b(&impl_->context);
  return Impl::wrap(this,
                    addArgument(*impl_, b.getF32Type(), shape, {b.getNamedAttr(attr::input, b.getStringAttr(name))}));
}

Tensor Trace::labels(const std::string &name, Shape shape) {
  Builder b(&impl_->context);
  return Impl::wrap(this,
                    addArgument(*impl_, b.getI32Type(), shape, {b.getNamedAttr(attr::input, b.getStringAttr(name))}));
}

// The entry's argument for the module tensor `name` (`kind` "parameter" or "buffer"), added
// with `attrs` on first use; one name, one tensor.
static Tensor moduleTensor(Trace *trace, const char *kind, const std::string &name, const Shape &shape,
                           llvm::function_ref<SmallVector<NamedAttribute>(Builder &)> attrs) {
  Trace::Impl &impl = trace->impl();
  Entry &e = impl.current();
  auto found = e.moduleTensors.find(name);
  if (found != e.moduleTensors.end()) {
    if (std::string(found->second.kind) != kind)
      throw Error(std::string(kind) + " '" + name + "' has the name of a " + found->second.kind);
    Tensor t = Trace::Impl::wrap(trace, found->second.value);
    if (t.shape() != shape)
      throw Error(std::string(kind) + " '" + name + "' is used with two different shapes");
    return t;
  }
  Builder b(&impl.context);
  Value arg = addArgument(impl, b.getF32Type(), shape, attrs(b));
  e.moduleTensors[name] = {arg, kind};
  return Trace::Impl::wrap(trace, arg);
}

Tensor Trace::parameter(const std::string &name, Shape shape, int64_t fanIn, std::optional<double> init) {
  return moduleTensor(this, "parameter", name, shape, [&](Builder &b) {
    SmallVector<NamedAttribute> attrs = {b.getNamedAttr(attr::param, b.getStringAttr(name)),
                                         b.getNamedAttr(attr::fan_in, b.getI64IntegerAttr(fanIn))};
    if (init)
      attrs.push_back(b.getNamedAttr(attr::init, b.getF64FloatAttr(*init)));
    return attrs;
  });
}

Tensor Trace::buffer(const std::string &name, Shape shape, double init, bool integer) {
  return moduleTensor(this, "buffer", name, shape, [&](Builder &b) {
    SmallVector<NamedAttribute> attrs = {b.getNamedAttr(attr::buffer, b.getStringAttr(name)),
                                         b.getNamedAttr(attr::init, b.getF64FloatAttr(init))};
    if (integer)
      attrs.push_back(b.getNamedAttr(attr::integer, b.getUnitAttr()));
    return attrs;
  });
}

void Trace::update(const std::string &name, const Tensor &value) {
  Entry &e = impl_->current();
  const std::string entry = e.func.getName().str();
  if (e.kind != EntryKind::train)
    throw Error("buffer '" + name + "' is updated in entry '" + entry +
                "', an eval entry: only train steps update "
                "buffers");
  auto found = e.moduleTensors.find(name);
  if (found == e.moduleTensors.end() || found->second.kind != std::string("buffer"))
    throw Error("buffer '" + name + "' is updated in entry '" + entry + "' without being read there first");
  if (value.trace() != this)
    throw Error("buffer '" + name + "' is updated with a tensor of another trace");
  Value v = Impl::unwrap(value);
  if (v.getType() != found->second.value.getType())
    throw Error("buffer '" + name + "' of shape " + shapeString(found->second.value.getType()) +
                " is updated with a tensor of shape " + shapeString(v.getType()));
  for (auto &[other, _] : e.updates)
    if (other == name)
      throw Error("buffer '" + name + "' is updated twice in entry '" + entry + "'");
  e.updates.push_back({name, v});
}

void Trace::output(const std::string &name, const Tensor &value) {
  if (value.trace() != this)
    throw Error("output '" + name + "' is a tensor of another trace");
  impl_->current().outputs.push_back({name, Impl::unwrap(value)});
}

void Trace::setOptimizer(const std::string &name, double lr, const std::vector<std::pair<std::string, double>> &numbers,
                         const std::vector<std::pair<std::string, bool>> &flags) {
  Builder b(&impl_->context);
  SmallVector<NamedAttribute> attrs = {b.getNamedAttr(optimizer_key::name, b.getStringAttr(name))};
  for (auto &[k, v] : numbers)
    attrs.push_back(b.getNamedAttr(k, b.getF64FloatAttr(v)));
  for (auto &[k, v] : flags)
    attrs.push_back(b.getNamedAttr(k, b.getBoolAttr(v)));
  impl_->module->getOperation()->setAttr(attr::optimizer, b.getDictionaryAttr(attrs));
  impl_->lr = lr;
}

void Trace::train(const TrainConfig &config) { impl_->trainConfig = config; }

std::string Trace::finish(const Tensor &loss) {
  Impl &m = *impl_;
  m.endEntry(loss);
  Builder b(&m.context);
  const TrainConfig &c = m.trainConfig;
  Operation *module = m.module->getOperation();
  module->setAttr(attr::model, b.getStringAttr(m.model));
  SmallVector<NamedAttribute> extra;
  if (!c.data_dir.empty())
    extra.push_back(b.getNamedAttr(setting::data_dir, b.getStringAttr(c.data_dir)));
  for (auto [key, value] : {std::pair<const char *, int64_t>{"eval_every", c.eval_every},
                            {"eval_subset", c.eval_subset},
                            {"show_predictions", c.show_predictions}})
    if (value > 0)
      extra.push_back(b.getNamedAttr(key, b.getI64IntegerAttr(value)));
  module->setAttr(attr::train, b.getDictionaryAttr({b.getNamedAttr(setting::dataset, b.getStringAttr(c.dataset)),
                                                    b.getNamedAttr("task", b.getStringAttr(c.task)),
                                                    b.getNamedAttr("epochs", b.getI64IntegerAttr(c.epochs)),
                                                    b.getNamedAttr("steps", b.getI64IntegerAttr(c.steps)),
                                                    b.getNamedAttr(setting::batch, b.getI64IntegerAttr(c.batch)),
                                                    b.getNamedAttr("shuffle", b.getBoolAttr(c.shuffle)),
                                                    b.getNamedAttr(setting::drop_last, b.getBoolAttr(c.drop_last)),
                                                    b.getNamedAttr("log_every", b.getI64IntegerAttr(c.log_every)),
                                                    b.getNamedAttr("print_batches", b.getBoolAttr(c.print_batches)),
                                                    b.getNamedAttr("summary", b.getStringAttr(c.summary)),
                                                    b.getNamedAttr(setting::draw, b.getBoolAttr(c.draw)),
                                                    b.getNamedAttr(setting::lr, b.getF64FloatAttr(m.lr))}));
  NamedAttrList all(module->getAttrOfType<DictionaryAttr>(attr::train));
  for (NamedAttribute a : extra)
    all.set(a.getName(), a.getValue());
  module->setAttr(attr::train, all.getDictionary(&m.context));
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
