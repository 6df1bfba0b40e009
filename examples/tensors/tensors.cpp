// Lesson 1: tensors next to numpy. Creates tensors from host data, converts them back, and
// applies abs, mean, sin, cos and matmul; each kiln result is printed beside the value a numpy
// user expects (computed here with plain C++ loops, as numpy would).
#include "kiln/eager.h"
#include "kiln/numpy_print.h"

#include <cmath>
#include <cstdio>

namespace {

void show(const char *what, const kiln::Array &expected, const kiln::Array &got) {
  std::printf("\n%s\nnumpy: %s\nkiln:  %s\n", what, kiln::numpy_array(expected.data.data(), expected.shape).c_str(),
              kiln::numpy_array(got.data.data(), got.shape).c_str());
}

kiln::Array map(const kiln::Array &a, float (*f)(float)) {
  kiln::Array out = a;
  for (float &v : out.data)
    v = f(v);
  return out;
}

} // namespace

int main() {
  try {
    using kiln::Array;
    using kiln::Tensor;
    Array data = Array::of({{1, 2}, {3, 4}});
    Array signs = Array::of({-1, -2, 1, 2});

    // From host data to a tensor and back: the identity function, compiled and run.
    show("from and to host arrays", data, kiln::run([](const Tensor &t) { return t; }, data));
    show("abs([-1, -2, 1, 2])", map(signs, [](float v) { return std::fabs(v); }),
         kiln::run([](const Tensor &t) { return t.abs(); }, signs));
    float mean = (-1 - 2 + 1 + 2) / 4.0f;
    show("mean([-1, -2, 1, 2])", Array({}, {mean}), kiln::run([](const Tensor &t) { return t.mean(); }, signs));
    show("sin([-1, -2, 1, 2])", map(signs, [](float v) { return std::sin(v); }),
         kiln::run([](const Tensor &t) { return t.sin(); }, signs));
    show("cos([-1, -2, 1, 2])", map(signs, [](float v) { return std::cos(v); }),
         kiln::run([](const Tensor &t) { return t.cos(); }, signs));
    show("matmul([[1, 2], [3, 4]], [[1, 2], [3, 4]])", Array::of({{7, 10}, {15, 22}}),
         kiln::run([](const Tensor &t) { return t.matmul(t); }, data));
  } catch (const kiln::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
