// Reading a model and building a binary: shared by `kiln compile` and `kiln bench`.
#include "tools/kiln/Driver.h"

#include "codegen/host/HostModule.h"
#include "ir/ModelFile.h"
#include "passes/Passes.h"
#include "tools/kiln/Link.h"

#include "kiln/error.h"
#include "kiln/input_file.h"
#include "kiln/safetensors.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

using namespace llvm;

namespace kiln {
namespace {

// A whole-net checkpoint (safetensors) carries the traced model in its metadata, under
// "kiln.ir": compiling it needs no C++ source. Read with the runtime's reader, so the file is
// checked as the binaries check it. Returns the IR, or an error message.
Expected<std::unique_ptr<MemoryBuffer>> modelFromCheckpoint(StringRef path) {
  try {
    SafetensorsFile file = SafetensorsFile::read(path.str());
    auto ir = file.metadata().find("kiln.ir");
    if (ir == file.metadata().end())
      return createStringError(inconvertibleErrorCode(),
                               "%s holds parameters only (no \"kiln.ir\" in its metadata); "
                               "save the whole net with --save-net to compile it",
                               path.str().c_str());
    return MemoryBuffer::getMemBufferCopy(ir->second, path.str() + ":kiln.ir");
  } catch (const UserError &e) {
    return createStringError(inconvertibleErrorCode(), "%s", e.what());
  }
}

// A model file written with the DSL (.cpp, .cc, .cxx), which is traced before it is compiled.
bool isModelSource(StringRef path) {
  return path.ends_with(".cpp") || path.ends_with(".cc") || path.ends_with(".cxx");
}

// Builds the model file's tracing program `program` and runs it to write the traced IR to
// `ir`. "" or the error.
std::string traceModel(const std::string &source, const std::string &program, const std::string &ir) {
  if (!sys::fs::exists(source))
    return "cannot read " + source + ": no such file";
  std::string err = buildTracer(source, program);
  if (!err.empty())
    return source + ": " + err;
  StringRef args[] = {program, ir};
  std::string message;
  int rc = sys::ExecuteAndWait(program, args, std::nullopt, {}, 0, 0, &message);
  if (rc != 0)
    return "tracing " + source + " failed" +
           (message.empty() ? " (exit " + std::to_string(rc) + ")" : ": " + message);
  return "";
}

} // namespace

TempFolder::~TempFolder() {
  if (!dir.empty() && !keep)
    sys::fs::remove_directories(dir);
}

std::string TempFolder::create(StringRef prefix, bool keepIt) {
  SmallString<128> made;
  if (std::error_code ec = sys::fs::createUniqueDirectory(prefix, made))
    return "cannot create a temporary directory: " + ec.message();
  dir = std::string(made);
  keep = keepIt;
  return "";
}

std::string TempFolder::operator/(const Twine &name) const {
  SmallString<128> p(dir);
  sys::path::append(p, name);
  return std::string(p);
}

mlir::OwningOpRef<mlir::ModuleOp> loadModel(mlir::MLIRContext &context, SourceMgr &sources,
                                            const std::string &input, const TempFolder &temps) {
  const bool traced = isModelSource(input);
  std::string path = input;
  if (traced) {
    path = temps / "model.mlir";
    if (std::string err = traceModel(input, temps / "model-trace", path); !err.empty()) {
      errs() << "kiln: error: " << err << "\n";
      return nullptr;
    }
  }
  std::unique_ptr<MemoryBuffer> file;
  if (StringRef(path).ends_with(".safetensors")) {
    auto fromCheckpoint = modelFromCheckpoint(path);
    if (!fromCheckpoint) {
      errs() << "kiln: error: " << toString(fromCheckpoint.takeError()) << "\n";
      return nullptr;
    }
    file = std::move(*fromCheckpoint);
  } else if (path == "-") {
    std::string error;
    file = mlir::openInputFile(path, &error);
    if (!file) {
      errs() << "kiln: error: " << error << "\n";
      return nullptr;
    }
  } else {
    try {
      std::vector<uint8_t> bytes = read_input_file(path);
      file = MemoryBuffer::getMemBufferCopy(StringRef(reinterpret_cast<const char *>(bytes.data()), bytes.size()), path);
    } catch (const UserError &e) {
      errs() << "kiln: error: " << e.what() << "\n";
      return nullptr;
    }
  }
  // The IR inside a checkpoint is not a file to point at; a traced model's errors point at
  // the DSL lines.
  bool locateInFile = !traced && !StringRef(path).ends_with(".safetensors");
  return parseModel(context, sources, std::move(file), locateInFile);
}

mlir::FailureOr<StepPlan> planVariant(mlir::ModuleOp module, const std::string &modelIR, bool fusion,
                                      Device device) {
  mlir::OwningOpRef<mlir::ModuleOp> copy = module.clone();
  PipelineOptions options;
  options.fusion = fusion;
  mlir::PassManager pm(module.getContext());
  for (const Stage &stage : irPipeline())
    stage.addPasses(pm, options);
  if (failed(pm.run(*copy)))
    return mlir::failure();
  return planModel(*copy, modelIR, device);
}

RuntimeParts runtimeParts(mlir::ModuleOp module) {
  auto train = module->getAttrOfType<mlir::DictionaryAttr>("kiln.train");
  auto draw = train ? train.getAs<mlir::BoolAttr>("draw") : nullptr;
  auto dataset = train ? train.getAs<mlir::StringAttr>("dataset") : nullptr;
  auto ranks = module->getAttrOfType<mlir::IntegerAttr>("kiln.ranks");
  return {draw && draw.getValue(), dataset && !dataset.getValue().empty(), ranks && ranks.getInt() > 1};
}

std::string buildBinary(const StepPlan &plan, const std::string &tempDir, const std::string &out,
                        bool relocatable, RuntimeParts parts, Device device) {
  auto temp = [&](StringRef name) {
    SmallString<128> p(tempDir);
    sys::path::append(p, name);
    return std::string(p);
  };
  std::vector<std::string> kernelObjects;
  KernelOutputs outs;
  outs.object = temp("kernels.o");
  outs.runtime = temp("halide_runtime.o");
  if (device != Device::host)
    outs.objects = &kernelObjects;
  else
    kernelObjects.push_back(outs.object);
  std::string err = compileKernels(plan.kernels, outs, device);
  if (!err.empty())
    return err;
  // The runtime names the device in its errors (a CUDA build on a machine without a GPU).
  StepPlan built = plan;
  if (device != Device::host) {
    auto manifest = json::parse(plan.manifest);
    if (!manifest || !manifest->getAsObject())
      return "internal error: the manifest is not a JSON object";
    (*manifest->getAsObject())["device"] = device == Device::cuda ? "cuda" : "opencl";
    built.manifest.clear();
    raw_string_ostream(built.manifest) << *manifest;
  }
  LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> host = emitHostModule(built, llvmContext, device);
  err = emitObjectFile(*host, temp("host.o"));
  if (!err.empty())
    return err;
  std::vector<std::string> objects = {temp("host.o"), outs.runtime};
  objects.insert(objects.end(), kernelObjects.begin(), kernelObjects.end());
  return relocatable ? linkRelocatable(objects, out) : linkExecutable(objects, out, parts);
}

} // namespace kiln
