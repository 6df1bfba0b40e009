// kiln: the compiler driver.
//
//   kiln compile MODEL.mlir -o EXE [--emit=STAGE] [--print-ir-after-all]
//   kiln compile NET.safetensors -o EXE    (a whole-net checkpoint: its IR is in the metadata)
//   kiln compile MODEL.cpp -o EXE          (a model file: built, run to trace it, then compiled)
//   kiln compile MODEL --ranks R -o EXE    (data parallel: run as `mpirun -np R EXE`)
//   kiln bench MODEL                       (fused and unfused builds timed side by side)
//   kiln diff MODEL --a SPEC --b SPEC      (one step of two builds compared kernel by kernel)
//
// Stages, in pipeline order (the driver stops after the one --emit names):
//   forward  the traced model, verified           grad  after autodiff
//   train    after the optimizer: @train_step      fused  kiln.kernel groups (--fusion=off: one per op)
//   scheduled  the kernels with codegen's schedule   planned  buffers, offsets, lifetimes, calls
//   halide   Halide's lowered kernels (stmt)
//   asm      the kernels' assembly                 ptx   their PTX (--target=cuda)
//   llvm     the host module (.ll)
//   obj      one relocatable object: kernels, host module and Halide runtime
//   exe      a standalone training executable (the default)
#include "codegen/KernelSpec.h"
#include "codegen/host/HostModule.h"
#include "ir/Dialect.h"
#include "passes/Passes.h"
#include "passes/SpecializeBatch.h"
#include "tools/kiln/Driver.h"
#include "ir/ModelFile.h"
#include "tools/kiln/Link.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FormatVariadic.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include "kiln/datasets.h"
#include "kiln/error.h"

#include <cmath>
#include <map>

using namespace llvm;

namespace {

enum class Emit { forward, grad, train, fused, scheduled, planned, halide, assembly, ptx, llvm, obj, exe };

cl::SubCommand compileCmd("compile", "Compile a kiln model (.mlir) ahead of time");
cl::opt<std::string> input(cl::Positional, cl::desc("MODEL.mlir, MODEL.cpp or NET.safetensors"), cl::Required,
                           cl::sub(compileCmd));
cl::opt<std::string> output("o", cl::desc("Output file (default: stdout for IR, a.out for exe)"),
                            cl::value_desc("FILE"), cl::init(""), cl::sub(compileCmd));
cl::opt<Emit> emit("emit", cl::desc("The stage to stop after"), cl::init(Emit::exe),
                   cl::values(clEnumValN(Emit::forward, "forward", "the traced model"),
                              clEnumValN(Emit::grad, "grad", "after autodiff"),
                              clEnumValN(Emit::train, "train", "the train step"),
                              clEnumValN(Emit::fused, "fused", "kiln.kernel groups"),
                              clEnumValN(Emit::scheduled, "scheduled", "kernels with their schedules"),
                              clEnumValN(Emit::planned, "planned", "buffers, offsets, lifetimes, calls"),
                              clEnumValN(Emit::halide, "halide", "Halide's lowered kernels"),
                              clEnumValN(Emit::assembly, "asm", "the kernels' assembly"),
                              clEnumValN(Emit::ptx, "ptx", "the kernels' PTX (--target=cuda)"),
                              clEnumValN(Emit::llvm, "llvm", "the host module as LLVM IR"),
                              clEnumValN(Emit::obj, "obj", "one relocatable object"),
                              clEnumValN(Emit::exe, "exe", "a standalone executable")),
                   cl::sub(compileCmd));
cl::opt<kiln::Device> target("target", cl::desc("Where the kernels run"), cl::init(kiln::Device::host),
                             cl::values(clEnumValN(kiln::Device::host, "host", "the host CPU (the default)"),
                                        clEnumValN(kiln::Device::cuda, "cuda", "an NVIDIA GPU, through CUDA"),
                                        clEnumValN(kiln::Device::opencl, "opencl", "a GPU through OpenCL")),
                             cl::sub(compileCmd));
cl::opt<bool> printAfterAll("print-ir-after-all", cl::desc("Print the IR after every pass"),
                            cl::init(false), cl::sub(compileCmd));
cl::opt<std::string> optimizerName("optimizer",
                                   cl::desc("Override the model's optimizer: sgd, adagrad, "
                                            "adadelta, rmsprop, adam, adamw"),
                                   cl::value_desc("NAME"), cl::init(""), cl::sub(compileCmd));
cl::list<std::string> optimizerOptions(
    "optimizer-option", cl::desc("Set an optimizer hyper-parameter, e.g. momentum=0.9"),
    cl::value_desc("KEY=VALUE"), cl::CommaSeparated, cl::sub(compileCmd));
enum class Fusion { on, off };
cl::opt<Fusion> fusion("fusion", cl::desc("Fuse primitives into kernels"), cl::init(Fusion::on),
                       cl::values(clEnumValN(Fusion::on, "on", "fused kernels (the default)"),
                                  clEnumValN(Fusion::off, "off", "one kernel per primitive")),
                       cl::sub(compileCmd));
cl::opt<int64_t> batchSize("batch",
                           cl::desc("Train with this many rows per step (default: the traced batch)"),
                           cl::value_desc("N"), cl::init(0), cl::sub(compileCmd));
cl::opt<int64_t> ranks("ranks",
                       cl::desc("Train data-parallel on this many processes (mpirun -np N): each runs the "
                                "step on 1/N of every batch and the gradients are averaged (default 1)"),
                       cl::value_desc("N"), cl::init(1), cl::sub(compileCmd));
cl::opt<std::string> dataPath("data",
                              cl::desc("The training data the binary will use (file or folder), to size "
                                       "the step of the short last batch (default: the model's data set)"),
                              cl::value_desc("PATH"), cl::init(""), cl::sub(compileCmd));
cl::opt<uint64_t> maxArenaGiB("max-arena-gib",
                              cl::desc("Refuse a model whose memory plan needs more than this many GiB (default 64)"),
                              cl::value_desc("N"), cl::init(64), cl::sub(compileCmd));
cl::opt<bool> keepTemps("keep-temps", cl::desc("Keep the intermediate files and print where"),
                        cl::init(false), cl::sub(compileCmd));

int fail(const Twine &message) {
  errs() << "kiln: error: " << message << "\n";
  return 1;
}

// Writes `text` to the -o file, or stdout when none is given.
int writeOutput(function_ref<void(raw_ostream &)> print) {
  std::string error;
  auto file = mlir::openOutputFile(output.empty() ? "-" : output.getValue(), &error);
  if (!file)
    return fail(error);
  print(file->os());
  file->keep();
  return 0;
}

int readFileInto(const std::string &path, raw_ostream &os) {
  auto buffer = MemoryBuffer::getFile(path);
  if (!buffer)
    return fail("cannot read " + path);
  os << (*buffer)->getBuffer();
  return 0;
}

// Applies --optimizer and --optimizer-option to the module's kiln.optimizer attribute.
mlir::LogicalResult overrideOptimizer(mlir::ModuleOp module) {
  if (optimizerName.empty() && optimizerOptions.empty())
    return mlir::success();
  mlir::Builder b(module.getContext());
  mlir::NamedAttrList attrs;
  if (optimizerName.empty()) {
    if (auto old = module->getAttrOfType<mlir::DictionaryAttr>("kiln.optimizer"))
      attrs = mlir::NamedAttrList(old);
  } else {
    attrs.set("name", b.getStringAttr(optimizerName));
  }
  for (const std::string &option : optimizerOptions) {
    auto [key, value] = StringRef(option).split('=');
    double number;
    if (key.empty() || value.empty())
      return module.emitError("--optimizer-option expects KEY=VALUE, got '") << option << "'";
    if (key == "lr") {
      // The learning rate is the binary's runtime default (kiln.train), not a constant of
      // the update: it stays a --lr flag of the binary.
      if (value.getAsDouble(number) || !std::isfinite(number) || number <= 0)
        return module.emitError("--optimizer-option lr: '") << value << "' is not a positive number";
      auto train = module->getAttrOfType<mlir::DictionaryAttr>("kiln.train");
      if (!train)
        return module.emitError("--optimizer-option lr: the model has no kiln.train settings to hold it");
      mlir::NamedAttrList settings(train);
      settings.set("lr", b.getF64FloatAttr(number));
      module->setAttr("kiln.train", settings.getDictionary(module.getContext()));
      continue;
    }
    if (value == "true" || value == "false")
      attrs.set(key, b.getBoolAttr(value == "true"));
    else if (!value.getAsDouble(number))
      attrs.set(key, b.getF64FloatAttr(number));
    else
      return module.emitError("--optimizer-option ") << key << ": '" << value
                                                      << "' is not a number, true or false";
  }
  module->setAttr("kiln.optimizer", attrs.getDictionary(module.getContext()));
  return mlir::success();
}

// A train step of `rows` rows meets the model's kiln.min_rows (BatchNorm over [N, C] needs two).
mlir::LogicalResult checkRows(mlir::ModuleOp module, int64_t rows, StringRef what) {
  auto need = module->getAttrOfType<mlir::DictionaryAttr>("kiln.min_rows");
  auto atLeast = need ? need.getAs<mlir::IntegerAttr>("rows") : nullptr;
  if (!atLeast || rows >= atLeast.getInt())
    return mlir::success();
  auto why = need.getAs<mlir::StringAttr>("why");
  return module.emitError() << what << " would train on " << rows << " row" << (rows == 1 ? "" : "s") << ", and "
                            << (why ? why.getValue() : "the model") << " (at least " << atLeast.getInt()
                            << " rows): choose another --batch, or set drop_last in the model";
}

// --batch, and the step of the short last batch: PyTorch's DataLoader hands over the rows
// left after the full batches as one smaller batch, so the binary gets a train entry for it,
// specialised from the main one as traced, unless the model drops them (drop_last) or already has one.
mlir::LogicalResult specializeBatches(mlir::ModuleOp module) {
  SmallVector<mlir::func::FuncOp> train;
  for (auto f : module.getOps<mlir::func::FuncOp>())
    if (kiln::roleOf(f) == "forward")
      train.push_back(f);
  if (train.empty()) {
    if (batchSize != 0)
      return module.emitError("--batch: the model has no train entry");
    return mlir::success();
  }
  mlir::func::FuncOp main = train.front();
  std::vector<std::string> inputs;
  for (unsigned i = 0; i < main.getNumArguments(); ++i)
    if (auto name = main.getArgAttrOfType<mlir::StringAttr>(i, "kiln.input"))
      inputs.push_back(name.getValue().str());
  if (inputs.empty() && batchSize == 0 && ranks == 1)
    return mlir::success();  // nothing is batched
  mlir::FailureOr<int64_t> traced = kiln::tracedBatch(main);
  if (failed(traced))
    return mlir::failure();
  int64_t batch = *traced;
  // The entry as traced, for the short last batch's step: re-specialising the main step would
  // divide a rank's means by the ranks a second time.
  mlir::OwningOpRef<mlir::func::FuncOp> asTraced(main.clone());
  auto settings = module->getAttrOfType<mlir::DictionaryAttr>("kiln.train");
  mlir::Builder b(module.getContext());
  if (ranks > 1)
    for (unsigned i = 0; i < main.getNumArguments(); ++i)
      if (auto buffer = main.getArgAttrOfType<mlir::StringAttr>(i, "kiln.buffer"))
        return module.emitError("--ranks ") << ranks.getValue() << ": buffer '" << buffer.getValue()
                                            << "' (running statistics) would be updated by each rank from its own "
                                               "share of the batch; data-parallel training of models with buffers is "
                                               "not supported (BatchNorm with track_running_stats=false is)";
  if ((batchSize != 0 && batchSize != batch) || ranks > 1) {
    if (batchSize < 0)
      return module.emitError("--batch ") << batchSize.getValue() << ": the batch size must be at least 1";
    if (batchSize != 0)
      batch = batchSize;
    // Each rank's step takes its share of the global batch.
    if (batch % ranks != 0)
      return module.emitError("--ranks ") << ranks.getValue() << ": the global batch of " << batch
                                          << " rows does not split evenly over " << ranks.getValue()
                                          << " ranks; choose a --batch that is a multiple of it";
    if (failed(kiln::specializeBatch(main, batch / ranks, ranks)))
      return mlir::failure();
    // Entries traced by hand for the old batch (a short last batch) no longer fit.
    for (mlir::func::FuncOp f : llvm::drop_begin(train))
      f.erase();
    train.resize(1);
    if (settings) {
      mlir::NamedAttrList updated(settings);
      updated.set("batch", b.getI64IntegerAttr(batch));
      settings = updated.getDictionary(module.getContext());
      module->setAttr("kiln.train", settings);
    }
  }
  if (failed(checkRows(module, batch / ranks, ranks > 1 ? "each rank's share of the batch" : "the batch")))
    return mlir::failure();
  auto dropLast = settings ? settings.getAs<mlir::BoolAttr>("drop_last") : nullptr;
  if (!settings || (dropLast && dropLast.getValue()))
    return mlir::success();
  auto text = [&](StringRef key) {
    auto s = settings.getAs<mlir::StringAttr>(key);
    return s ? s.getValue().str() : std::string();
  };
  int64_t rows;
  try {
    rows = kiln::training_rows(text("dataset"), dataPath, text("data_dir"), inputs);
  } catch (const kiln::UserError &e) {
    return module.emitError("--data: ") << e.what();
  }
  const int64_t tail = rows > 0 ? rows % batch : 0;
  if (tail == 0)
    return mlir::success();
  if (failed(checkRows(module, tail / ranks, "the short last batch")))
    return mlir::failure();
  if (tail % ranks != 0)
    return module.emitError("--ranks ") << ranks.getValue() << ": the data's " << rows << " rows leave a last batch of "
                                        << tail << " after the batches of " << batch << ", which does not split evenly "
                                        << "over " << ranks.getValue() << " ranks; choose another --batch, or set "
                                        << "drop_last in the model";
  for (mlir::func::FuncOp f : train) {
    mlir::FailureOr<int64_t> b = kiln::tracedBatch(f);
    if (failed(b))
      return mlir::failure();
    if (*b == tail / ranks)
      return mlir::success();
  }
  mlir::func::FuncOp last = asTraced.release();
  std::string name = "forward_tail";
  if (module.lookupSymbol(name))
    name += "_" + std::to_string(tail);
  last.setName(name);
  last->setAttr("kiln.role", b.getStringAttr("forward"));  // @forward may carry it implicitly
  module.getBody()->getOperations().insert(std::next(mlir::Block::iterator(main)), last);
  return kiln::specializeBatch(last, tail / ranks, ranks);
}

int compile() {
  // The output must not replace the model it is compiled from, and must have somewhere to go
  // before anything is compiled.
  if (!output.empty() && sys::fs::exists(output) && sys::fs::equivalent(input.getValue(), output.getValue()))
    return fail("-o " + output + " is the model being compiled; name another output file");
  if (!output.empty() && output != "-") {
    StringRef dir = sys::path::parent_path(output.getValue());
    if (!dir.empty() && !sys::fs::is_directory(dir))
      return fail("-o " + output + ": the folder " + dir + " does not exist");
    if (sys::fs::is_directory(output.getValue()))
      return fail("-o " + output + " is a folder; name a file");
  }
  if (ranks < 1 || ranks > (1 << 20))
    return fail("--ranks " + Twine(ranks.getValue()) + ": expected 1 to 2^20 processes");
  if (ranks > 1 && target == kiln::Device::opencl)
    return fail("--ranks " + Twine(ranks.getValue()) + ": data-parallel training runs on the CPU (MPI) or on "
                "CUDA GPUs (NCCL), not through --target=opencl");
  if (maxArenaGiB == 0 || maxArenaGiB > (uint64_t(1) << 30))
    return fail("--max-arena-gib " + Twine(maxArenaGiB.getValue()) + ": expected 1 to 2^30");
  mlir::MLIRContext context;
  context.loadDialect<kiln::KilnDialect, mlir::func::FuncDialect>();
  SourceMgr sources;
  mlir::SourceMgrDiagnosticHandler diagnostics(sources, &context);
  kiln::TracedLineNotes tracedLines(&context);

  kiln::TempFolder temps;
  if (std::string err = temps.create("kiln", keepTemps); !err.empty())
    return fail(err);
  auto tempPath = [&](StringRef name) { return temps / name; };
  if (keepTemps)
    errs() << "kiln: intermediate files in " << temps.path() << "\n";

  mlir::OwningOpRef<mlir::ModuleOp> module = kiln::loadModel(context, sources, input, temps);
  if (!module)
    return 1;  // reported where
  // The model as one process trains it, kept in whole-net checkpoints: a data-parallel build's
  // steps are specialised to each rank's share of the batch, which another build must not see.
  (*module)->removeAttr("kiln.ranks");
  std::string modelIR;
  if (failed(overrideOptimizer(*module)))
    return 1;
  if (ranks > 1)
    llvm::raw_string_ostream(modelIR) << *module;
  if (failed(specializeBatches(*module)))
    return 1;
  if (ranks == 1)
    llvm::raw_string_ostream(modelIR) << *module;
  else
    (*module)->setAttr("kiln.ranks", mlir::Builder(&context).getI64IntegerAttr(ranks));

  // The IR pipeline, stage by stage, stopping at the requested dump.
  static const Emit irStages[] = {Emit::forward, Emit::grad, Emit::train, Emit::fused};
  kiln::PipelineOptions options;
  options.fusion = fusion == Fusion::on;
  const auto &stages = kiln::irPipeline();
  for (size_t i = 0; i < stages.size(); ++i) {
    mlir::PassManager pm(&context);
    stages[i].addPasses(pm, options);
    if (printAfterAll) {
      context.disableMultithreading();
      pm.enableIRPrinting([](mlir::Pass *, mlir::Operation *) { return false; },
                          [](mlir::Pass *, mlir::Operation *) { return true; },
                          /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
    }
    if (failed(pm.run(*module)))
      return 1;
    if (emit == irStages[i])
      return writeOutput([&](raw_ostream &os) { module->print(os); });
  }

  // Each kernel's schedule as codegen will build it, attached for people reading the IR.
  if (emit == Emit::scheduled || printAfterAll) {
    if (failed(kiln::annotateSchedules(*module, target)))
      return 1;
    if (printAfterAll)
      errs() << "// -----// IR Dump After kiln-schedule (codegen's schedule per kernel) //----- //\n"
             << *module << "\n";
    if (emit == Emit::scheduled)
      return writeOutput([&](raw_ostream &os) { module->print(os); });
  }

  auto plan = kiln::planModel(*module, modelIR, target);
  if (failed(plan))
    return 1;
  if (printAfterAll)
    errs() << "// -----// Memory plan //----- //\n" << kiln::describePlan(*plan);
  if (emit == Emit::planned)
    return writeOutput([&](raw_ostream &os) { os << kiln::describePlan(*plan); });
  // Known here, before anything is built: a binary that could never allocate its arena is
  // refused now rather than on the machine it runs on.
  if (plan->arenaBytes > (maxArenaGiB << 30)) {
    module->emitError("kiln codegen: the model's memory plan needs ")
        << plan->arenaBytes << " bytes (" << formatv("{0:f1}", double(plan->arenaBytes) / double(1 << 30))
        << " GiB), more than the " << maxArenaGiB.getValue() << " GiB allowed; raise --max-arena-gib if the "
        << "machine that trains it has the memory";
    return 1;
  }

  if (emit == Emit::ptx && target != kiln::Device::cuda)
    return fail("--emit=ptx needs --target=cuda");
  if (emit == Emit::halide || emit == Emit::assembly || emit == Emit::ptx) {
    kiln::KernelOutputs outs;
    std::vector<std::string> objects;
    if (target != kiln::Device::host) {  // a GPU target compiles one object per kernel
      outs.object = tempPath("kernels.o");
      outs.objects = &objects;
    }
    (emit == Emit::halide ? outs.stmt : emit == Emit::ptx ? outs.ptx : outs.assembly) = tempPath("kernels.txt");
    std::string err = kiln::compileKernels(plan->kernels, outs, target);
    if (!err.empty())
      return fail(err);
    if (emit != Emit::ptx)
      return writeOutput([&](raw_ostream &os) { readFileInto(tempPath("kernels.txt"), os); });
    // Each kernel's PTX module follows a header naming it; the ops and DSL lines of the calls
    // that run it go beneath, as comments.
    std::map<std::string, std::vector<std::string>> sources;
    auto note = [&](const kiln::KernelCall &call) {
      auto &lines = sources[plan->kernels[call.kernel].name];
      for (const std::string &s : call.sources)
        if (!llvm::is_contained(lines, s))
          lines.push_back(s);
    };
    for (const kiln::KernelCall &call : plan->once)
      note(call);
    for (const kiln::EntryPlan &entry : plan->entries)
      llvm::for_each(entry.calls, note);
    auto text = MemoryBuffer::getFile(tempPath("kernels.txt"));
    if (!text)
      return fail("cannot read the kernels' PTX");
    return writeOutput([&](raw_ostream &os) {
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

  if (emit == Emit::llvm) {
    LLVMContext llvmContext;
    std::unique_ptr<llvm::Module> host = kiln::emitHostModule(*plan, llvmContext, target);
    return writeOutput([&](raw_ostream &os) { host->print(os, nullptr); });
  }
  std::string out = !output.empty() ? output.getValue() : emit == Emit::obj ? "a.o" : "a.out";
  kiln::RuntimeParts parts = kiln::runtimeParts(*module);
  parts.nccl = parts.ranks && target == kiln::Device::cuda;
  std::string err = kiln::buildBinary(*plan, temps.path(), out, emit == Emit::obj,
                                      parts, target);
  if (!err.empty())
    return fail(err);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // kiln's options live in its subcommands; the top level's are LLVM's backend flags, which
  // say nothing to a user (its --help was 382 lines of them).
  static cl::OptionCategory kilnOptions("kiln options");
  cl::HideUnrelatedOptions(kilnOptions);
  if (!cl::ParseCommandLineOptions(argc, argv, "kiln: an ahead-of-time compiler for training\n",
                                   &errs()))
    return 2;
  if (compileCmd)
    return compile();
  if (kiln::benchCommand())
    return kiln::bench();
  if (kiln::diffCommand())
    return kiln::diff();
  errs() << "kiln: error: no command given; try 'kiln compile MODEL.mlir -o EXE' or 'kiln --help'\n";
  return 2;
}
