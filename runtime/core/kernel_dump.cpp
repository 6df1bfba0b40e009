// Kernel outputs of each entry's first run (contract in kiln/kernel_dump.h).
#include "kiln/kernel_dump.h"

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

#include "kiln/contract.h"
#include "kiln/error.h"
#include "kiln/model_abi.h"
#include "kiln/safetensors.h"

extern "C" void (*kiln_kernel_probe)(int entry, int call, int output, int dtype, int rank, const int64_t *shape,
                                     const void *data) = nullptr;

namespace kiln {
namespace {

KernelDump *active = nullptr;

} // namespace

KernelDump::KernelDump(const Manifest &manifest)
    : manifest_(manifest), last_call_(manifest.entries.size(), -1), done_(manifest.entries.size(), false) {
  if (active)
    throw std::logic_error("only one KernelDump at a time");
  active = this;
  kiln_kernel_probe = &KernelDump::probe;
}

KernelDump::~KernelDump() { stop(); }

void KernelDump::stop() {
  if (active != this)
    return;
  kiln_kernel_probe = nullptr;
  active = nullptr;
}

void KernelDump::probe(int entry, int call, int output, int dtype, int rank, const int64_t *shape, const void *data) {
  KernelDump &d = *active;
  if (entry < 0 || size_t(entry) >= d.done_.size() || d.done_[size_t(entry)])
    return;
  int &last = d.last_call_[size_t(entry)];
  if (call < last || (call == last && output == 0)) { // a second run began
    d.done_[size_t(entry)] = true;
    return;
  }
  last = call;
  const EntrySpec &spec = d.manifest_.entries[size_t(entry)];
  Output out;
  out.name = fmt::format("{}/{}/{}/{}", spec.name, call,
                         size_t(call) < spec.kernels.size() ? spec.kernels[size_t(call)] : "kernel", output);
  out.dtype = dtype == int(DType::f32) ? "F32" : dtype == int(DType::i32) ? "I32" : "BOOL";
  out.shape.assign(shape, shape + rank);
  uint64_t n = safetensors_dtype_size(out.dtype);
  for (int64_t extent : out.shape)
    n *= uint64_t(extent);
  out.bytes.resize(n);
  std::memcpy(out.bytes.data(), data, n);
  d.outputs_.push_back(std::move(out));
}

void KernelDump::write(const std::string &path) const {
  std::vector<SafetensorsTensor> tensors;
  for (const Output &o : outputs_)
    tensors.push_back({o.name, o.dtype, o.shape, o.bytes.data()});
  write_safetensors(path, tensors, {{checkpoint_key::model, manifest_.model}});
}

} // namespace kiln
