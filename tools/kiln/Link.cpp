// Runs the system C++ driver as the linker. The runtime library's location is fixed at build
// time (KILN_RUNTIME_LIB) and can be overridden with the environment variable of that name.
#include "tools/kiln/Link.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"

#include <cstdlib>

namespace kiln {
namespace {

std::string run(std::vector<std::string> args) {
  const char *cxx = std::getenv("CXX");
  auto program = llvm::sys::findProgramByName(cxx && *cxx ? cxx : "c++");
  if (!program)
    return "no C++ driver (c++) on PATH to link with";
  args.insert(args.begin(), *program);
  llvm::SmallVector<llvm::StringRef> refs(args.begin(), args.end());
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*program, refs, std::nullopt, {}, 0, 0, &message);
  if (rc != 0)
    return "link failed (" + llvm::join(refs, " ") + ")" + (message.empty() ? "" : ": " + message);
  return "";
}

} // namespace

std::string linkExecutable(const std::vector<std::string> &objects, const std::string &exe) {
  const char *env = std::getenv("KILN_RUNTIME_LIB");
  std::string runtime = env && *env ? env : KILN_RUNTIME_LIB;
  if (!llvm::sys::fs::exists(runtime))
    return "runtime library " + runtime + " not found (set KILN_RUNTIME_LIB)";
  std::vector<std::string> args = {"-o", exe};
  args.insert(args.end(), objects.begin(), objects.end());
  args.push_back(runtime);
  for (llvm::StringRef lib : llvm::split(KILN_RUNTIME_LINK_FLAGS, ' '))
    if (!lib.empty())
      args.push_back(lib.str());
  return run(args);
}

std::string linkRelocatable(const std::vector<std::string> &objects, const std::string &out) {
  std::vector<std::string> args = {"-r", "-nostdlib", "-o", out};
  args.insert(args.end(), objects.begin(), objects.end());
  return run(args);
}

} // namespace kiln
