// The identity of a kernel: everything that changes the code it compiles to.
#include "codegen/KernelSpec.h"

#include <set>
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

int64_t KernelSpec::flops() const {
  static const std::set<std::string> indexOnly = {"broadcast_in_dim", "reshape", "transpose",
                                                  "constant", "stop_gradient", "one_hot"};
  if (indexOnly.count(op))
    return 0;
  int64_t out = output.elements();
  if (op == "matmul")
    return 2 * out * inputs[0].shape[1];
  // Convolutions count every filter tap, padding included: the nominal work, as the figures
  // quoted for PyTorch count it (most kernels skip filter rows in the vertical padding).
  if (op == "conv2d")  // out N,O,OH,OW; filter O,C,KH,KW
    return 2 * out * inputs[1].shape[1] * inputs[1].shape[2] * inputs[1].shape[3];
  if (op == "conv2d_input_grad")  // dy N,O,OH,OW; filter O,C,KH,KW
    return 2 * inputs[0].elements() * inputs[1].shape[1] * inputs[1].shape[2] * inputs[1].shape[3];
  if (op == "conv2d_filter_grad")  // x, dy N,O,OH,OW; filter O,C,KH,KW
    return 2 * inputs[1].elements() * output.shape[1] * output.shape[2] * output.shape[3];
  if (op.rfind("reduce_", 0) == 0)
    return inputs[0].elements();
  if (op == "max_pool2d" || op == "avg_pool2d")
    return out * window[0] * window[1];
  if (op == "max_pool2d_grad" || op == "avg_pool2d_grad")
    return inputs[0].elements() * window[0] * window[1] / (stride[0] * stride[1]);
  return out;  // elementwise
}

int64_t FusedKernel::flops() const {
  int64_t total = 0;
  for (const Node &n : nodes)
    total += n.op.flops();
  return total;
}

int64_t FusedKernel::bytesMoved() const {
  int64_t total = 0;
  for (const TensorDesc &t : inputs)
    total += t.bytes();
  for (size_t i = 0; i < outputs.size(); ++i)
    total += output(int(i)).bytes();
  return total;
}

std::string FusedKernel::ops() const {
  std::string s;
  for (const Node &n : nodes)
    s += (s.empty() ? "" : "+") + n.op.op;
  return s;
}

bool isPointwise(const FusedKernel &kernel) {
  static const std::set<std::string> pointwise = {
      "add", "sub", "mul", "div", "max", "neg", "exp", "log", "sqrt", "abs", "sin", "cos",
      "stop_gradient", "compare", "select", "constant", "broadcast_in_dim", "reshape"};
  if (kernel.outputs.empty())
    return false;
  int64_t n = kernel.output(0).elements();
  auto fits = [&](const TensorDesc &t) { return t.shape.empty() || t.elements() == n; };
  for (const TensorDesc &t : kernel.inputs)
    if (!fits(t))
      return false;
  for (const FusedKernel::Node &node : kernel.nodes) {
    const KernelSpec &op = node.op;
    if (!pointwise.count(op.op) || !fits(op.output) || (op.op == "constant" && op.values.size() != 1) ||
        (op.op == "broadcast_in_dim" && !op.inputs[0].shape.empty()))
      return false;
    for (const TensorDesc &t : op.inputs)
      if (!fits(t))
        return false;
  }
  return true;
}

FusedKernel flattenElementwise(const FusedKernel &kernel) {
  if (!isPointwise(kernel))
    return kernel;
  int64_t n = kernel.output(0).elements();
  auto flat = [&](TensorDesc &t) {
    if (!t.shape.empty())
      t.shape = {n};
  };
  FusedKernel f = kernel;
  for (TensorDesc &t : f.inputs)
    flat(t);
  for (FusedKernel::Node &node : f.nodes) {
    for (TensorDesc &t : node.op.inputs)
      flat(t);
    flat(node.op.output);
    if (node.op.op == "reshape")  // between flattened tensors, the identity
      node.op.op = "stop_gradient";
  }
  return f;
}

FusedKernel FusedKernel::of(const KernelSpec &spec) {
  FusedKernel k;
  k.name = spec.name;
  k.inputs = spec.inputs;
  FusedKernel::Node node{spec, {}};
  for (int i = 0; i < int(spec.inputs.size()); ++i)
    node.operands.push_back(-(i + 1));
  k.nodes.push_back(std::move(node));
  k.outputs = {0};
  return k;
}

std::string FusedKernel::key() const {
  std::ostringstream os;
  os << "in:";
  for (const TensorDesc &t : inputs)
    describe(os, t);
  for (const Node &n : nodes) {
    os << " {" << n.op.key() << " <-";
    for (int o : n.operands)
      os << " " << o;
    os << "}";
  }
  os << " out:";
  for (int o : outputs)
    os << " " << o;
  if (updatesInPlace)
    os << " in-place";
  return os.str();
}

} // namespace kiln
