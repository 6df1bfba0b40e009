// The identity of a kernel: everything that changes the code it compiles to.
#include "codegen/KernelSpec.h"

#include <sstream>

namespace kiln {

std::string_view mnemonic(Primitive p) {
  switch (p) {
#define KILN_NAME_CASE(name)                                                                                           \
  case Primitive::name: return #name;
    KILN_PRIMITIVES(KILN_NAME_CASE)
#undef KILN_NAME_CASE
  }
  return "?";
}

std::optional<Primitive> primitiveNamed(std::string_view name) {
#define KILN_LOOKUP(entry)                                                                                             \
  if (name == #entry)                                                                                                  \
    return Primitive::entry;
  KILN_PRIMITIVES(KILN_LOOKUP)
#undef KILN_LOOKUP
  return std::nullopt;
}

static void describe(std::ostringstream &os, const TensorDesc &t) {
  os << int(t.dtype) << "[";
  for (int64_t d : t.shape)
    os << d << ",";
  os << "]";
}

std::string KernelSpec::key() const {
  std::ostringstream os;
  os << mnemonic(op) << "(";
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
  os << " dir=" << direction << " stream=" << stream << " values=";
  os.precision(9);
  for (float v : values)
    os << v << ",";
  return os.str();
}

int64_t KernelSpec::flops() const {
  int64_t out = output.elements();
  switch (family) {
  case Family::indexOnly:
  case Family::constant:
  case Family::random: // integer work only
    return 0;
  case Family::elementwise: return out;
  case Family::reduction: return inputs[0].elements();
  case Family::pooling: { // a window per output of the forward, per dy element of a gradient
    int64_t windows = op == Primitive::max_pool2d || op == Primitive::avg_pool2d ? out
                      : op == Primitive::max_pool2d_grad                         ? inputs[1].elements()  // x, dy
                                                                                 : inputs[0].elements(); // dy
    return windows * window[0] * window[1];
  }
  case Family::contraction: break;
  }
  if (op == Primitive::matmul)
    return 2 * out * inputs[0].shape[1];
  // Convolutions count every filter tap, padding included: the nominal work, as the figures
  // quoted for PyTorch count it (most kernels skip filter rows in the vertical padding).
  if (op == Primitive::conv2d) // out N,O,OH,OW; filter O,C,KH,KW
    return 2 * out * inputs[1].shape[1] * inputs[1].shape[2] * inputs[1].shape[3];
  if (op == Primitive::conv2d_input_grad) // dy N,O,OH,OW; filter O,C,KH,KW
    return 2 * inputs[0].elements() * inputs[1].shape[1] * inputs[1].shape[2] * inputs[1].shape[3];
  return 2 * inputs[1].elements() * output.shape[1] * output.shape[2] * output.shape[3]; // filter grad
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
    s += (s.empty() ? "" : "+") + std::string(mnemonic(n.op.op));
  return s;
}

bool isPointwise(const FusedKernel &kernel) {
  if (kernel.outputs.empty())
    return false;
  int64_t n = kernel.output(0).elements();
  auto fits = [&](const TensorDesc &t) { return t.shape.empty() || t.elements() == n; };
  for (const TensorDesc &t : kernel.inputs)
    if (!fits(t))
      return false;
  for (const FusedKernel::Node &node : kernel.nodes) {
    const KernelSpec &op = node.op;
    // Index-only ops keep their point's position between same-sized tensors, except a
    // transpose (it moves points) and one_hot (its result is larger); broadcasts only of scalars.
    bool samePoint = op.family == Family::elementwise || op.family == Family::constant ||
                     (op.family == Family::indexOnly && op.op != Primitive::transpose && op.op != Primitive::one_hot);
    if (!samePoint || !fits(op.output) || (op.family == Family::constant && op.values.size() != 1) ||
        (op.op == Primitive::broadcast_in_dim && !op.inputs[0].shape.empty()))
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
    if (node.op.op == Primitive::reshape) // between flattened tensors, the identity
      node.op.op = Primitive::stop_gradient;
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
