// Reading a model and building a binary: shared by `kiln compile` and `kiln bench`.
#include "tools/kiln/Driver.h"

#include "codegen/host/HostModule.h"
#include "tools/kiln/Link.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

using namespace llvm;

namespace kiln {
namespace {

// A whole-net checkpoint (safetensors) carries the traced model in its metadata, under
// "kiln.ir": compiling it needs no C++ source. Returns the IR, or an error message.
Expected<std::unique_ptr<MemoryBuffer>> modelFromCheckpoint(StringRef path) {
  auto file = MemoryBuffer::getFile(path);
  if (!file)
    return createStringError(file.getError(), "cannot read %s", path.str().c_str());
  StringRef bytes = (*file)->getBuffer();
  if (bytes.size() < 8)
    return createStringError(inconvertibleErrorCode(), "%s: too short for a safetensors header",
                             path.str().c_str());
  uint64_t headerLength = support::endian::read64le(bytes.data());
  if (headerLength > bytes.size() - 8)
    return createStringError(inconvertibleErrorCode(),
                             "%s: header length %llu exceeds the file size %zu",
                             path.str().c_str(), (unsigned long long)headerLength, bytes.size());
  auto header = json::parse(bytes.substr(8, headerLength));
  if (!header)
    return createStringError(inconvertibleErrorCode(), "%s: corrupted JSON header: %s",
                             path.str().c_str(), toString(header.takeError()).c_str());
  const json::Object *metadata = header->getAsObject() ? header->getAsObject()->getObject("__metadata__") : nullptr;
  std::optional<StringRef> ir = metadata ? metadata->getString("kiln.ir") : std::nullopt;
  if (!ir)
    return createStringError(inconvertibleErrorCode(),
                             "%s holds parameters only (no \"kiln.ir\" in its metadata); "
                             "save the whole net with --save-net to compile it",
                             path.str().c_str());
  return MemoryBuffer::getMemBufferCopy(*ir, path.str() + ":kiln.ir");
}

} // namespace

mlir::OwningOpRef<mlir::ModuleOp> loadModel(mlir::MLIRContext &context, SourceMgr &sources,
                                            const std::string &path) {
  std::unique_ptr<MemoryBuffer> file;
  if (StringRef(path).ends_with(".safetensors")) {
    auto fromCheckpoint = modelFromCheckpoint(path);
    if (!fromCheckpoint) {
      errs() << "kiln: error: " << toString(fromCheckpoint.takeError()) << "\n";
      return nullptr;
    }
    file = std::move(*fromCheckpoint);
  } else {
    std::string error;
    file = mlir::openInputFile(path, &error);
    if (!file) {
      errs() << "kiln: error: " << error << "\n";
      return nullptr;
    }
  }
  sources.AddNewSourceBuffer(std::move(file), SMLoc());
  return mlir::parseSourceFile<mlir::ModuleOp>(sources, &context);
}

bool drawsPictures(mlir::ModuleOp module) {
  auto train = module->getAttrOfType<mlir::DictionaryAttr>("kiln.train");
  auto draw = train ? train.getAs<mlir::BoolAttr>("draw") : nullptr;
  return draw && draw.getValue();
}

std::string buildBinary(const StepPlan &plan, const std::string &tempDir, const std::string &out,
                        bool relocatable, bool pictures) {
  auto temp = [&](StringRef name) {
    SmallString<128> p(tempDir);
    sys::path::append(p, name);
    return std::string(p);
  };
  KernelOutputs outs{temp("kernels.o"), temp("halide_runtime.o"), "", ""};
  std::string err = compileKernels(plan.kernels, outs);
  if (!err.empty())
    return err;
  LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> host = emitHostModule(plan, llvmContext);
  err = emitObjectFile(*host, temp("host.o"));
  if (!err.empty())
    return err;
  std::vector<std::string> objects = {temp("host.o"), outs.object, outs.runtime};
  return relocatable ? linkRelocatable(objects, out) : linkExecutable(objects, out, pictures);
}

} // namespace kiln
