// The model contract, checked wherever the IR is verified (after parsing, and after every pass,
// in every tool): each kiln.* attribute on the thing it belongs to, with a value of its type, and
// each entry function whole: every argument one role, names unique per kind, no empty tensor.
#include "ir/Dialect.h"

#include "kiln/contract.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/StringMap.h"

#include <string_view>

using namespace mlir;

namespace kiln {
namespace {

// The roles an entry's argument can have; exactly one per argument.
constexpr const char *kArgumentRoles[] = {attr::param, attr::buffer, attr::state, attr::input,
                                          attr::lr,    attr::step,   attr::random};

// Named kinds, whose names must be unique within an entry.
constexpr const char *kNamedRoles[] = {attr::param, attr::buffer, attr::state, attr::input};

bool is(NamedAttribute a, const char *name) { return a.getName().getValue() == name; }

template <typename AttrT> LogicalResult expect(Operation *op, NamedAttribute a, StringRef what) {
  if (llvm::isa<AttrT>(a.getValue()))
    return success();
  return op->emitError() << a.getName().getValue() << " must be " << what << ", not " << a.getValue();
}

LogicalResult verifySetting(Operation *op, NamedAttribute entry) {
  StringRef key = entry.getName().getValue();
  for (const setting::Spec &spec : setting::kSpecs) {
    if (key != spec.key)
      continue;
    Attribute v = entry.getValue();
    auto count = llvm::dyn_cast<IntegerAttr>(v);
    bool ok = spec.kind == setting::Kind::text    ? llvm::isa<StringAttr>(v)
              : spec.kind == setting::Kind::flag  ? llvm::isa<BoolAttr>(v)
              : spec.kind == setting::Kind::count ? count && !count.getType().isInteger(1) && count.getInt() >= 0
                                                  : llvm::isa<FloatAttr, IntegerAttr>(v) && !llvm::isa<BoolAttr>(v);
    const char *what = spec.kind == setting::Kind::text    ? "a string"
                       : spec.kind == setting::Kind::flag  ? "true or false"
                       : spec.kind == setting::Kind::count ? "a whole number of at least 0"
                                                           : "a number";
    if (!ok)
      return op->emitError() << attr::train << ": '" << key << "' must be " << what << ", not " << v;
    if (key == setting::task) {
      std::string_view task(llvm::cast<StringAttr>(v).getValue());
      if (!llvm::is_contained(setting::kTasks, task))
        return op->emitError() << attr::train << ": unknown task '" << task
                               << "' (expected regression or classification)";
    }
    return success();
  }
  std::string known;
  for (const setting::Spec &spec : setting::kSpecs)
    known += std::string(known.empty() ? "" : ", ") + spec.key;
  return op->emitError() << attr::train << ": unknown setting '" << key << "' (known: " << known << ")";
}

LogicalResult verifyModuleAttribute(Operation *op, NamedAttribute a) {
  if (!llvm::isa<ModuleOp>(op))
    return op->emitError() << a.getName().getValue() << " belongs on the module";
  if (is(a, attr::model))
    return expect<StringAttr>(op, a, "the model's name, a string");
  if (is(a, attr::ranks)) {
    auto ranks = llvm::dyn_cast<IntegerAttr>(a.getValue());
    if (!ranks || ranks.getInt() < 1)
      return op->emitError() << attr::ranks << " must be a number of processes, at least 1, not " << a.getValue();
    return success();
  }
  auto dict = llvm::dyn_cast<DictionaryAttr>(a.getValue());
  if (!dict)
    return op->emitError() << a.getName().getValue() << " must be a dictionary, not " << a.getValue();
  if (is(a, attr::train)) {
    for (NamedAttribute entry : dict)
      if (failed(verifySetting(op, entry)))
        return failure();
    return success();
  }
  if (is(a, attr::optimizer)) {
    Attribute name = dict.get(optimizer_key::name);
    if (name && !llvm::isa<StringAttr>(name))
      return op->emitError() << attr::optimizer << ": 'name' must be a string, not " << name;
    return success();
  }
  // kiln.min_rows
  auto rows = llvm::dyn_cast_or_null<IntegerAttr>(dict.get(min_rows::rows));
  if (!rows || rows.getInt() < 1)
    return op->emitError() << attr::min_rows << " needs 'rows', a whole number of at least 1";
  Attribute why = dict.get(min_rows::why);
  if (why && !llvm::isa<StringAttr>(why))
    return op->emitError() << attr::min_rows << ": 'why' must be a string, not " << why;
  return success();
}

// Tensors of the model hold at least one element: a dimension of 0 would divide by zero where
// the batch or a mean is computed.
LogicalResult verifyNotEmpty(Operation *at, Type type) {
  auto tensor = llvm::dyn_cast<RankedTensorType>(type);
  if (tensor && llvm::is_contained(tensor.getShape(), 0))
    return at->emitError() << type << " has a dimension of size 0; kiln's tensors hold at least one element";
  return success();
}

// An entry of the model: a function whose arguments carry kiln roles. Each has exactly one, the
// names of each kind are unique, and no tensor of it is empty.
LogicalResult verifyEntry(FunctionOpInterface fn) {
  auto where = [&](unsigned i) { return (Twine("@") + fn.getName() + "'s argument " + Twine(i)).str(); };
  llvm::StringMap<unsigned> seen[std::size(kNamedRoles)];
  unsigned unnamed[std::size(kArgumentRoles)] = {};
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    const char *role = nullptr;
    for (const char *r : kArgumentRoles) {
      if (!fn.getArgAttr(i, r))
        continue;
      if (role)
        return fn.emitError() << where(i) << " has two roles, " << role << " and " << r;
      role = r;
    }
    if (!role)
      return fn.emitError() << where(i) << " (" << fn.getArgumentTypes()[i] << ") has no kiln role: " << attr::param
                            << ", " << attr::state << ", " << attr::buffer << ", " << attr::input << ", " << attr::lr
                            << ", " << attr::step << " or " << attr::random;
    for (auto [k, named] : llvm::enumerate(kNamedRoles))
      if (role == named) {
        StringRef name = llvm::cast<StringAttr>(fn.getArgAttr(i, role)).getValue();
        auto [it, added] = seen[k].try_emplace(name, i);
        if (!added)
          return fn.emitError() << where(i) << " is a second " << role << " named '" << name << "' (argument "
                                << it->second << " is the first); names are unique within an entry";
      }
    for (auto [k, single] : llvm::enumerate(kArgumentRoles))
      if (role == single && (single == attr::lr || single == attr::step || single == attr::random) && unnamed[k]++ > 0)
        return fn.emitError() << where(i) << " is a second " << role << " argument";
    if (failed(verifyNotEmpty(fn, fn.getArgumentTypes()[i])))
      return failure();
  }
  WalkResult walk = fn->walk([](Operation *op) {
    for (Type t : op->getResultTypes())
      if (failed(verifyNotEmpty(op, t)))
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

// Whether `index` is the first argument of `fn` with a kiln attribute and `a` its first: the
// entry is checked once, there.
bool firstKilnArgAttribute(FunctionOpInterface fn, unsigned index, NamedAttribute a) {
  for (unsigned i = 0; i <= index; ++i)
    for (NamedAttribute other : fn.getArgAttrs(i))
      if (other.getName().getValue().starts_with(KilnDialect::getDialectNamespace()))
        return i == index && other.getName() == a.getName();
  return false;
}

} // namespace

LogicalResult KilnDialect::verifyOperationAttribute(Operation *op, NamedAttribute a) {
  if (is(a, attr::model) || is(a, attr::train) || is(a, attr::optimizer) || is(a, attr::min_rows) || is(a, attr::ranks))
    return verifyModuleAttribute(op, a);
  if (is(a, attr::role)) {
    auto role = llvm::dyn_cast<StringAttr>(a.getValue());
    if (!llvm::isa<FunctionOpInterface>(op) || !role ||
        !parseSpelling(kFunctionRoles, std::string_view(role.getValue())))
      return op->emitError() << attr::role << " is the role of a function: forward, grad, train or eval; not "
                             << a.getValue();
    return success();
  }
  if (is(a, attr::of))
    return expect<StringAttr>(op, a, "a string");
  if (is(a, attr::sources) || is(a, attr::schedule) || is(a, attr::unfused)) {
    auto list = llvm::dyn_cast<ArrayAttr>(a.getValue());
    if (!list || !llvm::all_of(list, [](Attribute e) { return llvm::isa<StringAttr>(e); }))
      return op->emitError() << a.getName().getValue() << " must be a list of strings, not " << a.getValue();
    return success();
  }
  return op->emitError() << "unknown attribute '" << a.getName().getValue() << "' on '" << op->getName() << "'";
}

LogicalResult KilnDialect::verifyRegionArgAttribute(Operation *op, unsigned, unsigned index, NamedAttribute a) {
  auto fn = llvm::dyn_cast<FunctionOpInterface>(op);
  if (!fn)
    return op->emitError() << a.getName().getValue() << " belongs on a function's argument";
  const bool named = is(a, attr::param) || is(a, attr::buffer) || is(a, attr::state) || is(a, attr::input);
  if (named && failed(expect<StringAttr>(op, a, "a name, a string")))
    return failure();
  const bool marker = is(a, attr::lr) || is(a, attr::step) || is(a, attr::random) || is(a, attr::integer);
  if (marker && failed(expect<UnitAttr>(op, a, "a unit attribute (no value)")))
    return failure();
  if (is(a, attr::fan_in)) {
    auto fan = llvm::dyn_cast<IntegerAttr>(a.getValue());
    if (!fan || fan.getInt() < 0)
      return op->emitError() << attr::fan_in << " must be a whole number of at least 0, not " << a.getValue();
  }
  // kiln.init's value is checked where the start is planned, which names the argument.
  if (!named && !marker && !is(a, attr::fan_in) && !is(a, attr::init))
    return op->emitError() << "unknown argument attribute '" << a.getName().getValue() << "'";
  if (firstKilnArgAttribute(fn, index, a))
    return verifyEntry(fn);
  return success();
}

LogicalResult KilnDialect::verifyRegionResultAttribute(Operation *op, unsigned, unsigned, NamedAttribute a) {
  if (!llvm::isa<FunctionOpInterface>(op))
    return op->emitError() << a.getName().getValue() << " belongs on a function's result";
  if (is(a, attr::output) || is(a, attr::update_of) || is(a, attr::grad_of))
    return expect<StringAttr>(op, a, "a name, a string");
  return op->emitError() << "unknown result attribute '" << a.getName().getValue() << "'";
}

} // namespace kiln
