// kiln: the compiler driver. It parses flags and runs the compiler (compiler/Compiler.h).
//
//   kiln compile MODEL.mlir -o EXE [--emit=STAGE] [--print-ir-after-all]
//   kiln compile NET.safetensors -o EXE    (a whole-net checkpoint: its IR is in the metadata)
//   kiln compile MODEL.cpp -o EXE          (a model file: built, run to trace it, then compiled)
//   kiln compile MODEL --ranks R -o EXE    (data parallel: run as `mpirun -np R EXE`)
//   kiln bench MODEL                       (fused and unfused builds timed side by side)
//   kiln diff MODEL --a SPEC --b SPEC      (one step of two builds compared kernel by kernel)
//   kiln compile --list-stages             (the stages --emit can stop after, in order)
#include "compiler/Compiler.h"
#include "tools/kiln/Commands.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"

using namespace llvm;

namespace {

cl::SubCommand compileCmd("compile", "Compile a kiln model (.mlir) ahead of time");
cl::opt<std::string> input(cl::Positional, cl::desc("MODEL.mlir, MODEL.cpp or NET.safetensors"), cl::init(""),
                           cl::sub(compileCmd));
cl::opt<std::string> output("o", cl::desc("Output file (default: stdout for IR, a.out for exe)"),
                            cl::value_desc("FILE"), cl::init(""), cl::sub(compileCmd));
kiln::StageOption emit("emit", cl::desc("The stage to stop after (--list-stages lists them)"),
                       cl::init(kiln::Stage::exe), cl::sub(compileCmd));
cl::opt<bool> listStages("list-stages", cl::desc("List the stages --emit can stop after, and exit"), cl::init(false),
                         cl::sub(compileCmd));
cl::opt<kiln::Device> target("target", cl::desc("Where the kernels run"), cl::init(kiln::Device::host),
                             cl::values(clEnumValN(kiln::Device::host, "host", "the host CPU (the default)"),
                                        clEnumValN(kiln::Device::cuda, "cuda", "an NVIDIA GPU, through CUDA"),
                                        clEnumValN(kiln::Device::opencl, "opencl", "a GPU through OpenCL")),
                             cl::sub(compileCmd));
cl::opt<bool> printAfterAll("print-ir-after-all", cl::desc("Print the IR after every pass"), cl::init(false),
                            cl::sub(compileCmd));
cl::opt<std::string> optimizerName("optimizer",
                                   cl::desc("Override the model's optimizer: sgd, adagrad, "
                                            "adadelta, rmsprop, adam, adamw"),
                                   cl::value_desc("NAME"), cl::init(""), cl::sub(compileCmd));
cl::list<std::string> optimizerOptions("optimizer-option",
                                       cl::desc("Set an optimizer hyper-parameter, e.g. momentum=0.9"),
                                       cl::value_desc("KEY=VALUE"), cl::CommaSeparated, cl::sub(compileCmd));
enum class Fusion { on, off };
cl::opt<Fusion> fusion("fusion", cl::desc("Fuse primitives into kernels"), cl::init(Fusion::on),
                       cl::values(clEnumValN(Fusion::on, "on", "fused kernels (the default)"),
                                  clEnumValN(Fusion::off, "off", "one kernel per primitive")),
                       cl::sub(compileCmd));
cl::opt<int64_t> batchSize("batch", cl::desc("Train with this many rows per step (default: the traced batch)"),
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
cl::opt<bool> keepTemps("keep-temps", cl::desc("Keep the intermediate files and print where"), cl::init(false),
                        cl::sub(compileCmd));

int fail(const Twine &message) {
  errs() << "kiln: error: " << message << "\n";
  return 1;
}

// The output must not replace the model it is compiled from, and must have somewhere to go
// before anything is compiled. "" or the error.
std::string checkOutput() {
  if (!output.empty() && sys::fs::exists(output) && sys::fs::equivalent(input.getValue(), output.getValue()))
    return "-o " + output + " is the model being compiled; name another output file";
  if (output.empty() || output == "-")
    return "";
  StringRef dir = sys::path::parent_path(output.getValue());
  if (!dir.empty() && !sys::fs::is_directory(dir))
    return ("-o " + output + ": the folder " + dir + " does not exist").str();
  if (sys::fs::is_directory(output.getValue()))
    return "-o " + output + " is a folder; name a file";
  return "";
}

kiln::CompileOptions compileOptions() {
  kiln::CompileOptions o;
  o.target = target;
  o.fusion = fusion == Fusion::on;
  o.batch = batchSize;
  o.ranks = ranks;
  o.dataPath = dataPath;
  o.maxArenaGiB = maxArenaGiB;
  o.optimizer = optimizerName;
  o.optimizerOptions.assign(optimizerOptions.begin(), optimizerOptions.end());
  o.printAfterAll = printAfterAll;
  return o;
}

int compile() {
  if (listStages) {
    kiln::printStages(outs());
    return 0;
  }
  if (input.empty())
    return fail("no model given; try 'kiln compile MODEL.mlir -o EXE'");
  if (std::string err = checkOutput(); !err.empty())
    return fail(err);
  kiln::CompileOptions options = compileOptions();
  if (std::string err = kiln::checkOptions(options); !err.empty())
    return fail(err);
  kiln::ModelReader reader;
  kiln::TempFolder temps;
  if (std::string err = temps.create("kiln", keepTemps); !err.empty())
    return fail(err);
  if (keepTemps)
    errs() << "kiln: intermediate files in " << temps.path() << "\n";
  mlir::OwningOpRef<mlir::ModuleOp> module = reader.read(input, temps);
  if (!module)
    return 1; // reported where
  kiln::Compiler compiler(reader.context(), options, temps);
  return failed(compiler.run(*module, emit, output)) ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // kiln's options live in its subcommands; the top level's are LLVM's backend flags, which
  // say nothing to a user (its --help was 382 lines of them).
  static cl::OptionCategory kilnOptions("kiln options");
  cl::HideUnrelatedOptions(kilnOptions);
  if (!cl::ParseCommandLineOptions(argc, argv, "kiln: an ahead-of-time compiler for training\n", &errs()))
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
