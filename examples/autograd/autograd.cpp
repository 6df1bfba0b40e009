// Lesson 2: autograd. out = mean(v * v) for v = [[1, 2], [3, 4]]; the gradient comes from the
// autodiff pass over the traced function: d out / d v = v / 2.
#include "kiln/eager.h"
#include "kiln/numpy_print.h"

#include <cstdio>

int main() {
  try {
    kiln::Array v = kiln::Array::of({{1, 2}, {3, 4}});
    auto f = [](const kiln::Tensor &t) { return (t * t).mean(); };
    auto [out, grad] = kiln::value_and_grad(f, v);
    std::printf("v = %s\n", kiln::numpy_array(v.data.data(), v.shape).c_str());
    std::printf("out = mean(v * v) = %g\n", out);
    std::printf("grad = d out / d v = v / 2 =\n%s\n", kiln::numpy_array(grad.data.data(), grad.shape).c_str());
  } catch (const kiln::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
