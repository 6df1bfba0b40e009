// torch.nn-style layers, activations and losses as compositions of kiln::Tensor operations.
#include "kiln/nn.h"

#include <cstdlib>
#include <cxxabi.h>
#include <sstream>
#include <typeinfo>

namespace kiln::nn {
namespace {

Tensor scalar(const Tensor &like, float v, Where at) { return full(*like.trace(), {}, v, at); }

void checkProbability(double p, const std::string &where) {
  if (p >= 0.0 && p <= 1.0)
    return;
  std::ostringstream os;
  os << where << ": dropout probability has to be between 0 and 1, but got " << p;
  throw Error(os.str());
}

} // namespace

Tensor relu(const Tensor &x, Where at) {
  CallSite site(at);
  Tensor zero = scalar(x, 0.0f, at);
  return where(gt(x, zero, at), x, zero, at);
}

// Each branch only sees the inputs of its own sign (the other side is replaced by 0), so exp
// never exceeds 1: the value saturates to 0 and 1 as PyTorch's does and the gradient stays
// finite (never 0 * inf) for large |x|, and is exact at 0.
Tensor sigmoid(const Tensor &x, Where at) {
  CallSite site(at);
  Tensor zero = scalar(x, 0.0f, at), one = scalar(x, 1.0f, at);
  Tensor positive = ge(x, zero, at);
  Tensor ePos = (-where(positive, x, zero, at)).exp(at); // exp(-x) for x >= 0
  Tensor eNeg = where(positive, zero, x, at).exp(at);    // exp(x) for x < 0
  return where(positive, one / (one + ePos), eNeg / (one + eNeg), at);
}

// tanh(x) = (1 - exp(-2x)) / (1 + exp(-2x)) for x >= 0 and (exp(2x) - 1) / (exp(2x) + 1)
// below, each branch fed only its own side as in sigmoid.
Tensor tanh(const Tensor &x, Where at) {
  CallSite site(at);
  Tensor zero = scalar(x, 0.0f, at), one = scalar(x, 1.0f, at);
  Tensor positive = ge(x, zero, at);
  Tensor tPos = (-2.0f * where(positive, x, zero, at)).exp(at);
  Tensor tNeg = (2.0f * where(positive, zero, x, at)).exp(at);
  return where(positive, (one - tPos) / (one + tPos), (tNeg - one) / (tNeg + one), at);
}

// The log branch sees min(x, threshold), so exp cannot overflow where the result is x itself
// and the untaken branch cannot leak inf * 0 = NaN into the gradient.
Tensor softplus(const Tensor &x, float threshold, Where at) {
  CallSite site(at);
  Tensor limit = scalar(x, threshold, at);
  Tensor above = gt(x, limit, at);
  Tensor safe = where(above, limit, x, at);
  Tensor smooth = (scalar(x, 1.0f, at) + safe.exp(at)).log(at);
  return where(above, x, smooth, at);
}

Tensor gelu(const Tensor &x, Where at) {
  CallSite site(at);
  return 0.5f * x * ((x * 0.70710678118654752f).erf(at) + 1.0f);
}

Tensor log_softmax(const Tensor &x, Where at) {
  CallSite site(at);
  if (x.shape().empty())
    throw Error(at.str() + ": log_softmax needs at least one dimension");
  int64_t last = int64_t(x.shape().size()) - 1;
  Shape kept(x.shape().begin(), x.shape().end() - 1);
  kept.push_back(1);
  // The maximum only keeps exp() in range; its exact gradient is zero, so it is detached.
  Tensor shifted = x - x.max({last}, at).detach(at).reshape(kept, at);
  Tensor logSum = shifted.exp(at).sum({last}, at).log(at);
  return shifted - logSum.reshape(kept, at);
}

template <typename T> std::vector<T> Module::collect(std::vector<T> Module::*own) const {
  std::vector<T> all = this->*own;
  for (const Child &c : children_)
    for (const T &t : child(c).collect(own))
      all.push_back(t);
  return all;
}

std::vector<Param> Module::parameters() const { return collect(&Module::params_); }
std::vector<Buffer> Module::buffers() const { return collect(&Module::buffers_); }

Param &Module::register_parameter(const std::string &name, Shape shape, int64_t fanIn, std::optional<double> init) {
  params_.push_back({name, std::move(shape), fanIn, init});
  return params_.back();
}

Buffer &Module::register_buffer(const std::string &name, Shape shape, double init, bool integer) {
  buffers_.push_back({name, std::move(shape), init, integer});
  return buffers_.back();
}

void Module::prefix(const std::string &name) {
  for (Param &p : params_)
    p.name = name + "." + p.name;
  for (Buffer &b : buffers_)
    b.name = name + "." + b.name;
  for (Child &c : children_)
    child(c).prefix(name);
}

void Module::register_module(const std::string &name, Module &child) {
  child.prefix(name);
  children_.push_back({name, reinterpret_cast<const char *>(&child) - reinterpret_cast<const char *>(this), nullptr});
}

void Module::register_owned(const std::string &name, std::shared_ptr<Module> child) {
  child->prefix(name);
  children_.push_back({name, 0, std::move(child)});
}

std::string Module::repr() const {
  int status = 0;
  char *demangled = abi::__cxa_demangle(typeid(*this).name(), nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : typeid(*this).name();
  std::free(demangled);
  if (size_t colon = name.rfind("::"); colon != std::string::npos)
    name = name.substr(colon + 2);
  if (children_.empty())
    return name + "()";
  std::string out = name + "(\n";
  for (const Child &c : children_) {
    std::string indented;
    for (char ch : child(c).repr())
      indented += ch == '\n' ? std::string("\n  ") : std::string(1, ch);
    out += "  (" + c.name + "): " + indented + "\n";
  }
  return out + ")";
}

const Module &Module::child(const Child &c) const {
  return c.owned ? *c.owned : *reinterpret_cast<const Module *>(reinterpret_cast<const char *>(this) + c.offset);
}

Module &Module::child(const Child &c) { return const_cast<Module &>(static_cast<const Module *>(this)->child(c)); }

Linear::Linear(int64_t in, int64_t out) : in_features(in), out_features(out) {
  if (in <= 0 || out <= 0)
    throw Error("Linear(" + std::to_string(in) + ", " + std::to_string(out) + "): feature counts must be positive");
  register_parameter("weight", {out, in}, in);
  register_parameter("bias", {out}, in);
}

Tensor Linear::forward(const Tensor &x) const {
  Where at = Where::current();
  if (x.shape().size() != 2 || x.shape()[1] != in_features)
    throw Error(at.str() + ": Linear(" + std::to_string(in_features) + ", " + std::to_string(out_features) +
                ") expects input [batch, " + std::to_string(in_features) + "], got a tensor of rank " +
                std::to_string(x.shape().size()) +
                (x.shape().size() == 2 ? " with " + std::to_string(x.shape()[1]) + " features" : ""));
  std::vector<Param> p = parameters();
  return x.matmul(p[0].get().t(at), at) + p[1].get();
}

std::string Linear::repr() const {
  return "Linear(in_features=" + std::to_string(in_features) + ", out_features=" + std::to_string(out_features) +
         ", bias=True)";
}

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, int64_t d, bool b)
    : in_channels(in), out_channels(out), kernel_size(k), stride(s), padding(p), dilation(d), bias(b) {
  if (in <= 0 || out <= 0 || k <= 0 || s <= 0 || p < 0 || d <= 0)
    throw Error("Conv2d(" + std::to_string(in) + ", " + std::to_string(out) + ", " + std::to_string(k) +
                "): channels, kernel, stride and dilation must be positive, padding >= 0");
  register_parameter("weight", {out, in, k, k}, in * k * k);
  if (bias)
    register_parameter("bias", {out}, in * k * k);
}

Tensor Conv2d::forward(const Tensor &x) const {
  Where at = Where::current();
  std::vector<Param> p = parameters();
  Tensor y = conv2d(x, p[0].get(), {stride, stride}, {padding, padding}, {dilation, dilation}, at);
  return bias ? y + p[1].get().reshape({out_channels, 1, 1}, at) : y;
}

std::string Conv2d::repr() const {
  auto pair = [](int64_t v) { return "(" + std::to_string(v) + ", " + std::to_string(v) + ")"; };
  return "Conv2d(" + std::to_string(in_channels) + ", " + std::to_string(out_channels) +
         ", kernel_size=" + pair(kernel_size) + ", stride=" + pair(stride) +
         (padding ? ", padding=" + pair(padding) : "") + (dilation != 1 ? ", dilation=" + pair(dilation) : "") +
         (bias ? "" : ", bias=False") + ")";
}

Tensor LeakyReLU::forward(const Tensor &x) const {
  Where at = Where::current();
  Tensor zero = scalar(x, 0.0f, at);
  return where(gt(x, zero, at), x, x * negative_slope, at);
}

namespace functional {
Tensor dropout(const Tensor &x, double p, bool training, Where at) {
  checkProbability(p, at.str());
  if (!training)
    return x;
  CallSite site(at);
  Tensor u = rand(*x.trace(), x.shape(), at);
  Tensor keep = lt(u, scalar(x, float(1.0 - p), at), at);
  // p = 1 drops everything: the kept scale is never used, and 0 keeps inf out of the product.
  float kept = p < 1.0 ? float(1.0 / (1.0 - p)) : 0.0f;
  return x * where(keep, scalar(x, kept, at), scalar(x, 0.0f, at), at);
}
} // namespace functional

Dropout::Dropout(double p) : p(p) { checkProbability(p, "Dropout"); }

Tensor Dropout::forward(const Tensor &x) const {
  return functional::dropout(x, p, x.trace()->training(), Where::current());
}

std::string Dropout::repr() const {
  std::ostringstream os;
  os << "Dropout(p=" << p << ", inplace=False)";
  return os.str();
}

BatchNorm::BatchNorm(int spatialDims, int64_t numFeatures, double eps, std::optional<double> momentum, bool affine,
                     bool trackRunningStats)
    : num_features(numFeatures), eps(eps), momentum(momentum), affine(affine), track_running_stats(trackRunningStats),
      spatialDims_(spatialDims) {
  std::string name = label();
  if (numFeatures <= 0)
    throw Error(name + ": num_features must be positive");
  if (!(eps > 0))
    throw Error(name + ": eps must be positive");
  if (momentum && !(*momentum >= 0.0 && *momentum <= 1.0))
    throw Error(name + ": momentum must lie in [0, 1] (or be absent for a cumulative average)");
  if (affine) {
    register_parameter("weight", {numFeatures}, 1, 1.0);
    register_parameter("bias", {numFeatures}, 1, 0.0);
  }
  if (trackRunningStats) {
    register_buffer("running_mean", {numFeatures}, 0.0);
    register_buffer("running_var", {numFeatures}, 1.0);
    register_buffer("num_batches_tracked", {}, 0.0, /*integer=*/true);
  }
}

Tensor BatchNorm::forward(const Tensor &x) const {
  Where at = Where::current();
  const Shape &s = x.shape();
  const int64_t rank = int64_t(s.size());
  const std::string name = label();
  if (spatialDims_ == 2 ? rank != 4 : rank != 2 && rank != 3)
    throw Error(at.str() + ": " + name + " expects input " +
                (spatialDims_ == 2 ? "[N, C, H, W]" : "[N, C] or [N, C, L]") + ", got a tensor of rank " +
                std::to_string(rank));
  if (s[1] != num_features)
    throw Error(at.str() + ": " + name + " expects " + std::to_string(num_features) + " channels (dimension 1), got " +
                std::to_string(s[1]));
  // Every dimension but the channels is reduced; per-channel values broadcast back from [1, C, 1...].
  std::vector<int64_t> dims = {0};
  Shape perChannel(size_t(rank), 1);
  perChannel[1] = num_features;
  for (int64_t d = 2; d < rank; ++d)
    dims.push_back(d);
  auto spread = [&](const Tensor &c) { return c.reshape(perChannel, at); };
  Trace &trace = *x.trace();
  std::vector<Param> p = parameters();
  std::vector<Buffer> b = buffers();
  Tensor y;
  if (trace.training() || !track_running_stats) {
    // The batch's statistics: sums over the count of values per channel (not means, which a
    // data-parallel rank's step divides by the ranks; each rank's statistics are its own, as each
    // process's are under PyTorch's DistributedDataParallel).
    int64_t perRow = 1;
    for (int64_t d = 2; d < rank; ++d)
      perRow *= s[size_t(d)];
    if (perRow * s[0] == 1)
      throw Error(at.str() + ": " + name + ": expected more than 1 value per channel when training, got input " +
                  "of shape with 1 value per channel");
    if (perRow == 1 && trace.training()) {
      // The file's base name, as the IR's locations give it: traced files do not depend on
      // where the model was built.
      std::string file = at.file;
      file = file.substr(file.find_last_of('/') + 1);
      trace.require_rows(2, name + " at " + file + ":" + std::to_string(at.line) +
                                " needs more than 1 value per channel in training");
    }
    // Ones shaped as x by an elementwise op on it (x > x is always false), so that a step
    // re-specialised to another batch resizes them; the canonicalizer then folds them to a
    // constant, and the count is computed once, when the binary starts.
    Tensor ones = where(gt(x, x, at), full(trace, {}, 0.0f, at), full(trace, {}, 1.0f, at), at);
    Tensor count = ones.sum(dims, at);
    Tensor mean = x.sum(dims, at) / count;
    Tensor centered = x - spread(mean);
    Tensor var = (centered * centered).sum(dims, at) / count;
    y = centered / spread((var + float(eps)).sqrt(at));
    if (trace.training() && track_running_stats) {
      Tensor tracked = b[2].get() + 1.0f;
      b[2].set(tracked);
      Tensor factor = momentum ? full(trace, {}, float(*momentum), at) : full(trace, {}, 1.0f, at) / tracked;
      Tensor keep = full(trace, {}, 1.0f, at) - factor;
      Tensor unbiased = var * count / (count - 1.0f);
      b[0].set(b[0].get() * keep + mean * factor);
      b[1].set(b[1].get() * keep + unbiased * factor);
    }
  } else {
    y = (x - spread(b[0].get())) / spread((b[1].get() + float(eps)).sqrt(at));
  }
  if (affine)
    y = y * spread(p[0].get()) + spread(p[1].get());
  return y;
}

std::string BatchNorm::label() const {
  return "BatchNorm" + std::to_string(spatialDims_) + "d(" + std::to_string(num_features) + ")";
}

std::string BatchNorm::repr() const {
  std::ostringstream os;
  os << "BatchNorm" << spatialDims_ << "d(" << num_features << ", eps=" << eps << ", momentum=";
  if (momentum)
    os << *momentum;
  else
    os << "None";
  os << ", affine=" << (affine ? "True" : "False")
     << ", track_running_stats=" << (track_running_stats ? "True" : "False") << ")";
  return os.str();
}

std::string LeakyReLU::repr() const {
  std::ostringstream os;
  os << "LeakyReLU(negative_slope=" << negative_slope << ")";
  return os.str();
}

MaxPool2d::MaxPool2d(int64_t k, int64_t s, int64_t p) : kernel_size(k), stride(s ? s : k), padding(p) {}

Tensor MaxPool2d::forward(const Tensor &x) const {
  Where at = Where::current();
  return max_pool2d(x, {kernel_size, kernel_size}, {stride, stride}, {padding, padding}, at);
}

std::string MaxPool2d::repr() const {
  return "MaxPool2d(kernel_size=" + std::to_string(kernel_size) + ", stride=" + std::to_string(stride) +
         ", padding=" + std::to_string(padding) + ", dilation=1, ceil_mode=False)";
}

AvgPool2d::AvgPool2d(int64_t k, int64_t s, int64_t p) : kernel_size(k), stride(s ? s : k), padding(p) {}

Tensor AvgPool2d::forward(const Tensor &x) const {
  Where at = Where::current();
  return avg_pool2d(x, {kernel_size, kernel_size}, {stride, stride}, {padding, padding}, at);
}

std::string AvgPool2d::repr() const {
  return "AvgPool2d(kernel_size=" + std::to_string(kernel_size) + ", stride=" + std::to_string(stride) +
         ", padding=" + std::to_string(padding) + ")";
}

Tensor Flatten::forward(const Tensor &x) const {
  Where at = Where::current();
  if (x.shape().empty())
    throw Error(at.str() + ": Flatten needs a batch dimension");
  int64_t rest = 1;
  for (size_t i = 1; i < x.shape().size(); ++i)
    rest *= x.shape()[i];
  return x.reshape({x.shape()[0], rest}, at);
}

void Sequential::appendShared(std::shared_ptr<Module> layer) {
  register_owned(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
}

Tensor Sequential::forward(const Tensor &x) const {
  Where at = Where::current();
  Tensor h = x;
  for (const auto &layer : layers_)
    h = (*layer)(h, at);
  return h;
}

Tensor MSELoss::operator()(const Tensor &prediction, const Tensor &target, Where at) const {
  CallSite site(at);
  if (prediction.shape() != target.shape())
    throw Error(at.str() + ": MSELoss: prediction and target shapes differ");
  Tensor diff = prediction - target;
  return (diff * diff).mean(at);
}

Tensor CrossEntropyLoss::operator()(const Tensor &logits, const Tensor &labels, Where at) const {
  CallSite site(at);
  if (logits.shape().size() != 2 || labels.shape().size() != 1 || labels.shape()[0] != logits.shape()[0])
    throw Error(at.str() + ": CrossEntropyLoss expects logits [batch, classes] and labels [batch]");
  Tensor picked = (one_hot(labels, logits.shape()[1], at) * log_softmax(logits, at)).sum({1}, at);
  return -picked.mean(at);
}

} // namespace kiln::nn
