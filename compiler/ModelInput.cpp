// Reading the model a tool was given: IR text, a whole-net checkpoint, or a DSL file to trace.
#include "compiler/ModelInput.h"

#include "compiler/Link.h"
#include "ir/Dialect.h"
#include "ir/ModelFile.h"

#include "kiln/contract.h"

#include "kiln/error.h"
#include "kiln/input_file.h"
#include "kiln/safetensors.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
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
// kiln.ir: compiling it needs no C++ source. Read with the runtime's reader, so the file is
// checked as the binaries check it. Returns the IR, or an error message.
Expected<std::unique_ptr<MemoryBuffer>> modelFromCheckpoint(StringRef path) {
  try {
    SafetensorsFile file = SafetensorsFile::read(path.str());
    auto ir = file.metadata().find(checkpoint_key::ir);
    if (ir == file.metadata().end())
      return createStringError(inconvertibleErrorCode(),
                               "%s holds parameters only (no \"%s\" in its metadata); "
                               "save the whole net with --save-net to compile it",
                               path.str().c_str(), checkpoint_key::ir);
    return MemoryBuffer::getMemBufferCopy(ir->second, path.str() + ":" + checkpoint_key::ir);
  } catch (const UserError &e) {
    return createStringError(inconvertibleErrorCode(), "%s", e.what());
  }
}

// A model file written with the DSL (.cpp, .cc, .cxx), which is traced before it is compiled.
bool isModelSource(StringRef path) { return path.ends_with(".cpp") || path.ends_with(".cc") || path.ends_with(".cxx"); }

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
    return "tracing " + source + " failed" + (message.empty() ? " (exit " + std::to_string(rc) + ")" : ": " + message);
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

ModelReader::ModelReader() : diagnostics(sources, &mlirContext), tracedLines(&mlirContext) {
  mlirContext.loadDialect<KilnDialect, mlir::func::FuncDialect>();
}

mlir::OwningOpRef<mlir::ModuleOp> ModelReader::read(const std::string &input, const TempFolder &temps) {
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
      file =
          MemoryBuffer::getMemBufferCopy(StringRef(reinterpret_cast<const char *>(bytes.data()), bytes.size()), path);
    } catch (const UserError &e) {
      errs() << "kiln: error: " << e.what() << "\n";
      return nullptr;
    }
  }
  // The IR inside a checkpoint is not a file to point at; a traced model's errors point at
  // the DSL lines.
  bool locateInFile = !traced && !StringRef(path).ends_with(".safetensors");
  return parseModel(mlirContext, sources, std::move(file), locateInFile);
}

} // namespace kiln
