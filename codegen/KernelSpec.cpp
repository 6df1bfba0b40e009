// The identity of a kernel: everything that changes the code it compiles to.
#include "codegen/KernelSpec.h"

#include <sstream>

namespace kiln {

static void describe(std::ostringstream &os, const TensorDesc &t) {
  os << int(t.dtype) << "[";
  for (int64_t d : t.shape)
    os << d << ",";
  os << "]";
}

std::string KernelSpec::key() const {
  std::ostringstream os;
  os << op << "(";
  for (const TensorDesc &t : inputs)
    describe(os, t);
  os << ")->";
  describe(os, output);
  os << " dims=";
  for (int64_t d : dims)
    os << d << ",";
  for (const auto *v : {&window, &stride, &padding, &dilation}) {
    os << " |";
    for (int64_t d : *v)
      os << d << ",";
  }
  os << " dir=" << direction << " values=";
  os.precision(9);
  for (float v : values)
    os << v << ",";
  return os.str();
}

} // namespace kiln
