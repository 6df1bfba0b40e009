// Runs the system C++ driver ($CXX, else c++) as linker and as compiler of tracing programs.
#include "compiler/Link.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdlib>

namespace kiln {
namespace {

std::string run(std::vector<std::string> args, const char *what) {
  const char *cxx = std::getenv("CXX");
  auto program = llvm::sys::findProgramByName(cxx && *cxx ? cxx : "c++");
  if (!program)
    return std::string("no C++ driver (c++ or $CXX) on PATH to ") + what + " with";
  args.insert(args.begin(), *program);
  llvm::SmallVector<llvm::StringRef> refs(args.begin(), args.end());
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*program, refs, std::nullopt, {}, 0, 0, &message);
  if (rc != 0)
    return std::string(what) + " failed (" + llvm::join(refs, " ") + ")" + (message.empty() ? "" : ": " + message);
  return "";
}

// The folder above bin/kiln: an installed prefix or kiln's build tree.
std::string kilnRoot() {
  std::string self = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  return llvm::sys::path::parent_path(llvm::sys::path::parent_path(self)).str();
}

std::string under(const std::string &root, llvm::StringRef a) {
  llvm::SmallString<256> p(root);
  llvm::sys::path::append(p, a);
  return std::string(p);
}

std::string under(const std::string &root, llvm::StringRef a, llvm::StringRef b) { return under(under(root, a), b); }

// The space-separated words of a flags string built into kiln, as arguments.
void appendWords(std::vector<std::string> &args, llvm::StringRef flags) {
  for (llvm::StringRef word : llvm::split(flags, ' '))
    if (!word.empty())
      args.push_back(word.str());
}

} // namespace

std::string linkExecutable(const std::vector<std::string> &objects, const std::string &exe, RuntimeParts parts) {
  const char *env = std::getenv("KILN_RUNTIME_LIB");
  std::string runtime = env && *env ? env : under(kilnRoot(), "lib", "libkiln_runtime.a");
  if (!llvm::sys::fs::exists(runtime))
    return "runtime library " + runtime + " not found (set KILN_RUNTIME_LIB)";
  std::vector<std::string> args = {"-o", exe};
  args.insert(args.end(), objects.begin(), objects.end());
  args.push_back(runtime);
  const std::string dir = llvm::sys::path::parent_path(runtime).str();
  for (const char *part : {parts.pictures ? "libkiln_plot.a" : "libkiln_noplot.a",
                           parts.datasets ? "libkiln_datasets.a" : "libkiln_nodatasets.a",
                           parts.ranks ? "libkiln_mpi.a" : "libkiln_nompi.a"}) {
    if (!llvm::sys::fs::exists(under(dir, part)))
      return "runtime library " + under(dir, part) + " not found";
    args.push_back(under(dir, part));
  }
  // The parts and the runtime call each other: the runtime is named again after them.
  args.push_back(runtime);
  if (parts.nccl) {
    if (llvm::StringRef(KILN_NCCL_LINK_FLAGS).empty() || !llvm::sys::fs::exists(under(dir, "libkiln_nccl.a")))
      return "this kiln was built without NCCL, which data-parallel CUDA builds need";
    // The MPI part refers to it weakly, which alone would not pull it out of its archive.
    args.push_back("-Wl,-u,kiln_nccl_start");
    args.push_back(under(dir, "libkiln_nccl.a"));
    appendWords(args, KILN_NCCL_LINK_FLAGS);
  }
  if (parts.ranks)
    appendWords(args, KILN_MPI_LINK_FLAGS);
  appendWords(args, KILN_RUNTIME_LINK_FLAGS);
  return run(args, "link");
}

std::string linkRelocatable(const std::vector<std::string> &objects, const std::string &out) {
  std::vector<std::string> args = {"-r", "-nostdlib", "-o", out};
  args.insert(args.end(), objects.begin(), objects.end());
  return run(args, "link");
}

std::string buildTracer(const std::string &source, const std::string &program) {
  std::string root = kilnRoot(), lib = under(root, "lib");
  // Installed, the headers are in include/; in the build tree they are still in the sources, the
  // DSL's and the vocabulary it shares with the compiler apart.
  std::vector<std::string> includes = {under(root, "include")};
  if (!llvm::sys::fs::exists(under(includes[0], "kiln/kiln.h")))
    includes = {KILN_SOURCE_INCLUDE_DIR, KILN_COMMON_INCLUDE_DIR};
  if (!llvm::sys::fs::exists(under(lib, "libkiln_trace.so")))
    return "the DSL library " + under(lib, "libkiln_trace.so") + " is missing";
  // The tracing program runs once; compiling it fast matters more than its speed.
  std::vector<std::string> args = {"-std=c++17", "-O0"};
  for (const std::string &dir : includes)
    args.push_back("-I" + dir);
  args.insert(args.end(),
              {source, "-o", program, "-L" + lib, "-lkiln_model_main", "-lkiln_trace", "-Wl,-rpath," + lib});
  appendWords(args, KILN_SANITIZE_LINK_FLAGS);
  return run(args, "building the tracing program");
}

} // namespace kiln
