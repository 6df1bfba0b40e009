// Compilation of kernels: each fused kernel becomes one Halide pipeline (the schedule chosen,
// the algorithm defined, the kernel scheduled), compiled ahead of time into one object for the
// host CPU, or run in-process through Halide's JIT.
#include "codegen/halide/Kernel.h"

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>

namespace kiln {
namespace lowering {

using namespace Halide;

Type halideType(DType t) {
  switch (t) {
  case DType::f32: return Float(32);
  case DType::i32: return Int(32);
  case DType::i1: return UInt(8); // masks are stored as bytes
  }
  return Float(32);
}

// The host CPU as Halide sees it, less the Sapphire Rapids feature: Halide 14 infers it from
// AVX512-BF16 and VNNI, which AMD Zen 4 also has, and then emits AVX-VNNI instructions that
// Zen 4 lacks (SIGILL).
Target hostTarget() { return get_host_target().without_feature(Target::AVX512_SapphireRapids); }

Target targetFor(Device device) {
  switch (device) {
  case Device::host: return hostTarget();
  // PTX for sm_80 (A100), which ptxas also assembles for sm_90 and which newer GPUs' drivers
  // compile for themselves; Halide 14's highest, 8.6, could not be assembled for sm_80.
  case Device::cuda: return hostTarget().with_feature(Target::CUDA).with_feature(Target::CUDACapability80);
  case Device::opencl: return hostTarget().with_feature(Target::OpenCL);
  }
  return hostTarget();
}

// Floats per vector register on the host: 16 with AVX-512, 8 with AVX2.
int lanes() {
  static const int n = hostTarget().natural_vector_size(Float(32));
  return n;
}

namespace {

// A kernel's pipeline with every buffer's extents and strides fixed, so Halide specializes on
// the static shapes.
struct Built {
  std::vector<ImageParam> params;
  std::vector<Func> outputs;
  std::vector<std::string> notes; // the schedule, node by node, for the dump
};

// Buffers are dense, row-major and 64-byte aligned: the arena guarantees it, and runKernel
// copies what is not, because Halide 14 emits aligned stores into output buffers. The
// alignment is deliberately not declared on the parameters: with it, Halide 14 took a vector
// shifted inwards at the end of a row for an aligned one and emitted an aligned load at an
// unaligned address (a crash in a small matmul).
constexpr int kAlignment = 64;

void fixLayout(OutputImageParam p, const std::vector<int64_t> &shape) {
  int stride = 1;
  for (int d = 0; d < int(shape.size()); ++d) {
    int extent = int(shape[shape.size() - 1 - d]);
    p.dim(d).set_bounds(0, extent).set_stride(stride);
    stride *= extent;
  }
}

// KernelOutputs::brokenKernel: `k`'s value, computed as scheduled, then read back with the last
// element of every 16-wide tile (and of the dimension) taking its predecessor's value, along
// the innermost dimension longer than 1.
Func offByOne(const Kernel &k, Device device) {
  const std::vector<int64_t> &shape = k.spec.output.shape;
  size_t d = 0;
  while (d < shape.size() && shape[shape.size() - 1 - d] < 2)
    ++d;
  if (d == shape.size())
    throw CompileError("a planted off-by-one needs an output with a dimension of 2 or more");
  Func good = k.out, bad(k.out.name() + "_off_by_one");
  good.compute_root();
  Var x = k.vars[d];
  std::vector<Expr> at(k.vars.begin(), k.vars.end());
  at[d] = select(x % 16 == 15 || x == int(shape[shape.size() - 1 - d]) - 1, max(x - 1, 0), x);
  bad(k.vars) = good(at);
  if (device != Device::host)
    scheduleOnGpu(bad);
  return bad;
}

// Each primitive's schedule is chosen, then its algorithm defined, then the kernel scheduled.
Built build(const FusedKernel &fk, Device device = Device::host, bool broken = false) {
  Built b;
  for (size_t i = 0; i < fk.inputs.size(); ++i) {
    b.params.emplace_back(halideType(fk.inputs[i].dtype), int(fk.inputs[i].shape.size()),
                          fk.name + "_in" + std::to_string(i));
    fixLayout(b.params.back(), fk.inputs[i].shape);
  }
  std::vector<Kernel> nodes;
  nodes.reserve(fk.nodes.size());
  std::vector<std::vector<int>> readers(fk.nodes.size());
  for (size_t i = 0; i < fk.nodes.size(); ++i) {
    const KernelSpec &spec = fk.nodes[i].op;
    std::string name =
        fk.nodes.size() == 1 ? fk.name : fk.name + "_" + std::to_string(i) + "_" + std::string(mnemonic(spec.op));
    nodes.push_back(Kernel{spec, {}, {}, {}, Func(name)});
    Kernel &k = nodes.back();
    k.computeOnce = fk.updatesInPlace;
    for (int o : fk.nodes[i].operands) {
      k.in.push_back(o < 0 ? Func(b.params[-o - 1]) : nodes[o].out);
      k.inOps.push_back(o < 0 ? std::nullopt : std::optional<Primitive>(fk.nodes[o].op.op));
      if (o >= 0)
        readers[o].push_back(int(i));
    }
    for (size_t d = 0; d < spec.output.shape.size(); ++d)
      k.vars.emplace_back("d" + std::to_string(spec.output.shape.size() - 1 - d));
    k.choice = device == Device::host ? chooseSchedule(spec, k.inOps) : chooseGpuSchedule(spec);
    defineAlgorithm(k);
  }
  b.notes = device == Device::host ? scheduleKernel(nodes, fk.outputs, readers)
                                   : scheduleKernelGpu(nodes, fk.outputs, readers);
  for (int o : fk.outputs)
    b.outputs.push_back(nodes[o].out);
  if (broken)
    b.outputs[0] = offByOne(nodes[fk.outputs[0]], device);
  for (size_t i = 0; i < fk.outputs.size(); ++i)
    fixLayout(b.outputs[i].output_buffer(), nodes[fk.outputs[i]].spec.output.shape);
  return b;
}

std::vector<Argument> arguments(const Built &b) {
  std::vector<Argument> args;
  for (const ImageParam &p : b.params)
    args.push_back(p);
  return args;
}

} // namespace
} // namespace lowering

using namespace lowering;

// The PTX Halide embeds in a CUDA object: NVPTX's output, as a NUL-terminated string.
std::string ptxOf(const std::string &object) {
  std::ifstream in(object, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), ptx;
  const std::string mark = "//\n// Generated by LLVM NVPTX Back-End";
  for (size_t at = bytes.find(mark); at != std::string::npos; at = bytes.find(mark, at + 1)) {
    size_t end = bytes.find('\0', at);
    ptx += bytes.substr(at, end - at) + "\n";
  }
  return ptx;
}

std::string compileKernels(const std::vector<FusedKernel> &kernels, const KernelOutputs &outs, Device device) {
  try {
    // The host module passes descriptors of exactly the declared shapes, so the per-call checks
    // of every buffer's shape (a microsecond per small kernel) are left out.
    Target target = targetFor(device).with_feature(Target::NoRuntime).with_feature(Target::NoAsserts);
    std::vector<Module> modules;
    for (const FusedKernel &kernel : kernels) {
      Built b = build(kernel, device, kernel.name == outs.brokenKernel);
      modules.push_back(Pipeline(b.outputs).compile_to_module(arguments(b), kernel.name, target));
    }
    if (device != Device::host) {
      if (!outs.objects || outs.object.empty())
        return "internal error: GPU kernels are compiled into one object each";
      std::ofstream ptx, text;
      if (!outs.ptx.empty())
        ptx.open(outs.ptx);
      // Statements or assembly: each kernel's in turn, in one file.
      const std::string &textPath = !outs.stmt.empty() ? outs.stmt : outs.assembly;
      if (!textPath.empty())
        text.open(textPath);
      for (size_t i = 0; i < modules.size(); ++i) {
        std::string path = outs.object + "." + std::to_string(i) + ".o";
        std::map<OutputFileType, std::string> files{{OutputFileType::object, path}};
        if (text.is_open())
          files[!outs.stmt.empty() ? OutputFileType::stmt : OutputFileType::assembly] = path + ".txt";
        modules[i].compile(files);
        outs.objects->push_back(path);
        if (text.is_open()) {
          std::ifstream part(path + ".txt");
          text << part.rdbuf();
        }
        if (device == Device::cuda && ptx.is_open()) {
          // Each kernel's PTX is a module of its own (ptxas assembles one at a time).
          ptx << "// ===== kiln kernel " << kernels[i].name << ":";
          for (const auto &node : kernels[i].nodes)
            ptx << " " << mnemonic(node.op.op);
          ptx << "\n";
          ptx << ptxOf(path);
        }
      }
      if (!outs.runtime.empty())
        compile_standalone_runtime(outs.runtime, targetFor(device));
      return "";
    }
    if (modules.empty()) // an object with no kernels is still a valid object
      modules.push_back(Module("kiln_kernels", target));
    Module all = link_modules("kiln_kernels", modules);
    std::map<OutputFileType, std::string> files;
    if (!outs.object.empty())
      files[OutputFileType::object] = outs.object;
    if (!outs.stmt.empty())
      files[OutputFileType::stmt] = outs.stmt;
    if (!outs.assembly.empty())
      files[OutputFileType::assembly] = outs.assembly;
    all.compile(files);
    if (!outs.runtime.empty())
      compile_standalone_runtime(outs.runtime, targetFor(device));
    return "";
  } catch (const Halide::Error &e) {
    return std::string("Halide: ") + e.what();
  }
}

namespace {

using namespace Halide;

// A JIT-compiled kernel and the parameters its calls bind.
struct Jitted {
  FusedKernel kernel;
  Built built;
  std::unique_ptr<Pipeline> pipeline;

  std::string run(const std::vector<const void *> &inputs, const std::vector<void *> &outputs) {
    try {
      // Callers' memory need not be aligned: such buffers go through aligned copies.
      std::vector<std::unique_ptr<uint8_t[]>> copies;
      auto aligned = [&](const TensorDesc &t, const void *data) -> void * {
        if (reinterpret_cast<uintptr_t>(data) % kAlignment == 0)
          return const_cast<void *>(data);
        copies.emplace_back(new uint8_t[t.bytes() + kAlignment]);
        auto p = (reinterpret_cast<uintptr_t>(copies.back().get()) + kAlignment - 1) / kAlignment * kAlignment;
        std::memcpy(reinterpret_cast<void *>(p), data, t.bytes());
        return reinterpret_cast<void *>(p);
      };
      auto wrap = [](const TensorDesc &t, void *data) {
        std::vector<int> extents(t.shape.rbegin(), t.shape.rend());
        return Buffer<>(halideType(t.dtype), data, extents);
      };
      for (size_t i = 0; i < inputs.size(); ++i)
        built.params[i].set(wrap(kernel.inputs[i], aligned(kernel.inputs[i], inputs[i])));
      std::vector<Buffer<>> outs;
      std::vector<void *> hosts;
      for (size_t i = 0; i < outputs.size(); ++i) {
        hosts.push_back(aligned(kernel.output(int(i)), outputs[i]));
        outs.push_back(wrap(kernel.output(int(i)), hosts.back()));
      }
      pipeline->realize(Realization(outs));
      for (size_t i = 0; i < outputs.size(); ++i)
        if (hosts[i] != outputs[i])
          std::memcpy(outputs[i], hosts[i], kernel.output(int(i)).bytes());
      return "";
    } catch (const Halide::Error &e) {
      return std::string("Halide: ") + e.what();
    }
  }
};

std::unique_ptr<Jitted> jit(const FusedKernel &kernel) {
  auto j = std::make_unique<Jitted>();
  j->kernel = kernel;
  j->built = build(j->kernel);
  j->pipeline = std::make_unique<Pipeline>(j->built.outputs);
  j->pipeline->compile_jit(hostTarget().with_feature(Target::JIT));
  return j;
}

} // namespace

std::string runKernel(const FusedKernel &kernel, const std::vector<const void *> &inputs,
                      const std::vector<void *> &outputs) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Jitted>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  try {
    auto &entry = cache[kernel.key()];
    if (!entry)
      entry = jit(kernel);
    return entry->run(inputs, outputs);
  } catch (const Halide::Error &e) {
    return std::string("Halide: ") + e.what();
  }
}

int hostVectorLanes() { return lanes(); }

std::vector<std::string> describeSchedule(const FusedKernel &kernel, Device device) {
  try {
    return build(kernel, device).notes;
  } catch (const Halide::Error &e) {
    return {std::string("Halide: ") + e.what()};
  }
}

std::string runKernel(const KernelSpec &spec, const std::vector<const void *> &inputs, void *output) {
  return runKernel(FusedKernel::of(spec), inputs, {output});
}

} // namespace kiln
