// The compiler: the stage table run from a traced model to the product of any stage.
#include "compiler/Compiler.h"

#include "codegen/KernelSpec.h"
#include "codegen/host/HostModule.h"
#include "ir/Roles.h"

#include "kiln/contract.h"
#include "kiln/datasets.h"
#include "kiln/error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cmath>
#include <map>

using namespace llvm;

namespace kiln {

std::string checkOptions(const CompileOptions &o) {
  if (o.ranks < 1 || o.ranks > (1 << 20))
    return "--ranks " + std::to_string(o.ranks) + ": expected 1 to 2^20 processes";
  if (o.ranks > 1 && o.target == Device::opencl)
    return "--ranks " + std::to_string(o.ranks) +
           ": data-parallel training runs on the CPU (MPI) or on CUDA GPUs (NCCL), not through --target=opencl";
  if (o.maxArenaGiB == 0 || o.maxArenaGiB > (uint64_t(1) << 30))
    return "--max-arena-gib " + std::to_string(o.maxArenaGiB) + ": expected 1 to 2^30";
  return "";
}

Compiler::Compiler(mlir::MLIRContext &context, CompileOptions options, const TempFolder &temps)
    : context_(context), options_(std::move(options)), temps_(temps) {
  pipeline_.fusion = options_.fusion;
  pipeline_.batch.batch = options_.batch;
  pipeline_.batch.ranks = options_.ranks;
}

mlir::LogicalResult Compiler::fail(const Twine &message) {
  errs() << "kiln: error: " << message << "\n";
  return mlir::failure();
}

mlir::LogicalResult Compiler::run(mlir::ModuleOp module, Stage last, const std::string &out) {
  if (last <= Stage::planned)
    return plan(module, last, out);
  if (failed(plan(module)))
    return mlir::failure();
  return build(module, last, out);
}

mlir::LogicalResult Compiler::plan(mlir::ModuleOp module, std::optional<Stage> dumpAt, const std::string &out) {
  if (failed(prepare(module)))
    return mlir::failure();
  auto dump = [&](Stage stage, function_ref<void(raw_ostream &)> print) {
    return dumpAt == stage ? writeText(out, print) : mlir::success();
  };
  for (const StageInfo &s : stages()) {
    if (s.stage > Stage::fused)
      break;
    if (failed(runIRStage(module, s.stage)))
      return mlir::failure();
    if (s.stage == Stage::forward && options_.ranks == 1)
      raw_string_ostream(modelIR_) << module;
    if (dumpAt == s.stage)
      return dump(s.stage, [&](raw_ostream &os) { module.print(os); });
  }
  // Each kernel's schedule as codegen will build it, attached for people reading the IR.
  if (dumpAt == Stage::scheduled || options_.printAfterAll) {
    if (failed(annotateSchedules(module, options_.target)))
      return mlir::failure();
    if (options_.printAfterAll)
      errs() << "// -----// IR Dump After kiln-schedule (codegen's schedule per kernel) //----- //\n" << module << "\n";
    if (dumpAt == Stage::scheduled)
      return dump(Stage::scheduled, [&](raw_ostream &os) { module.print(os); });
  }
  if (failed(planMemory(module)))
    return mlir::failure();
  return dump(Stage::planned, [&](raw_ostream &os) { os << describePlan(*plan_); });
}

mlir::LogicalResult Compiler::build(mlir::ModuleOp module, Stage last, const std::string &out) {
  // Known here, before anything is built: a binary that could never allocate its arena is
  // refused now rather than on the machine it runs on.
  if (plan_->arenaBytes > (options_.maxArenaGiB << 30))
    return module.emitError("kiln codegen: the model's memory plan needs ")
           << plan_->arenaBytes << " bytes (" << formatv("{0:f1}", double(plan_->arenaBytes) / double(1 << 30))
           << " GiB), more than the " << options_.maxArenaGiB << " GiB allowed; raise --max-arena-gib if the "
           << "machine that trains it has the memory";
  if (last == Stage::halide || last == Stage::assembly || last == Stage::ptx)
    return writeKernels(last, out);
  if (last == Stage::llvm) {
    LLVMContext llvmContext;
    std::unique_ptr<llvm::Module> host = emitHostModule(*plan_, llvmContext, options_.target);
    return writeText(out, [&](raw_ostream &os) { host->print(os, nullptr); });
  }
  return writeBinary(module, last, out);
}

// The model as given, with the options that rewrite it applied: its optimizer replaced, and
// the data's rows counted for the short last batch's step.
mlir::LogicalResult Compiler::prepare(mlir::ModuleOp module) {
  // The model as one process trains it, kept in whole-net checkpoints: a data-parallel build's
  // steps are specialised to each rank's share of the batch, which another build must not see.
  module->removeAttr(attr::ranks);
  modelIR_.clear();
  plan_.reset();
  if (failed(overrideOptimizer(module)) || failed(checkDataset(module)))
    return mlir::failure();
  if (options_.ranks > 1)
    raw_string_ostream(modelIR_) << module;
  return countDataRows(module, pipeline_.batch.dataRows);
}

// A data set named by kiln.train is one the runtime has: refused now, not when the binary runs.
mlir::LogicalResult Compiler::checkDataset(mlir::ModuleOp module) {
  auto settings = module->getAttrOfType<mlir::DictionaryAttr>(attr::train);
  auto dataset = settings ? settings.getAs<mlir::StringAttr>(setting::dataset) : nullptr;
  if (!dataset || dataset.getValue().empty() || find_dataset(std::string_view(dataset.getValue())))
    return mlir::success();
  std::string known;
  for (const DatasetEntry &e : dataset_registry())
    known += std::string(known.empty() ? "" : ", ") + e.name;
  return module.emitError() << attr::train << ": unknown dataset '" << dataset.getValue() << "' (known: " << known
                            << "; or \"\" for a model whose data comes from --data)";
}

// Applies --optimizer and --optimizer-option to the module's kiln.optimizer attribute.
mlir::LogicalResult Compiler::overrideOptimizer(mlir::ModuleOp module) {
  if (options_.optimizer.empty() && options_.optimizerOptions.empty())
    return mlir::success();
  mlir::Builder b(module.getContext());
  mlir::NamedAttrList attrs;
  if (options_.optimizer.empty()) {
    if (auto old = module->getAttrOfType<mlir::DictionaryAttr>(attr::optimizer))
      attrs = mlir::NamedAttrList(old);
  } else {
    attrs.set(optimizer_key::name, b.getStringAttr(options_.optimizer));
  }
  for (const std::string &option : options_.optimizerOptions) {
    auto [key, value] = StringRef(option).split('=');
    double number;
    if (key.empty() || value.empty())
      return module.emitError("--optimizer-option expects KEY=VALUE, got '") << option << "'";
    if (key == setting::lr) {
      // The learning rate is the binary's runtime default (kiln.train), not a constant of
      // the update: it stays a --lr flag of the binary.
      if (value.getAsDouble(number) || !std::isfinite(number) || number <= 0)
        return module.emitError("--optimizer-option lr: '") << value << "' is not a positive number";
      auto train = module->getAttrOfType<mlir::DictionaryAttr>(attr::train);
      if (!train)
        return module.emitError("--optimizer-option lr: the model has no kiln.train settings to hold it");
      mlir::NamedAttrList settings(train);
      settings.set(setting::lr, b.getF64FloatAttr(number));
      module->setAttr(attr::train, settings.getDictionary(module.getContext()));
      continue;
    }
    if (value == "true" || value == "false")
      attrs.set(key, b.getBoolAttr(value == "true"));
    else if (!value.getAsDouble(number))
      attrs.set(key, b.getF64FloatAttr(number));
    else
      return module.emitError("--optimizer-option ") << key << ": '" << value << "' is not a number, true or false";
  }
  module->setAttr(attr::optimizer, attrs.getDictionary(module.getContext()));
  return mlir::success();
}

// The rows of training data the binary will read (--data, or the model's data set), when the
// model keeps its short last batch; 0 when that does not matter.
mlir::LogicalResult Compiler::countDataRows(mlir::ModuleOp module, int64_t &rows) {
  rows = 0;
  auto settings = module->getAttrOfType<mlir::DictionaryAttr>(attr::train);
  auto dropLast = settings ? settings.getAs<mlir::BoolAttr>(setting::drop_last) : nullptr;
  if (!settings || (dropLast && dropLast.getValue()))
    return mlir::success();
  mlir::func::FuncOp main;
  for (auto f : module.getOps<mlir::func::FuncOp>())
    if (!main && roleOf(f) == FunctionRole::forward)
      main = f;
  if (!main)
    return mlir::success();
  std::vector<std::string> inputs;
  for (unsigned i = 0; i < main.getNumArguments(); ++i)
    if (auto name = main.getArgAttrOfType<mlir::StringAttr>(i, attr::input))
      inputs.push_back(name.getValue().str());
  if (inputs.empty())
    return mlir::success();
  auto text = [&](StringRef key) {
    auto s = settings.getAs<mlir::StringAttr>(key);
    return s ? s.getValue().str() : std::string();
  };
  try {
    // Unknown rows (-1: data the compiler cannot count) give no short last batch's step.
    rows =
        std::max<int64_t>(0, training_rows(text(setting::dataset), options_.dataPath, text(setting::data_dir), inputs));
  } catch (const UserError &e) {
    return module.emitError("--data: ") << e.what();
  }
  return mlir::success();
}

mlir::LogicalResult Compiler::runIRStage(mlir::ModuleOp module, Stage stage) {
  mlir::PassManager pm(&context_);
  addStagePasses(stage, pm, pipeline_);
  if (options_.printAfterAll) {
    context_.disableMultithreading();
    pm.enableIRPrinting([](mlir::Pass *, mlir::Operation *) { return false; },
                        [](mlir::Pass *, mlir::Operation *) { return true; },
                        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
  }
  return pm.run(module);
}

mlir::LogicalResult Compiler::planMemory(mlir::ModuleOp module) {
  auto plan = planModel(module, modelIR_, options_.target);
  if (failed(plan))
    return mlir::failure();
  plan_ = std::move(*plan);
  if (options_.printAfterAll)
    errs() << "// -----// Memory plan //----- //\n" << describePlan(*plan_);
  return mlir::success();
}

mlir::LogicalResult Compiler::writeText(const std::string &out, function_ref<void(raw_ostream &)> print) {
  std::string error;
  auto file = mlir::openOutputFile(out.empty() ? "-" : out, &error);
  if (!file)
    return fail(error);
  print(file->os());
  file->keep();
  return mlir::success();
}

// The kernels compiled to Halide's statements, assembly or PTX.
mlir::LogicalResult Compiler::writeKernels(Stage stage, const std::string &out) {
  if (stage == Stage::ptx && options_.target != Device::cuda)
    return fail("--emit=ptx needs --target=cuda");
  KernelOutputs outs;
  std::vector<std::string> objects;
  if (options_.target != Device::host) { // a GPU target compiles one object per kernel
    outs.object = temps_ / "kernels.o";
    outs.objects = &objects;
  }
  const std::string text = temps_ / "kernels.txt";
  (stage == Stage::halide ? outs.stmt : stage == Stage::ptx ? outs.ptx : outs.assembly) = text;
  if (std::string err = compileKernels(plan_->kernels, outs, options_.target); !err.empty())
    return fail(err);
  if (stage == Stage::ptx)
    return writePtx(text, out);
  auto buffer = MemoryBuffer::getFile(text);
  if (!buffer)
    return fail("cannot read " + text);
  return writeText(out, [&](raw_ostream &os) { os << (*buffer)->getBuffer(); });
}

// Each kernel's PTX module follows a header naming it; the ops and DSL lines of the calls that
// run it go beneath, as comments.
mlir::LogicalResult Compiler::writePtx(const std::string &kernelsText, const std::string &out) {
  std::map<std::string, std::vector<std::string>> sources;
  auto note = [&](const KernelCall &call) {
    auto &lines = sources[plan_->kernels[call.kernel].name];
    for (const std::string &s : call.sources)
      if (!llvm::is_contained(lines, s))
        lines.push_back(s);
  };
  llvm::for_each(plan_->once, note);
  for (const EntryPlan &entry : plan_->entries)
    llvm::for_each(entry.calls, note);
  auto text = MemoryBuffer::getFile(kernelsText);
  if (!text)
    return fail("cannot read the kernels' PTX");
  return writeText(out, [&](raw_ostream &os) {
    const StringRef header = "// ===== kiln kernel ";
    for (StringRef rest = (*text)->getBuffer(); !rest.empty();) {
      auto [line, next] = rest.split('\n');
      os << line << "\n";
      if (line.starts_with(header))
        for (const std::string &s : sources[line.drop_front(header.size()).split(':').first.str()])
          os << "//   " << s << "\n";
      rest = next;
    }
  });
}

// Kernels, host module and Halide runtime compiled into the temporary folder, then linked into
// `out`: an executable with the runtime's parts the model uses, or one relocatable object.
mlir::LogicalResult Compiler::writeBinary(mlir::ModuleOp module, Stage stage, const std::string &out) {
  const bool relocatable = stage == Stage::obj;
  const std::string path = !out.empty() ? out : relocatable ? "a.o" : "a.out";
  const Device device = options_.target;
  std::vector<std::string> kernelObjects;
  KernelOutputs outs;
  outs.object = temps_ / "kernels.o";
  outs.runtime = temps_ / "halide_runtime.o";
  outs.brokenKernel = options_.brokenKernel;
  if (device != Device::host)
    outs.objects = &kernelObjects;
  else
    kernelObjects.push_back(outs.object);
  if (std::string err = compileKernels(plan_->kernels, outs, device); !err.empty())
    return fail(err);
  // The runtime names the device in its errors (a CUDA build on a machine without a GPU).
  StepPlan built = *plan_;
  if (device != Device::host) {
    auto manifest = json::parse(built.manifest);
    if (!manifest || !manifest->getAsObject())
      return fail("internal error: the manifest is not a JSON object");
    (*manifest->getAsObject())["device"] = device == Device::cuda ? "cuda" : "opencl";
    built.manifest.clear();
    raw_string_ostream(built.manifest) << *manifest;
  }
  LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> host = emitHostModule(built, llvmContext, device);
  const std::string hostObject = temps_ / "host.o";
  if (std::string err = emitObjectFile(*host, hostObject); !err.empty())
    return fail(err);
  std::vector<std::string> objects = {hostObject, outs.runtime};
  objects.insert(objects.end(), kernelObjects.begin(), kernelObjects.end());
  RuntimeParts parts = runtimeParts(module);
  parts.nccl = parts.ranks && device == Device::cuda;
  std::string err = relocatable ? linkRelocatable(objects, path) : linkExecutable(objects, path, parts);
  return err.empty() ? mlir::success() : fail(err);
}

RuntimeParts runtimeParts(mlir::ModuleOp module) {
  auto train = module->getAttrOfType<mlir::DictionaryAttr>(attr::train);
  auto draw = train ? train.getAs<mlir::BoolAttr>(setting::draw) : nullptr;
  auto dataset = train ? train.getAs<mlir::StringAttr>(setting::dataset) : nullptr;
  auto ranks = module->getAttrOfType<mlir::IntegerAttr>(attr::ranks);
  return {draw && draw.getValue(), dataset && !dataset.getValue().empty(), ranks && ranks.getInt() > 1};
}

} // namespace kiln
