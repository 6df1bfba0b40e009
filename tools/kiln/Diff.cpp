// `kiln diff MODEL --a SPEC --b SPEC`: one training step of two builds of a model, compared
// kernel by kernel.
//
// Both builds are compiled from one module in one MLIR context, so a value has the same
// identity in both whichever kernel computes it (KernelCall::values), and each runs one step
// with the same seed, data and initial parameters, keeping every kernel's outputs
// (--dump-kernels). The values both builds write are compared in the order build A computes
// them; the first that differs beyond the tolerance while every value its kernel reads agreed
// is reported with the kernel of each build that wrote it, its ops and DSL lines, and the
// largest absolute and relative errors and where they are. A value that differs where a value
// it reads already did carries that difference forward (a ReLU that decided differently at a
// value within rounding of zero changes every output its element reaches); those are counted,
// not blamed. The exit status is diff(1)'s: 0 the builds agree, 1 they differ, 2 trouble.
#include "compiler/Compiler.h"
#include "ir/Dialect.h"
#include "tools/kiln/Commands.h"

#include "kiln/error.h"
#include "kiln/safetensors.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>

using namespace llvm;

namespace kiln {
namespace {

cl::SubCommand diffCmd("diff", "Run one training step of two builds of a model and compare every kernel's outputs");
cl::opt<std::string> model(cl::Positional, cl::desc("MODEL.mlir, MODEL.cpp or NET.safetensors"), cl::init(""),
                           cl::sub(diffCmd));
cl::opt<bool> listStages("list-stages", cl::desc("List the stages both builds go through, and exit"), cl::init(false),
                         cl::sub(diffCmd));
cl::opt<std::string> specA("a",
                           cl::desc("Build A: comma-separated choices among host|cuda|opencl and fused|unfused "
                                    "(default host; unnamed choices are host, fused)"),
                           cl::value_desc("SPEC"), cl::init("host"), cl::sub(diffCmd));
cl::opt<std::string> specB("b", cl::desc("Build B, as --a (default opencl)"), cl::value_desc("SPEC"),
                           cl::init("opencl"), cl::sub(diffCmd));
cl::opt<double> rtol("rtol",
                     cl::desc("An element differs when |a - b| > rtol * max(|a|, |b|) + atol * (the "
                              "output's largest magnitude) (default 1e-3)"),
                     cl::init(1e-3), cl::sub(diffCmd));
cl::opt<double> atol("atol", cl::desc("See --rtol (default 1e-4)"), cl::init(1e-4), cl::sub(diffCmd));
cl::opt<double> maxMismatch("max-mismatch",
                            cl::desc("The share of an output's elements that may differ before the output does: "
                                     "a ReLU can decide differently at a value within rounding of zero "
                                     "(default 1e-4)"),
                            cl::init(1e-4), cl::sub(diffCmd));
cl::opt<std::string> data("data", cl::desc("The training data both binaries run on (their --data)"),
                          cl::value_desc("FILE"), cl::init(""), cl::sub(diffCmd));
cl::opt<std::string> init("init",
                          cl::desc("Initial parameters for both binaries (their --init; default: the "
                                   "random init of --seed)"),
                          cl::value_desc("FILE"), cl::init(""), cl::sub(diffCmd));
cl::opt<uint64_t> seed("seed", cl::desc("The seed of both runs (default 0)"), cl::init(0), cl::sub(diffCmd));

int trouble(const Twine &message) {
  errs() << "kiln diff: error: " << message << "\n";
  return 2;
}

struct Build {
  std::string name; // "A" or "B"
  Device device = Device::host;
  bool fusion = true;
  std::string offByOne; // testing kiln diff: the kernel built with a planted bug
  StepPlan plan;
  std::string exe, dump;

  std::string describe() const {
    std::string text = device == Device::host ? "host" : device == Device::cuda ? "cuda" : "opencl";
    text += fusion ? ", fused" : ", unfused";
    if (!offByOne.empty())
      text += ", " + offByOne + " broken on purpose";
    return text;
  }
};

std::string parseSpec(StringRef spec, Build &b) {
  SmallVector<StringRef> words;
  spec.split(words, ',', -1, false);
  for (StringRef word : words) {
    word = word.trim();
    if (word == "host" || word == "cuda" || word == "opencl")
      b.device = word == "host" ? Device::host : word == "cuda" ? Device::cuda : Device::opencl;
    else if (word == "fused" || word == "unfused")
      b.fusion = word == "fused";
    else if (word.consume_front("off-by-one=") && !word.empty())
      b.offByOne = word.str();
    else
      return "--" + StringRef(b.name).lower() + ": '" + word.str() +
             "' is not one of host, cuda, opencl, fused, unfused (or off-by-one=KERNEL, which breaks a "
             "kernel on purpose to test kiln diff)";
  }
  return "";
}

std::string compile(Build &b, mlir::ModuleOp module, const TempFolder &temps) {
  CompileOptions options;
  options.target = b.device;
  options.fusion = b.fusion;
  options.dataPath = data;
  options.brokenKernel = b.offByOne;
  Compiler compiler(*module.getContext(), options, temps);
  mlir::OwningOpRef<mlir::ModuleOp> copy = module.clone();
  if (failed(compiler.plan(*copy)))
    return "build " + b.name + " failed (reported above)";
  if (!b.offByOne.empty()) {
    std::string names;
    bool found = false;
    for (const FusedKernel &k : compiler.stepPlan().kernels) {
      names += " " + k.name;
      found |= k.name == b.offByOne;
    }
    if (!found)
      return "off-by-one=" + b.offByOne + ": build " + b.name + " has no such kernel; its kernels:" + names;
  }
  b.plan = compiler.stepPlan();
  const std::string dir = temps / b.name;
  if (std::error_code ec = sys::fs::create_directories(dir))
    return "cannot create " + dir + ": " + ec.message();
  b.exe = dir + "/model";
  b.dump = dir + "/kernels.safetensors";
  if (failed(compiler.build(*copy, Stage::exe, b.exe)))
    return "build " + b.name + " failed (reported above)";
  return "";
}

std::string run(const Build &b) {
  std::vector<std::string> args = {b.exe, "--steps", "1", "--seed", std::to_string(seed), "--output", "none", "--quiet",
                                   "--eval-every", "0", "--dump-kernels", b.dump,
                                   // The one step needs no entry for a short last batch.
                                   "--drop-last"};
  for (const auto &[flag, value] : {std::pair{"--data", &data}, std::pair{"--init", &init}})
    if (!value->empty()) {
      args.push_back(flag);
      args.push_back(*value);
    }
  std::vector<StringRef> argv(args.begin(), args.end());
  std::string error;
  // Its own messages go to stderr; what it prints otherwise is not this report's.
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef("/dev/null"), std::nullopt};
  if (int rc = sys::ExecuteAndWait(b.exe, argv, std::nullopt, redirects, 0, 0, &error); rc != 0)
    return "build " + b.name + " (" + b.describe() + ") failed to run one step (exit " + std::to_string(rc) + ")" +
           (error.empty() ? "" : ": " + error);
  return "";
}

std::string tensorName(const StepPlan &plan, const EntryPlan &entry, size_t call, size_t output) {
  return formatv("{0}/{1}/{2}/{3}", entry.name, call, plan.kernels[entry.calls[call].kernel].name, output).str();
}

// How far apart one output of the two builds is.
struct Difference {
  int64_t elements = 0, beyond = 0;
  double maxAbs = 0, maxRel = 0;
  int64_t atAbs = -1, atRel = -1;
  double aAbs = 0, bAbs = 0, aRel = 0, bRel = 0; // the values where those are
};

std::vector<double> valuesOf(const SafetensorsFile &file, const SafetensorsEntry &e) {
  const uint8_t *bytes = file.data(e);
  const size_t size = safetensors_dtype_size(e.dtype), n = size ? (e.end - e.begin) / size : 0;
  std::vector<double> values(n);
  for (size_t i = 0; i < n; ++i) {
    if (e.dtype == "F32") {
      float f;
      std::memcpy(&f, bytes + 4 * i, 4);
      values[i] = f;
    } else if (e.dtype == "I32") {
      int32_t v;
      std::memcpy(&v, bytes + 4 * i, 4);
      values[i] = v;
    } else {
      values[i] = bytes[i];
    }
  }
  return values;
}

Difference compare(const std::vector<double> &a, const std::vector<double> &b, bool floating) {
  Difference c;
  c.elements = int64_t(a.size());
  double scale = 0;
  for (const std::vector<double> *side : {&a, &b})
    for (double v : *side)
      if (std::isfinite(v))
        scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a[i], y = b[i];
    double abs = 0;
    if (!(x == y || (std::isnan(x) && std::isnan(y))))
      abs = std::isnan(x) || std::isnan(y) ? std::numeric_limits<double>::infinity() : std::abs(x - y);
    const double magnitude = std::max(std::abs(x), std::abs(y));
    const double rel = abs == 0 ? 0 : abs / magnitude;
    const bool differs = floating ? abs > rtol * magnitude + atol * scale : abs != 0;
    c.beyond += differs;
    if (abs > c.maxAbs || (c.atAbs < 0 && abs > 0))
      c.maxAbs = abs, c.atAbs = int64_t(i), c.aAbs = x, c.bAbs = y;
    if (rel > c.maxRel)
      c.maxRel = rel, c.atRel = int64_t(i), c.aRel = x, c.bRel = y;
  }
  return c;
}

std::string coordinates(int64_t flat, const std::vector<int64_t> &shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::string text = "[";
  for (size_t d = 0; d < index.size(); ++d)
    text += (d ? ", " : "") + std::to_string(index[d]);
  return text + "]";
}

std::string sourcesText(const KernelCall &call) {
  std::string text;
  for (const std::string &s : call.sources)
    text += (text.empty() ? "" : ", ") + s;
  return text;
}

// The values both builds wrote, compared in the order A computes them: the first that differs
// beyond tolerance while every value its kernel read agreed is blamed; those that differ where a
// value they read already did are counted as carried.
class Comparison {
public:
  Comparison(const Build &a, const Build &b, const SafetensorsFile &dumpA, const SafetensorsFile &dumpB)
      : a(a), b(b), dumpA(dumpA), dumpB(dumpB) {
    for (const EntryPlan &entry : b.plan.entries) {
      entriesB[entry.name] = &entry;
      for (size_t c = 0; c < entry.calls.size(); ++c)
        for (size_t o = 0; o < entry.calls[c].values.size(); ++o)
          inB.try_emplace({entry.name, entry.calls[c].values[o]}, c, o);
    }
  }

  // diff(1)'s exit status: 0 the builds agree, 1 they differ, 2 trouble.
  int run() {
    for (const EntryPlan &entry : a.plan.entries) {
      auto other = entriesB.find(entry.name);
      if (other == entriesB.end() || entry.calls.empty() || !dumpA.find(tensorName(a.plan, entry, 0, 0)))
        continue; // an entry the step did not run (the short last batch's)
      if (std::optional<int> status = compareEntry(entry, *other->second))
        return *status;
    }
    return summary();
  }

private:
  // A call's output in each build: its entries, calls and output indices.
  struct Written {
    const EntryPlan &entry, &entryB;
    size_t call, output, callB, outputB;
  };

  // The entry's values in A's order; an exit status once one differs or trouble stops it.
  std::optional<int> compareEntry(const EntryPlan &entry, const EntryPlan &entryB) {
    int64_t here = 0, writtenA = 0;
    for (size_t c = 0; c < entry.calls.size(); ++c)
      for (size_t o = 0; o < entry.calls[c].values.size(); ++o) {
        ++writtenA;
        auto where = inB.find({entry.name, entry.calls[c].values[o]});
        if (where == inB.end())
          continue;
        ++here;
        auto [cb, ob] = where->second;
        if (std::optional<int> status = compareValue({entry, entryB, c, o, cb, ob}))
          return status;
      }
    size_t writtenB = 0;
    for (const KernelCall &call : entryB.calls)
      writtenB += call.values.size();
    outs() << formatv("{0}: {1} of the {2} outputs A writes compared, the values B writes too (B writes {3})\n",
                      entry.name, here, writtenA, writtenB);
    return std::nullopt;
  }

  std::optional<int> compareValue(const Written &w) {
    const KernelCall &call = w.entry.calls[w.call];
    std::string nameA = tensorName(a.plan, w.entry, w.call, w.output);
    std::string nameB = tensorName(b.plan, w.entryB, w.callB, w.outputB);
    const SafetensorsEntry *ta = dumpA.find(nameA), *tb = dumpB.find(nameB);
    if (!ta || !tb)
      return trouble("the kernel outputs of " + std::string(!ta ? "A" : "B") + " lack " + (!ta ? nameA : nameB));
    std::vector<double> va = valuesOf(dumpA, *ta), vb = valuesOf(dumpB, *tb);
    if (va.size() != vb.size() || ta->dtype != tb->dtype)
      return trouble(nameA + " of A and " + nameB + " of B hold different types (" + ta->dtype + ", " + tb->dtype +
                     ")");
    Difference cmp = compare(va, vb, ta->dtype == "F32");
    ++compared;
    beyondOf[call.values[w.output]] = cmp.beyond;
    const std::string &kernelB = b.plan.kernels[w.entryB.calls[w.callB].kernel].name;
    if (cmp.maxRel > worstRel)
      worstRel = cmp.maxRel, worstAt = kernelB + " of " + w.entry.name;
    if (cmp.beyond > 0 && firstBeyond.empty())
      firstBeyond = formatv("{0} of {1}, {2} of its {3} elements", kernelB, w.entry.name, cmp.beyond, cmp.elements);
    if (cmp.beyond <= int64_t(maxMismatch * double(cmp.elements)))
      return std::nullopt;
    bool readDiffers = false;
    for (uint64_t read : call.reads) {
      auto it = beyondOf.find(read);
      readDiffers |= it != beyondOf.end() && it->second > 0;
    }
    if (!readDiffers) {
      printFirstDifference(w, cmp);
      return 1;
    }
    if (carried++ == 0)
      firstCarried = formatv("{0} of {1}, {2} of its {3} elements", kernelB, w.entry.name, cmp.beyond, cmp.elements);
    return std::nullopt;
  }

  void printFirstDifference(const Written &w, const Difference &cmp) {
    const KernelCall &call = w.entry.calls[w.call], &callB = w.entryB.calls[w.callB];
    const TensorDesc &value = call.written[w.output];
    outs() << formatv("\nfirst difference: {0}, the value written by\n", w.entry.name)
           << formatv("  A: call {0}, {1}, output {2}: {3}\n", w.call, a.plan.kernels[call.kernel].name, w.output,
                      sourcesText(call))
           << formatv("  B: call {0}, {1}, output {2}: {3}\n", w.callB, b.plan.kernels[callB.kernel].name, w.outputB,
                      sourcesText(callB))
           << formatv("  {0} of its {1} elements ({2}) differ ({3:f2}%)\n", cmp.beyond, cmp.elements,
                      shapeString(value.shape), 100.0 * double(cmp.beyond) / double(cmp.elements))
           << formatv("  largest absolute error {0:e3} at {1}: A {2:e6}, B {3:e6}\n", cmp.maxAbs,
                      coordinates(cmp.atAbs, value.shape), cmp.aAbs, cmp.bAbs)
           << formatv("  largest relative error {0:e3} at {1}: A {2:e6}, B {3:e6}\n", cmp.maxRel,
                      coordinates(cmp.atRel, value.shape), cmp.aRel, cmp.bRel)
           << formatv("  ({0} earlier outputs agree)\n", compared - 1);
  }

  int summary() {
    if (compared == 0)
      return trouble("the builds keep no value in common: nothing to compare");
    if (carried == 0) {
      outs() << formatv("the builds agree: all {0} outputs compared are within tolerance", compared);
      if (worstRel > 0)
        outs() << formatv(" (largest relative error {0:e2}, in {1})", worstRel, worstAt);
      outs() << "\n";
      return 0;
    }
    outs() << formatv("the builds agree: of the {0} outputs compared, the {1} beyond tolerance differ only where a "
                      "value their kernels read already did (first: {2}), carrying forward a difference within the "
                      "allowed share that began at {3}: elements decided within rounding, as a ReLU at zero\n",
                      compared, carried, firstCarried, firstBeyond);
    return 0;
  }

  const Build &a, &b;
  const SafetensorsFile &dumpA, &dumpB;
  // Where B writes each value: entry name and value -> (call, output).
  std::map<std::pair<std::string, uint64_t>, std::pair<size_t, size_t>> inB;
  std::map<std::string, const EntryPlan *> entriesB;
  int64_t compared = 0, carried = 0;
  double worstRel = 0;
  std::string worstAt, firstCarried, firstBeyond;
  std::map<uint64_t, int64_t> beyondOf; // compared values: their elements beyond tolerance
};

} // namespace

bool diffCommand() { return bool(diffCmd); }

int diff() {
  if (listStages) {
    printStages(outs());
    return 0;
  }
  if (model.empty())
    return trouble("no model given; try 'kiln diff MODEL.mlir --a host --b opencl'");
  Build a, b;
  a.name = "A";
  b.name = "B";
  for (auto [build, spec] : {std::pair{&a, &specA}, std::pair{&b, &specB}})
    if (std::string err = parseSpec(*spec, *build); !err.empty())
      return trouble(err);
  if (!(rtol >= 0) || !(atol >= 0) || !(maxMismatch >= 0 && maxMismatch < 1))
    return trouble("--rtol and --atol must be non-negative and --max-mismatch in [0, 1)");

  TempFolder temps;
  if (std::string err = temps.create("kiln-diff"); !err.empty())
    return trouble(err);
  ModelReader reader;
  mlir::OwningOpRef<mlir::ModuleOp> module = reader.read(model, temps);
  if (!module)
    return 2;
  for (Build *build : {&a, &b}) {
    if (std::string err = compile(*build, *module, temps); !err.empty())
      return trouble(err);
    if (std::string err = run(*build); !err.empty())
      return trouble(err);
  }
  std::optional<SafetensorsFile> dumpA, dumpB;
  try {
    dumpA = SafetensorsFile::read(a.dump);
    dumpB = SafetensorsFile::read(b.dump);
  } catch (const UserError &e) {
    return trouble(e.what());
  }
  outs() << "kiln diff " << sys::path::filename(model) << ": A = " << a.describe() << ", B = " << b.describe()
         << "; one train step (seed " << seed << ") and the first evaluation batch\n"
         << format("an element differs when |a - b| > %g * max(|a|, |b|) + %g * (the output's largest magnitude); "
                   "an output, when more than a share %g of its elements do\n",
                   rtol.getValue(), atol.getValue(), maxMismatch.getValue());
  return Comparison(a, b, *dumpA, *dumpB).run();
}

} // namespace kiln
