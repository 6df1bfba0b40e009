// kiln's C++ DSL: tensors traced into the kiln dialect.
//
// A Trace records a model's forward computation as `func.func @forward`: inputs and
// parameters become its arguments, the loss its first result. Tensor operations broadcast like
// PyTorch's (trailing dimensions aligned, size-1 dimensions expanded) by inserting explicit
// kiln.broadcast_in_dim ops. Shape errors throw kiln::Error naming the op, both shapes and the
// DSL line. This header depends on neither MLIR nor Halide.
#ifndef KILN_TENSOR_H
#define KILN_TENSOR_H

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln {

using Shape = std::vector<int64_t>;

// A user error in a model description (wrong shape, bad argument).
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where in the model's source an op was written; defaults to the caller's line.
struct Where {
  const char *file;
  int line;
  static Where here(const char *file = __builtin_FILE(), int line = __builtin_LINE()) {
    return {file, line};
  }
};

class Trace;

class Tensor {
public:
  Tensor() = default;
  const Shape &shape() const { return shape_; }
  int64_t dim(int d) const;
  bool defined() const { return trace_ != nullptr; }

  Tensor matmul(const Tensor &rhs, Where at = Where::here()) const;
  Tensor t(Where at = Where::here()) const;  // 2-D transpose
  Tensor transpose(std::vector<int64_t> permutation, Where at = Where::here()) const;
  Tensor reshape(Shape shape, Where at = Where::here()) const;
  Tensor sum(std::vector<int64_t> dims, Where at = Where::here()) const;
  Tensor mean(std::vector<int64_t> dims, Where at = Where::here()) const;
  Tensor mean(Where at = Where::here()) const;  // over every element
  Tensor exp(Where at = Where::here()) const;
  Tensor log(Where at = Where::here()) const;
  Tensor broadcast_to(Shape shape, Where at = Where::here()) const;

  // Internal: the traced value.
  Tensor(Trace *trace, void *value, Shape shape) : trace_(trace), value_(value), shape_(std::move(shape)) {}
  Trace *trace() const { return trace_; }
  void *value() const { return value_; }

private:
  Trace *trace_ = nullptr;
  void *value_ = nullptr;  // an mlir::Value as an opaque pointer
  Shape shape_;
};

Tensor operator+(const Tensor &a, const Tensor &b);
Tensor operator-(const Tensor &a, const Tensor &b);
Tensor operator*(const Tensor &a, const Tensor &b);
Tensor operator/(const Tensor &a, const Tensor &b);
Tensor operator+(const Tensor &a, float b);
Tensor operator-(const Tensor &a, float b);
Tensor operator*(const Tensor &a, float b);
Tensor operator/(const Tensor &a, float b);
Tensor operator*(float a, const Tensor &b);
Tensor operator-(const Tensor &a);
Tensor maximum(const Tensor &a, const Tensor &b, Where at = Where::here());

// Comparisons give masks (i1 tensors) for `where`.
Tensor gt(const Tensor &a, const Tensor &b, Where at = Where::here());
Tensor ge(const Tensor &a, const Tensor &b, Where at = Where::here());
Tensor lt(const Tensor &a, const Tensor &b, Where at = Where::here());
Tensor eq(const Tensor &a, const Tensor &b, Where at = Where::here());
Tensor where(const Tensor &mask, const Tensor &a, const Tensor &b, Where at = Where::here());

// A splat constant with `shape`.
Tensor full(Trace &trace, Shape shape, float value, Where at = Where::here());

namespace optim {
// PyTorch's torch.optim.SGD hyper-parameters (the learning rate is a runtime input whose
// default is this value).
struct SGD {
  double lr = 0.01, momentum = 0.0, dampening = 0.0, weight_decay = 0.0;
  bool nesterov = false;
};
} // namespace optim

// How the compiled binary trains by default (each is also a flag of the binary).
struct TrainConfig {
  std::string dataset;   // the runtime's synthetic set, e.g. "regression"
  int64_t steps = 100;
  int64_t log_every = 5;
};

class Trace {
public:
  explicit Trace(std::string model);
  ~Trace();
  Trace(const Trace &) = delete;
  Trace &operator=(const Trace &) = delete;

  // The trace that nn layers register their parameters with (the most recent one alive).
  static Trace &current();

  Tensor input(const std::string &name, Shape shape);
  Tensor parameter(const std::string &name, Shape shape, int64_t fan_in);
  void rename_parameter(const Tensor &param, const std::string &name);
  void output(const std::string &name, const Tensor &value);  // besides the loss
  void optimizer(const optim::SGD &sgd);
  void train(const TrainConfig &config);

  // Ends the trace with `loss` (a scalar) and returns the module as text.
  std::string finish(const Tensor &loss);
  // finish() and write the text to `path`.
  void write(const std::string &path, const Tensor &loss);

  struct Impl;
  Impl &impl() { return *impl_; }

private:
  std::unique_ptr<Impl> impl_;
};

} // namespace kiln

#endif
