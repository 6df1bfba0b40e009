// Tensor operations: PyTorch-style broadcasting made explicit, then one kiln op each.
#include "frontend/TraceImpl.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include <sstream>

using namespace mlir;

namespace kiln {
namespace {

std::string str(const Shape &s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i)
    os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

Trace &traceOf(const Tensor &a) {
  if (!a.defined())
    throw Error("use of an undefined kiln::Tensor");
  return *a.trace();
}

Trace::Impl &implOf(const Tensor &a) { return traceOf(a).impl(); }

OpBuilder &builderOf(const Tensor &a) { return implOf(a).builder(); }

// The op behind `v`, checked by its verifier: each op's one shape rule, reported at the DSL
// line that wrote the op (its location). A refused op is erased.
Tensor wrap(const Tensor &like, Value v) {
  if (Operation *op = v.getDefiningOp()) {
    std::string message;
    ScopedDiagnosticHandler capture(op->getContext(), [&](Diagnostic &d) {
      if (message.empty())
        message = d.str();
      return success();
    });
    if (failed(mlir::verify(op, /*verifyRecursively=*/false))) {
      std::string where;
      if (auto file = llvm::dyn_cast<FileLineColLoc>(op->getLoc()))
        where = file.getFilename().str() + ":" + std::to_string(file.getLine()) + ": ";
      op->erase();
      throw Error(where + message);
    }
  }
  return Trace::Impl::wrap(like.trace(), v);
}

Value val(const Tensor &t) { return Trace::Impl::unwrap(t); }

// The broadcast shape of two shapes, aligned at their trailing dimensions.
Shape broadcastShape(const Shape &a, const Shape &b, const char *op, Where at) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      throw Error(at.str() + ": " + op + ": shapes " + str(a) + " and " + str(b) + " cannot be broadcast together");
    out[out.size() - 1 - i] = std::max(da, db);
  }
  return out;
}

Tensor binary(const Tensor &a, const Tensor &b, const char *op, Where at,
              Value (*make)(OpBuilder &, Location, Value, Value)) {
  if (a.trace() != b.trace())
    throw Error(at.str() + ": " + op + ": operands come from different traces");
  val(a), val(b); // both must belong to the entry being traced
  Shape shape = broadcastShape(a.shape(), b.shape(), op, at);
  Tensor x = a.broadcast_to(shape, at), y = b.broadcast_to(shape, at);
  return wrap(a, make(builderOf(a), implOf(a).loc(at), val(x), val(y)));
}

Tensor scalarLike(const Tensor &a, float v, Where at) { return full(traceOf(a), {}, v, at); }

thread_local std::vector<Where> callSites;

void sameTrace(std::initializer_list<const Tensor *> tensors, const char *op, Where at) {
  for (const Tensor *t : tensors)
    if (t->trace() != (*tensors.begin())->trace())
      throw Error(at.str() + ": " + op + ": operands come from different traces");
}

} // namespace

Where Where::current() { return callSites.empty() ? Where{"<operator>", 0} : callSites.back(); }

CallSite::CallSite(Where at) { callSites.push_back(at); }

CallSite::~CallSite() { callSites.pop_back(); }

int64_t Tensor::dim(int d) const {
  int rank = int(shape_.size());
  if (d < -rank || d >= rank)
    throw Error("dimension " + std::to_string(d) + " is out of range for shape " + str(shape_));
  return shape_[d < 0 ? d + rank : d];
}

Tensor Tensor::broadcast_to(Shape shape, Where at) const {
  if (shape == shape_)
    return *this;
  if (shape.size() < shape_.size())
    throw Error(at.str() + ": cannot broadcast " + str(shape_) + " to " + str(shape));
  size_t offset = shape.size() - shape_.size();
  std::vector<int64_t> dims;
  for (size_t i = 0; i < shape_.size(); ++i) {
    if (shape_[i] != 1 && shape_[i] != shape[offset + i])
      throw Error(at.str() + ": cannot broadcast " + str(shape_) + " to " + str(shape));
    dims.push_back(int64_t(offset + i));
  }
  OpBuilder &b = builderOf(*this);
  return wrap(*this, BroadcastInDimOp::create(b, implOf(*this).loc(at), val(*this), b.getDenseI64ArrayAttr(dims),
                                              b.getDenseI64ArrayAttr(shape)));
}

Tensor Tensor::matmul(const Tensor &rhs, Where at) const {
  sameTrace({this, &rhs}, "matmul", at);
  return wrap(*this, MatmulOp::create(builderOf(*this), implOf(*this).loc(at), val(*this), val(rhs)));
}

Tensor Tensor::t(Where at) const {
  if (shape_.size() != 2)
    throw Error(at.str() + ": t() expects a 2-D tensor, got shape " + str(shape_));
  return transpose({1, 0}, at);
}

Tensor Tensor::transpose(std::vector<int64_t> perm, Where at) const {
  std::vector<bool> seen(shape_.size(), false);
  bool ok = perm.size() == shape_.size();
  for (int64_t p : perm)
    ok = ok && p >= 0 && p < int64_t(shape_.size()) && !seen[p] && (seen[p] = true);
  if (!ok)
    throw Error(at.str() + ": transpose: not a permutation of the dimensions of " + str(shape_));
  OpBuilder &b = builderOf(*this);
  return wrap(*this, TransposeOp::create(b, implOf(*this).loc(at), val(*this), b.getDenseI64ArrayAttr(perm)));
}

Tensor Tensor::reshape(Shape shape, Where at) const {
  for (int64_t d : shape)
    if (d < 0)
      throw Error(at.str() + ": reshape: dimension " + std::to_string(d) +
                  " is not allowed (shapes are static; -1 for 'infer' is not supported)");
  int64_t n = 1, m = 1;
  for (int64_t d : shape)
    n *= d;
  for (int64_t d : shape_)
    m *= d;
  if (n != m)
    throw Error(at.str() + ": reshape: cannot view " + str(shape_) + " as " + str(shape));
  OpBuilder &b = builderOf(*this);
  return wrap(*this, ReshapeOp::create(b, implOf(*this).loc(at), val(*this), b.getDenseI64ArrayAttr(shape)));
}

static std::vector<int64_t> checkedDims(const Shape &shape, std::vector<int64_t> dims, Where at) {
  for (int64_t &d : dims) {
    if (d < 0)
      d += int64_t(shape.size());
    if (d < 0 || d >= int64_t(shape.size()))
      throw Error(at.str() + ": reduction dimension out of range for shape " + str(shape));
  }
  std::sort(dims.begin(), dims.end());
  dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
  return dims;
}

Tensor Tensor::sum(std::vector<int64_t> dims, Where at) const {
  OpBuilder &b = builderOf(*this);
  return wrap(*this, ReduceSumOp::create(b, implOf(*this).loc(at), val(*this),
                                         b.getDenseI64ArrayAttr(checkedDims(shape_, dims, at))));
}

Tensor Tensor::mean(std::vector<int64_t> dims, Where at) const {
  OpBuilder &b = builderOf(*this);
  return wrap(*this, ReduceMeanOp::create(b, implOf(*this).loc(at), val(*this),
                                          b.getDenseI64ArrayAttr(checkedDims(shape_, dims, at))));
}

Tensor Tensor::mean(Where at) const {
  std::vector<int64_t> all(shape_.size());
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = int64_t(i);
  return mean(all, at);
}

Tensor Tensor::max(std::vector<int64_t> dims, Where at) const {
  OpBuilder &b = builderOf(*this);
  return wrap(*this, ReduceMaxOp::create(b, implOf(*this).loc(at), val(*this),
                                         b.getDenseI64ArrayAttr(checkedDims(shape_, dims, at))));
}

Tensor Tensor::sqrt(Where at) const {
  return wrap(*this, SqrtOp::create(builderOf(*this), implOf(*this).loc(at), val(*this)));
}

Tensor Tensor::detach(Where at) const {
  return wrap(*this, StopGradientOp::create(builderOf(*this), implOf(*this).loc(at), val(*this)));
}

Tensor Tensor::abs(Where at) const {
  return wrap(*this, AbsOp::create(builderOf(*this), implOf(*this).loc(at), val(*this)));
}

Tensor Tensor::erf(Where at) const {
  return wrap(*this, ErfOp::create(builderOf(*this), implOf(*this).loc(at), val(*this)));
}

Tensor Tensor::sin(Where at) const {
  return wrap(*this, SinOp::create(builderOf(*this), implOf(*this).loc(at), val(*this)));
}

Tensor Tensor::cos(Where at) const {
  return wrap(*this, CosOp::create(builderOf(*this), implOf(*this).loc(at), val(*this)));
}

Tensor conv2d(const Tensor &x, const Tensor &w, std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
              std::array<int64_t, 2> dilation, Where at) {
  sameTrace({&x, &w}, "conv2d", at);
  OpBuilder &b = builderOf(x);
  return wrap(x, Conv2dOp::create(b, implOf(x).loc(at), val(x), val(w), b.getDenseI64ArrayAttr({stride[0], stride[1]}),
                                  b.getDenseI64ArrayAttr({padding[0], padding[1]}),
                                  b.getDenseI64ArrayAttr({dilation[0], dilation[1]})));
}

template <typename PoolOp>
static Tensor pool(const Tensor &x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                   std::array<int64_t, 2> padding, Where at) {
  OpBuilder &b = builderOf(x);
  return wrap(x, PoolOp::create(b, implOf(x).loc(at), val(x), b.getDenseI64ArrayAttr({kernel[0], kernel[1]}),
                                b.getDenseI64ArrayAttr({stride[0], stride[1]}),
                                b.getDenseI64ArrayAttr({padding[0], padding[1]})));
}

Tensor max_pool2d(const Tensor &x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding, Where at) {
  return pool<MaxPool2dOp>(x, kernel, stride, padding, at);
}

Tensor avg_pool2d(const Tensor &x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding, Where at) {
  return pool<AvgPool2dOp>(x, kernel, stride, padding, at);
}

Tensor one_hot(const Tensor &labels, int64_t classes, Where at) {
  if (classes < 1)
    throw Error(at.str() + ": one_hot needs classes >= 1");
  auto type = llvm::cast<RankedTensorType>(val(labels).getType());
  if (!type.getElementType().isInteger(32))
    throw Error(at.str() + ": one_hot expects i32 labels");
  OpBuilder &b = builderOf(labels);
  return wrap(labels, OneHotOp::create(b, implOf(labels).loc(at), val(labels), classes));
}

Tensor Tensor::exp(Where at) const {
  return wrap(*this, ExpOp::create(builderOf(*this), implOf(*this).loc(at), val(*this)));
}

Tensor Tensor::log(Where at) const {
  return wrap(*this, LogOp::create(builderOf(*this), implOf(*this).loc(at), val(*this)));
}

#define KILN_BINARY(Sym, Op, name)                                                                                     \
  Tensor operator Sym(const Tensor &a, const Tensor &b) {                                                              \
    return binary(a, b, name, Where::current(),                                                                        \
                  [](OpBuilder &bld, Location l, Value x, Value y) -> Value { return Op::create(bld, l, x, y); });     \
  }                                                                                                                    \
  Tensor operator Sym(const Tensor &a, float b) { return a Sym scalarLike(a, b, Where::current()); }
KILN_BINARY(+, AddOp, "add")
KILN_BINARY(-, SubOp, "sub")
KILN_BINARY(*, MulOp, "mul")
KILN_BINARY(/, DivOp, "div")
#undef KILN_BINARY

Tensor operator*(float a, const Tensor &b) { return scalarLike(b, a, Where::current()) * b; }

Tensor operator-(const Tensor &a) {
  return wrap(a, NegOp::create(builderOf(a), implOf(a).loc(Where::current()), val(a)));
}

Tensor maximum(const Tensor &a, const Tensor &b, Where at) {
  return binary(a, b, "maximum", at,
                [](OpBuilder &bld, Location l, Value x, Value y) -> Value { return MaxOp::create(bld, l, x, y); });
}

Tensor minimum(const Tensor &a, const Tensor &b, Where at) {
  return binary(a, b, "minimum", at,
                [](OpBuilder &bld, Location l, Value x, Value y) -> Value { return MinOp::create(bld, l, x, y); });
}

static Tensor compare(const Tensor &a, const Tensor &b, const char *dir, Where at) {
  sameTrace({&a, &b}, "compare", at);
  Shape shape = broadcastShape(a.shape(), b.shape(), dir, at);
  Tensor x = a.broadcast_to(shape, at), y = b.broadcast_to(shape, at);
  return wrap(a, CompareOp::create(builderOf(a), implOf(a).loc(at), val(x), val(y), dir));
}

Tensor gt(const Tensor &a, const Tensor &b, Where at) { return compare(a, b, "GT", at); }
Tensor ge(const Tensor &a, const Tensor &b, Where at) { return compare(a, b, "GE", at); }
Tensor lt(const Tensor &a, const Tensor &b, Where at) { return compare(a, b, "LT", at); }
Tensor eq(const Tensor &a, const Tensor &b, Where at) { return compare(a, b, "EQ", at); }

Tensor where(const Tensor &mask, const Tensor &a, const Tensor &b, Where at) {
  sameTrace({&mask, &a, &b}, "where", at);
  Shape shape = broadcastShape(broadcastShape(mask.shape(), a.shape(), "where", at), b.shape(), "where", at);
  if (mask.shape() != shape)
    throw Error(at.str() + ": where: the mask's shape " + str(mask.shape()) + " must be the result shape " +
                str(shape));
  Tensor x = a.broadcast_to(shape, at), y = b.broadcast_to(shape, at);
  return wrap(a, SelectOp::create(builderOf(a), implOf(a).loc(at), val(mask), val(x), val(y)));
}

Tensor full(Trace &trace, Shape shape, float value, Where at) {
  for (int64_t d : shape)
    if (d < 0)
      throw Error(at.str() + ": full: negative dimension " + std::to_string(d));
  Trace::Impl &m = trace.impl();
  auto type = tensorOf(Float32Type::get(&m.context), shape);
  return Trace::Impl::wrap(&trace, splat(m.builder(), m.loc(at), type, value));
}

Tensor rand(Trace &trace, Shape shape, Where at) {
  for (int64_t d : shape)
    if (d < 1)
      throw Error(at.str() + ": rand: dimension " + std::to_string(d) + " (each must be at least 1)");
  Trace::Impl &m = trace.impl();
  Value key = m.randomKey("rand", at);
  OpBuilder &b = m.builder();
  Value u = RandomUniformOp::create(b, m.loc(at), key, shape, m.current().randomOps);
  Tensor like = Trace::Impl::wrap(&trace, key);
  Tensor result = wrap(like, u);
  ++m.current().randomOps;
  return result;
}

} // namespace kiln
