// What the kiln driver's commands share: the stage flags, and the commands besides compile.
#ifndef KILN_TOOLS_KILN_COMMANDS_H
#define KILN_TOOLS_KILN_COMMANDS_H

#include "passes/Passes.h"

#include "llvm/Support/CommandLine.h"

namespace kiln {

// Parses a stage by the name the stage table gives it, and lists the table in --help.
class StageParser : public llvm::cl::parser<Stage> {
public:
  explicit StageParser(llvm::cl::Option &option) : llvm::cl::parser<Stage>(option) {}
  // Called once the option is named (so the names are its values, not options of their own).
  void initialize() {
    llvm::cl::parser<Stage>::initialize();
    for (const StageInfo &s : stages())
      addLiteralOption(s.name, s.stage, s.product);
  }
};
using StageOption = llvm::cl::opt<Stage, false, StageParser>;

// `kiln bench` and `kiln diff`: whether each was the command given, and running it.
bool benchCommand();
int bench();
bool diffCommand();
int diff();

} // namespace kiln

#endif
