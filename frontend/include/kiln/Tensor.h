// kiln's C++ DSL: tensors traced into the kiln dialect.
//
// A Trace records a model's forward computation as `func.func @forward`: inputs and
// parameters become its arguments, the loss its first result. Tensor operations broadcast like
// PyTorch's (trailing dimensions aligned, size-1 dimensions expanded) by inserting explicit
// kiln.broadcast_in_dim ops. Shape errors throw kiln::Error naming the op, both shapes and the
// DSL line. This header depends on neither MLIR nor Halide.
#ifndef KILN_TENSOR_H
#define KILN_TENSOR_H

#include "kiln/types.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
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
  static Where here(const char *file = __builtin_FILE(), int line = __builtin_LINE()) { return {file, line}; }
  // The innermost CallSite alive: where the layer being traced was called. Operators (a + b),
  // which cannot take a location, and the layers' own ops are recorded there.
  static Where current();
  std::string str() const { return std::string(file) + ":" + std::to_string(line); }
};

// Makes `at` the current location while it lives (a module call, a composite like relu).
class CallSite {
public:
  explicit CallSite(Where at);
  ~CallSite();
  CallSite(const CallSite &) = delete;
  CallSite &operator=(const CallSite &) = delete;
};

class Trace;

class Tensor {
public:
  Tensor() = default;
  const Shape &shape() const { return shape_; }
  int64_t dim(int d) const;
  bool defined() const { return trace_ != nullptr; }

  Tensor matmul(const Tensor &rhs, Where at = Where::here()) const;
  Tensor t(Where at = Where::here()) const; // 2-D transpose
  Tensor transpose(std::vector<int64_t> permutation, Where at = Where::here()) const;
  Tensor reshape(Shape shape, Where at = Where::here()) const;
  Tensor sum(std::vector<int64_t> dims, Where at = Where::here()) const;
  Tensor mean(std::vector<int64_t> dims, Where at = Where::here()) const;
  Tensor mean(Where at = Where::here()) const; // over every element
  Tensor max(std::vector<int64_t> dims, Where at = Where::here()) const;
  Tensor exp(Where at = Where::here()) const;
  Tensor sqrt(Where at = Where::here()) const;
  Tensor detach(Where at = Where::here()) const; // the same values, no gradient (torch's detach)
  Tensor abs(Where at = Where::here()) const;
  Tensor sin(Where at = Where::here()) const;
  Tensor cos(Where at = Where::here()) const;
  Tensor erf(Where at = Where::here()) const;
  Tensor log(Where at = Where::here()) const;
  Tensor broadcast_to(Shape shape, Where at = Where::here()) const;

  // Internal: the traced value.
  Tensor(Trace *trace, void *value, Shape shape) : trace_(trace), value_(value), shape_(std::move(shape)) {}
  Trace *trace() const { return trace_; }
  void *value() const { return value_; }

private:
  Trace *trace_ = nullptr;
  void *value_ = nullptr; // an mlir::Value as an opaque pointer
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
Tensor minimum(const Tensor &a, const Tensor &b, Where at = Where::here());

// Comparisons give masks (i1 tensors) for `where`.
Tensor gt(const Tensor &a, const Tensor &b, Where at = Where::here());
Tensor ge(const Tensor &a, const Tensor &b, Where at = Where::here());
Tensor lt(const Tensor &a, const Tensor &b, Where at = Where::here());
Tensor eq(const Tensor &a, const Tensor &b, Where at = Where::here());
Tensor where(const Tensor &mask, const Tensor &a, const Tensor &b, Where at = Where::here());

// 2-D convolution of an NCHW input with an OIHW filter (no bias); (height, width) pairs.
Tensor conv2d(const Tensor &input, const Tensor &filter, std::array<int64_t, 2> stride = {1, 1},
              std::array<int64_t, 2> padding = {0, 0}, std::array<int64_t, 2> dilation = {1, 1},
              Where at = Where::here());
Tensor max_pool2d(const Tensor &input, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding = {0, 0}, Where at = Where::here());
Tensor avg_pool2d(const Tensor &input, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding = {0, 0}, Where at = Where::here());

// Integer labels [..] -> [.., classes] of 0/1.
Tensor one_hot(const Tensor &labels, int64_t classes, Where at = Where::here());

// A splat constant with `shape`.
Tensor full(Trace &trace, Shape shape, float value, Where at = Where::here());

// Uniform numbers in [0, 1) with `shape` (torch.rand), drawn in a train step by the run's
// counter-based generator: each step draws new ones, a function of the run's seed, the step
// and the op's place in the trace, so a rerun or a resumed run draws the same.
Tensor rand(Trace &trace, Shape shape, Where at = Where::here());

namespace optim {
// torch.optim hyper-parameters, PyTorch's defaults. The learning rate is a runtime input of
// the compiled binary whose default is `lr`.
struct SGD {
  double lr = 0.01, momentum = 0.0, dampening = 0.0, weight_decay = 0.0;
  bool nesterov = false;
};
struct Adagrad {
  double lr = 0.01, lr_decay = 0.0, weight_decay = 0.0, initial_accumulator_value = 0.0, eps = 1e-10;
};
struct Adadelta {
  double lr = 1.0, rho = 0.9, eps = 1e-6, weight_decay = 0.0;
};
struct RMSprop {
  double lr = 0.01, alpha = 0.99, eps = 1e-8, weight_decay = 0.0, momentum = 0.0;
  bool centered = false;
};
struct Adam {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  bool amsgrad = false;
};
struct AdamW {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
  bool amsgrad = false;
};
} // namespace optim

// How the compiled binary trains by default (each is also a flag of the binary).
struct TrainConfig {
  std::string dataset;             // the runtime's synthetic set, e.g. "regression"
  std::string task = "regression"; // or "classification" (accuracy, class picture)
  int64_t epochs = 1;
  int64_t steps = 0; // > 0: stop after this many steps instead of epochs
  int64_t batch = 0; // rows per step
  bool shuffle = false;
  bool drop_last = false;
  int64_t log_every = 5;
  bool print_batches = false;   // print every batch (lesson 8)
  std::string summary;          // printed by the binary at start, e.g. a Sequential's repr
  std::string data_dir;         // for file data sets (mnist): the default folder
  int64_t eval_every = 0;       // > 0: evaluate on held-out data every this many steps
  int64_t eval_subset = 0;      // > 0: how many held-out rows those evaluations use
  int64_t show_predictions = 0; // > 0: print this many predictions beside the labels
  bool draw = false;            // draw a picture after training (<model>.svg or --output);
                                // only a model that draws links the plotting library
};

class Trace {
public:
  // Starts tracing `model`; its first entry, @forward, is a train entry.
  explicit Trace(std::string model);
  ~Trace();
  Trace(const Trace &) = delete;
  Trace &operator=(const Trace &) = delete;

  // The trace that nn layers resolve their parameters in (the most recent one alive).
  static Trace &current();

  // Whether the entry being traced is a train entry: layers that behave differently in
  // training and evaluation (Dropout, BatchNorm) ask.
  bool training() const;
  // A layer that needs at least `rows` rows in every train step says so (BatchNorm1d over
  // [N, C] needs two): `kiln compile` refuses a batch, a short last batch or a rank's share of
  // fewer, with `why`.
  void require_rows(int64_t rows, const std::string &why);

  // Ends the current entry with `loss` and starts another (e.g. "forward_tail" for the short
  // last batch, "eval" for the whole data set). Parameters are shared between entries by name.
  void begin(const std::string &name, EntryKind kind, const Tensor &previousLoss);

  Tensor input(const std::string &name, Shape shape);
  Tensor labels(const std::string &name, Shape shape); // i32 class labels
  // The entry's argument for parameter `name`, created on first use in each entry; `init`, a
  // constant start instead of PyTorch's uniform one.
  Tensor parameter(const std::string &name, Shape shape, int64_t fan_in, std::optional<double> init = std::nullopt);
  // The entry's argument for buffer `name` (nn::Buffer), created on first use in each entry.
  Tensor buffer(const std::string &name, Shape shape, double init, bool integer = false);
  // The buffer's value after this train step; each buffer at most once per entry.
  void update(const std::string &name, const Tensor &value);
  void output(const std::string &name, const Tensor &value); // besides the loss
  template <typename Optimizer> void optimizer(const Optimizer &o);
  void train(const TrainConfig &config);

  // Ends the current entry with `loss` (a scalar) and returns the module as text.
  std::string finish(const Tensor &loss);
  // finish() and write the text to `path`.
  void write(const std::string &path, const Tensor &loss);

  struct Impl;
  Impl &impl() { return *impl_; }

private:
  void setOptimizer(const std::string &name, double lr, const std::vector<std::pair<std::string, double>> &numbers,
                    const std::vector<std::pair<std::string, bool>> &flags);
  std::unique_ptr<Impl> impl_;
};

template <typename Optimizer> void Trace::optimizer(const Optimizer &o) {
  using namespace optim;
  if constexpr (std::is_same_v<Optimizer, SGD>)
    setOptimizer("sgd", o.lr, {{"momentum", o.momentum}, {"dampening", o.dampening}, {"weight_decay", o.weight_decay}},
                 {{"nesterov", o.nesterov}});
  else if constexpr (std::is_same_v<Optimizer, Adagrad>)
    setOptimizer("adagrad", o.lr,
                 {{"lr_decay", o.lr_decay},
                  {"weight_decay", o.weight_decay},
                  {"initial_accumulator_value", o.initial_accumulator_value},
                  {"eps", o.eps}},
                 {});
  else if constexpr (std::is_same_v<Optimizer, Adadelta>)
    setOptimizer("adadelta", o.lr, {{"rho", o.rho}, {"eps", o.eps}, {"weight_decay", o.weight_decay}}, {});
  else if constexpr (std::is_same_v<Optimizer, RMSprop>)
    setOptimizer("rmsprop", o.lr,
                 {{"alpha", o.alpha}, {"eps", o.eps}, {"weight_decay", o.weight_decay}, {"momentum", o.momentum}},
                 {{"centered", o.centered}});
  else if constexpr (std::is_same_v<Optimizer, Adam> || std::is_same_v<Optimizer, AdamW>)
    setOptimizer(std::is_same_v<Optimizer, Adam> ? "adam" : "adamw", o.lr,
                 {{"beta1", o.beta1}, {"beta2", o.beta2}, {"eps", o.eps}, {"weight_decay", o.weight_decay}},
                 {{"amsgrad", o.amsgrad}});
  else
    static_assert(sizeof(Optimizer) == 0, "not a kiln::optim optimizer");
}

} // namespace kiln

#endif
