// Eager-looking use of kiln: a function of tensors is traced, run through the same pipeline
// as a compiled model (verify, autodiff where asked, canonicalize, CSE) and executed
// in-process, each kernel compiled by Halide's JIT. This is how the tutorial's first lessons
// (tensors, autograd, activations) run: no binary, the results come back as host arrays.
#ifndef KILN_EAGER_H
#define KILN_EAGER_H

#include "kiln/Tensor.h"

#include <functional>
#include <initializer_list>

namespace kiln {

// A dense float32 array on the host, row-major, with its shape (numpy's ndarray).
struct Array {
  Shape shape;
  std::vector<float> data;

  Array() = default;
  Array(Shape shape, std::vector<float> data); // throws Error if the sizes differ
  static Array of(std::initializer_list<float> values);
  static Array of(std::initializer_list<std::initializer_list<float>> rows);
  static Array linspace(float start, float end, int64_t n); // torch.linspace's values
};

using UnaryFn = std::function<Tensor(const Tensor &)>;
using ManyFn = std::function<Tensor(const std::vector<Tensor> &)>;

// f(inputs...), evaluated.
Array run(const ManyFn &f, const std::vector<Array> &inputs);
Array run(const UnaryFn &f, const Array &x);

// The gradient of a scalar function at x, built by the autodiff pass: (f(x), df/dx).
std::pair<float, Array> value_and_grad(const UnaryFn &f, const Array &x);
Array grad(const UnaryFn &f, const Array &x);

} // namespace kiln

#endif
