// `kiln bench MODEL`: the fused and the unfused build of a model side by side.
//
// Both variants are compiled to executables and run with the same seed: their step times
// (the median over the steps of a run, then over runs) and their losses are compared. One
// more run of each, on the first thread count, times every kernel call of the train step
// (the binary's --kernel-times) for the per-kernel table, the picture and the --profile trace.
#include "codegen/KernelSpec.h"
#include "compiler/Compiler.h"
#include "tools/kiln/Commands.h"
#include "tools/kiln/Roofline.h"

#include "kiln/plot.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <fstream>
#include <map>

using namespace llvm;

namespace kiln {
namespace {

cl::SubCommand benchCmd("bench", "Time a model's fused and unfused builds and compare them");
cl::opt<std::string> model(cl::Positional, cl::desc("MODEL.mlir, MODEL.cpp (traced first) or NET.safetensors"),
                           cl::init(""), cl::sub(benchCmd));
cl::opt<bool> listStages("list-stages", cl::desc("List the stages both builds go through, and exit"), cl::init(false),
                         cl::sub(benchCmd));
StageOption emit("emit", cl::desc("Write both builds' product of this stage (fused first) instead of timing them"),
                 cl::init(Stage::exe), cl::sub(benchCmd));
cl::opt<int64_t> batch("batch", cl::desc("Train with this many rows per step (as kiln compile --batch)"),
                       cl::value_desc("N"), cl::init(0), cl::sub(benchCmd));
cl::list<int> threadCounts("threads", cl::desc("Worker threads, one measurement each (default 1,2)"),
                           cl::CommaSeparated, cl::sub(benchCmd));
cl::opt<int> repeats("repeats", cl::desc("Runs of each binary; the median is reported"), cl::init(5),
                     cl::sub(benchCmd));
cl::opt<int> steps("steps", cl::desc("Training steps per run"), cl::init(50), cl::sub(benchCmd));
cl::opt<std::string> picture("picture", cl::desc("Write an SVG of fused and unfused step time by kind of kernel"),
                             cl::value_desc("FILE.svg"), cl::init(""), cl::sub(benchCmd));
cl::opt<std::string>
    data("data",
         cl::desc("The training data each binary runs on (its --data), for a model with no data set of its own"),
         cl::value_desc("FILE"), cl::init(""), cl::sub(benchCmd));
cl::opt<std::string> init("init", cl::desc("Initial parameters for each binary (its --init)"), cl::value_desc("FILE"),
                          cl::init(""), cl::sub(benchCmd));
cl::opt<Device> benchTarget("target", cl::desc("Where the kernels run (as kiln compile --target)"),
                            cl::init(Device::host),
                            cl::values(clEnumValN(Device::host, "host", "the host CPU (the default)"),
                                       clEnumValN(Device::cuda, "cuda", "an NVIDIA GPU, through CUDA"),
                                       clEnumValN(Device::opencl, "opencl", "a GPU through OpenCL")),
                            cl::sub(benchCmd));
cl::opt<std::string> profile("profile", cl::desc("Write a Chrome/Perfetto trace of one step, kernel by kernel"),
                             cl::value_desc("FILE"), cl::init(""), cl::sub(benchCmd));

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Variant {
  std::string name; // "fused" or "unfused"
  StepPlan plan;
  std::string exe;
  std::vector<double> losses;   // the first run's, per step
  std::map<int, double> stepMs; // threads -> median step time
  std::vector<double> kernelUs; // per call of the train entry (median over the steps)
};

std::string cpuName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0)
      return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// Runs the variant's binary once for --steps steps on `threads` threads, with `flags` added.
std::string runVariant(const Variant &v, int threads, std::vector<std::string> flags) {
  std::vector<std::string> args = {v.exe,      "--steps", std::to_string(steps), "--threads", std::to_string(threads),
                                   "--output", "none",    "--eval-every",        "0",         "--quiet"};
  for (const auto &[flag, value] : {std::pair{"--data", &data}, std::pair{"--init", &init}})
    if (!value->empty()) {
      args.push_back(flag);
      args.push_back(*value);
    }
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<StringRef> argv(args.begin(), args.end());
  std::string error;
  if (int rc = sys::ExecuteAndWait(v.exe, argv, std::nullopt, {}, 0, 0, &error); rc != 0)
    return v.exe + " failed (exit " + std::to_string(rc) + ") " + error;
  return "";
}

// Runs the binary once; fills the losses and the per-step times of its metrics.
std::string runBinary(const Variant &v, int threads, const std::string &metrics, std::vector<double> &losses,
                      std::vector<double> &stepMs) {
  if (std::string err = runVariant(v, threads, {"--metrics", metrics}); !err.empty())
    return err;
  auto buffer = MemoryBuffer::getFile(metrics);
  if (!buffer)
    return "cannot read " + metrics;
  SmallVector<StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n', -1, false);
  for (StringRef line : lines) {
    auto value = json::parse(line);
    if (!value)
      return metrics + ": " + toString(value.takeError());
    const json::Object *o = value->getAsObject();
    if (!o || o->get("final"))
      continue;
    if (auto loss = o->getNumber("loss"))
      losses.push_back(*loss);
    if (auto ms = o->getNumber("step_ms"))
      stepMs.push_back(*ms);
  }
  return "";
}

// One more run of the binary with --kernel-times: the median time of each call of the train
// entry (the plan's first), in the plan's order.
std::string timeKernels(Variant &v, int threads, const std::string &path) {
  if (std::string err = runVariant(v, threads, {"--kernel-times", path}); !err.empty())
    return err;
  auto buffer = MemoryBuffer::getFile(path);
  if (!buffer)
    return "cannot read " + path;
  auto value = json::parse((*buffer)->getBuffer());
  if (!value)
    return path + ": " + toString(value.takeError());
  const EntryPlan &train = v.plan.entries.front();
  const json::Array *entries = value->getAsObject() ? value->getAsObject()->getArray("entries") : nullptr;
  for (const json::Value &e : entries ? *entries : json::Array()) {
    const json::Object *entry = e.getAsObject();
    if (!entry || entry->getString("name") != StringRef(train.name))
      continue;
    const json::Array *kernels = entry->getArray("kernels");
    if (!kernels || kernels->size() != train.calls.size())
      return path + ": entry " + train.name + " does not list its " + std::to_string(train.calls.size()) + " calls";
    for (const json::Value &k : *kernels) {
      const json::Object *kernel = k.getAsObject();
      std::optional<double> us = kernel ? kernel->getNumber("median_us") : std::nullopt;
      if (!us)
        return path + ": a kernel without median_us";
      v.kernelUs.push_back(*us);
    }
    return "";
  }
  return path + ": no times for entry " + train.name;
}

void printKernelTable(const Variant &v, int timedThreads, const MachineLimits &limits, raw_ostream &os) {
  const EntryPlan &entry = v.plan.entries.front();
  double total = 0;
  for (double us : v.kernelUs)
    total += us;
  std::vector<size_t> order(entry.calls.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v.kernelUs[a] > v.kernelUs[b]; });
  os << formatv("\n{0} train step, kernel by kernel ({1} thread(s), median over the {2} calls of a {3}-step run): "
                "{4} kernels, {5:f2} ms\n",
                v.name, timedThreads, entry.name, int(steps), entry.calls.size(), total / 1000);
  if (limits.gflops > 0)
    os << formatv("  (roofline: this machine's {0:f1} GFLOP/s of multiply-adds and {1:f1} GB/s of streaming memory "
                  "on {2} thread(s), measured;\n   the bound is the longer of a kernel's FLOPs and bytes at those "
                  "rates, its limit the one it reaches half of, else its schedule)\n",
                  limits.gflops, limits.gbps, timedThreads);
  bool convolutions = std::any_of(entry.calls.begin(), entry.calls.end(), [&](const auto &call) {
    const auto &nodes = v.plan.kernels[call.kernel].nodes;
    return std::any_of(nodes.begin(), nodes.end(), [](const FusedKernel::Node &n) {
      return n.op.family == Family::contraction && n.op.op != Primitive::matmul;
    });
  });
  if (convolutions)
    os << "  (GFLOP/s counts a convolution's every filter tap, the nominal work PyTorch's figures count too;\n"
          "   most convolution kernels skip filter rows that fall in the vertical padding, so they can\n"
          "   show above the peak)\n";
  os << formatv("  {0,-44} {1,9} {2,6} {3,9} {4,8} {5,9} {6,8} {7,-8}  {8}\n", "kernel", "time us", "share", "GFLOP/s",
                "GB/s", "bound us", "of bound", "limit", "ops");
  for (size_t i : order) {
    const FusedKernel &k = v.plan.kernels[entry.calls[i].kernel];
    double us = v.kernelUs[i];
    std::string ops = k.ops();
    if (ops.size() > 60)
      ops = ops.substr(0, 57) + "...";
    Roofline r = rooflineOf(k, us, limits);
    os << formatv("  {0,-44} {1,9:f2} {2,5:f1}% {3,9:f2} {4,8:f2} {5,9:f2} {6,7:f0}% {7,-8}  {8}\n", k.name, us,
                  100 * us / total, k.flops() / (us * 1e3), k.bytesMoved() / (us * 1e3), r.boundUs, 100 * r.fraction,
                  r.limit, ops);
  }
}

// The train step's values that one kernel writes and others read, by the bytes each moves
// through memory per step (written once, read once by each reading kernel), largest first,
// with the reason fusion gave for keeping it out of its readers.
void printUnfusedEdges(const Variant &v, raw_ostream &os, size_t shown = 12) {
  const EntryPlan &entry = v.plan.entries.front();
  auto storageOf = [&](int b) { // a view's bytes are its base's
    while (v.plan.buffers[b].viewOf >= 0)
      b = v.plan.buffers[b].viewOf;
    return b;
  };
  struct Edge {
    int64_t bytes;
    std::string producer, readers, reason;
  };
  std::vector<Edge> edges;
  for (auto [i, call] : llvm::enumerate(entry.calls)) {
    const FusedKernel &k = v.plan.kernels[call.kernel];
    for (size_t o = 0; o < k.outputs.size(); ++o) {
      int written = storageOf(call.buffers[k.inputs.size() + o]);
      std::vector<std::string> readers;
      for (auto [j, reader] : llvm::enumerate(entry.calls)) {
        size_t inputs = v.plan.kernels[reader.kernel].inputs.size();
        for (size_t in = 0; in < inputs && j > i; ++in) // an earlier call reads the step before's value
          if (storageOf(reader.buffers[in]) == written) {
            readers.push_back(v.plan.kernels[reader.kernel].name);
            break;
          }
      }
      if (readers.empty())
        continue;
      int64_t bytes = k.output(int(o)).bytes() * int64_t(1 + readers.size());
      std::string names =
          readers.front() + (readers.size() > 1 ? formatv(" and {0} more", readers.size() - 1).str() : "");
      edges.push_back({bytes, k.name, names, o < call.unfused.size() ? call.unfused[o] : ""});
    }
  }
  std::stable_sort(edges.begin(), edges.end(), [](const Edge &a, const Edge &b) { return a.bytes > b.bytes; });
  os << formatv("\n{0} train step: {1} values written by one kernel and read by others (unfused edges), by bytes "
                "through memory per step:\n",
                v.name, edges.size());
  os << formatv("  {0,8}  {1,-36} {2,-40} {3}\n", "KB", "written by", "read by", "why not fused");
  for (size_t i = 0; i < std::min(shown, edges.size()); ++i)
    os << formatv("  {0,8:f1}  {1,-36} {2,-40} {3}\n", edges[i].bytes / 1024.0, edges[i].producer, edges[i].readers,
                  edges[i].reason);
}

std::string writeProfile(const std::vector<Variant> &variants, const std::string &path) {
  json::Array events;
  for (auto [tid, v] : llvm::enumerate(variants)) {
    events.push_back(json::Object{{"name", "thread_name"},
                                  {"ph", "M"},
                                  {"pid", 1},
                                  {"tid", int64_t(tid)},
                                  {"args", json::Object{{"name", v.name}}}});
    double ts = 0;
    const EntryPlan &entry = v.plan.entries.front();
    for (size_t i = 0; i < entry.calls.size(); ++i) {
      const FusedKernel &k = v.plan.kernels[entry.calls[i].kernel];
      events.push_back(
          json::Object{{"name", k.name},
                       {"ph", "X"},
                       {"pid", 1},
                       {"tid", int64_t(tid)},
                       {"ts", ts},
                       {"dur", v.kernelUs[i]},
                       {"args", json::Object{{"ops", k.ops()}, {"flops", k.flops()}, {"bytes", k.bytesMoved()}}}});
      ts += v.kernelUs[i];
    }
  }
  std::error_code ec;
  raw_fd_ostream out(path, ec);
  if (ec)
    return "cannot write " + path + ": " + ec.message();
  out << json::Value(json::Object{{"traceEvents", std::move(events)}, {"displayTimeUnit", "ms"}});
  return "";
}

// The kind of work a kernel does: its contraction, else its pooling, else whether it reduces.
std::string kindOf(const FusedKernel &k) {
  for (Family heaviest : {Family::contraction, Family::pooling})
    for (const FusedKernel::Node &n : k.nodes)
      if (n.op.family == heaviest)
        return std::string(mnemonic(n.op.op));
  for (const FusedKernel::Node &n : k.nodes)
    if (n.op.family == Family::reduction)
      return "reductions";
  return "elementwise";
}

std::string drawPicture(const std::vector<Variant> &variants, int timedThreads, const std::string &path) {
  BarsPlot plot;
  plot.title = "train step by kind of kernel (" + std::to_string(timedThreads) + " thread(s), median over " +
               std::to_string(steps) + " steps)";
  plot.ylabel = "ms per step";
  std::map<std::string, size_t> column;
  for (const Variant &v : variants)
    for (const KernelCall &c : v.plan.entries.front().calls)
      if (column.try_emplace(kindOf(v.plan.kernels[c.kernel]), column.size()).second)
        plot.categories.push_back(kindOf(v.plan.kernels[c.kernel]));
  for (const Variant &v : variants) {
    BarSeries series{v.name, std::vector<double>(plot.categories.size(), 0.0)};
    const EntryPlan &entry = v.plan.entries.front();
    for (size_t i = 0; i < entry.calls.size(); ++i)
      series.values[column[kindOf(v.plan.kernels[entry.calls[i].kernel])]] += v.kernelUs[i] / 1000;
    plot.series.push_back(std::move(series));
  }
  try {
    plot_bars_svg(path, plot);
  } catch (const std::exception &e) {
    return e.what();
  }
  return "";
}

int fail(const Twine &message) {
  errs() << "kiln bench: error: " << message << "\n";
  return 1;
}

// Each variant's median step time per thread count: the median over the steps of a run (after
// a fifth of them as warm-up), then over --repeats runs. "" or the error.
std::string timeSteps(std::vector<Variant> &variants, const std::vector<int> &threads, const TempFolder &temps) {
  for (int t : threads)
    for (Variant &v : variants) {
      std::vector<double> runMedians;
      for (int r = 0; r < repeats; ++r) {
        std::vector<double> losses, ms;
        std::string metrics = temps / (v.name + ".jsonl");
        if (std::string err = runBinary(v, t, metrics, losses, ms); !err.empty())
          return err;
        if (v.losses.empty())
          v.losses = losses;
        ms.erase(ms.begin(), ms.begin() + std::min<size_t>(ms.size() / 5, ms.size())); // warm-up
        runMedians.push_back(median(ms));
      }
      v.stepMs[t] = median(runMedians);
    }
  return "";
}

void printStepTable(const std::vector<Variant> &variants, const std::vector<int> &threads) {
  const Variant &fused = variants[0], &unfused = variants[1];
  outs() << formatv("\n{0,-8} {1,8} {2,12} {3,14} {4,9}\n", "variant", "threads", "step us", "kernels/step",
                    "MB moved");
  for (int t : threads)
    for (const Variant &v : variants) {
      int64_t bytes = 0;
      for (const KernelCall &c : v.plan.entries.front().calls)
        bytes += v.plan.kernels[c.kernel].bytesMoved();
      outs() << formatv("{0,-8} {1,8} {2,12:f2} {3,14} {4,9:f2}\n", v.name, t, 1000 * v.stepMs.at(t),
                        v.plan.entries.front().calls.size(), bytes / 1e6);
    }
  for (int t : threads)
    outs() << formatv("fused / unfused, {0} thread(s): {1:f3}\n", t, fused.stepMs.at(t) / unfused.stepMs.at(t));
}

// Float rounding differs between the variants (fused code keeps values in registers and
// contracts multiply-adds), so their losses agree to rounding and drift apart only as training
// amplifies it.
void printLossDifference(const Variant &fused, const Variant &unfused) {
  double worst = 0, worstEarly = 0;
  size_t n = std::min(fused.losses.size(), unfused.losses.size());
  for (size_t i = 0; i < n; ++i) {
    double d = std::abs(fused.losses[i] - unfused.losses[i]) / std::max(1e-30, std::abs(unfused.losses[i]));
    worst = std::max(worst, d);
    if (i < 10)
      worstEarly = std::max(worstEarly, d);
  }
  outs() << formatv("largest relative loss difference, fused vs unfused: {0:e2} over the first 10 steps, "
                    "{1:e2} over all {2}\n",
                    worstEarly, worst, n);
}

// The fused and the unfused build of `module`, each compiled to an executable; or, with --emit,
// each one's product of that stage written to stdout.
mlir::LogicalResult buildVariants(mlir::ModuleOp module, const TempFolder &temps, std::vector<Variant> &variants) {
  for (auto [i, v] : llvm::enumerate(variants)) {
    v.name = i == 0 ? "fused" : "unfused";
    CompileOptions options;
    options.target = benchTarget;
    options.fusion = i == 0;
    options.batch = batch;
    options.dataPath = data;
    mlir::OwningOpRef<mlir::ModuleOp> copy = module.clone();
    Compiler compiler(*module.getContext(), options, temps);
    if (emit != Stage::exe) {
      outs() << "// ===== kiln bench: the " << v.name << " build, " << stageInfo(emit).name << "\n";
      outs().flush();
      if (failed(compiler.run(*copy, emit, "-")))
        return mlir::failure();
      continue;
    }
    sys::fs::create_directories(temps / v.name);
    v.exe = temps / (v.name + "/model");
    if (failed(compiler.run(*copy, Stage::exe, v.exe)))
      return mlir::failure();
    v.plan = std::move(compiler.stepPlan());
  }
  return mlir::success();
}

} // namespace

bool benchCommand() { return bool(benchCmd); }

int bench() {
  if (listStages) {
    printStages(outs());
    return 0;
  }
  if (model.empty())
    return fail("no model given; try 'kiln bench MODEL.mlir'");
  std::vector<int> threads(threadCounts.begin(), threadCounts.end());
  if (threads.empty())
    threads = {1, 2};
  if (repeats < 1 || steps < 2)
    return fail("--repeats must be at least 1 and --steps at least 2");

  TempFolder temps;
  if (std::string err = temps.create("kiln-bench"); !err.empty())
    return fail(err);
  ModelReader reader;
  mlir::OwningOpRef<mlir::ModuleOp> module = reader.read(model, temps);
  if (!module)
    return 1;

  std::vector<Variant> variants(2);
  if (failed(buildVariants(*module, temps, variants)))
    return 1;
  if (emit != Stage::exe)
    return 0;

  const char *where = benchTarget == Device::host   ? ""
                      : benchTarget == Device::cuda ? ", kernels on CUDA"
                                                    : ", kernels on OpenCL";
  outs() << "kiln bench " << sys::path::filename(model) << ": " << cpuName() << where << "; " << steps
         << " steps per run, median step of each run, median of " << repeats << " runs\n";
  if (std::string err = timeSteps(variants, threads, temps); !err.empty())
    return fail(err);
  printStepTable(variants, threads);
  printLossDifference(variants[0], variants[1]);

  // The CPU's limits; a GPU build's kernels run elsewhere.
  MachineLimits limits = benchTarget == Device::host ? machineLimits(threads.front()) : MachineLimits{};
  for (Variant &v : variants) {
    if (std::string err = timeKernels(v, threads.front(), temps / (v.name + ".times.json")); !err.empty())
      return fail(v.name + ": " + err);
    printKernelTable(v, threads.front(), limits, outs());
  }
  printUnfusedEdges(variants[0], outs());
  if (!picture.empty()) {
    if (std::string err = drawPicture(variants, threads.front(), picture); !err.empty())
      return fail(err);
    outs() << "\npicture of fused vs unfused by kind of kernel written to " << picture << "\n";
  }
  if (!profile.empty()) {
    if (std::string err = writeProfile(variants, profile); !err.empty())
      return fail(err);
    outs() << "\ntrace of one step written to " << profile << " (open in ui.perfetto.dev)\n";
  }
  return 0;
}

} // namespace kiln
