// Reading a model's IR from text.
#include "ir/ModelFile.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/AsmParser/AsmParser.h"
#include "mlir/AsmParser/AsmParserState.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

using namespace llvm;

namespace kiln {
namespace {

// MLIR's parser recurses once per nested region, attribute, list or type parameter: a model
// nested thousands deep (5,000 modules, 100,000 arrays, tuple<tuple<...>>) would overflow the
// stack. Real models nest a few dozen.
constexpr unsigned kMaxNesting = 256;

struct Position {
  unsigned line = 0, column = 0; // line 0: nothing too deep
};

// Where the first bracket ((, [, {, <) opens more than `limit` levels deep outside strings and
// comments; the > of -> closes nothing.
Position tooDeep(StringRef text, unsigned limit) {
  unsigned depth = 0, line = 1, column = 0;
  bool inString = false, inComment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    ++column;
    if (c == '\n') {
      ++line, column = 0, inComment = false;
      continue;
    }
    if (inComment)
      continue;
    if (inString) {
      if (c == '\\')
        ++i, ++column;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      inComment = true;
    } else if (c == '(' || c == '[' || c == '{' || c == '<') {
      if (++depth > limit)
        return {line, column};
    } else if ((c == ')' || c == ']' || c == '}' || (c == '>' && (i == 0 || text[i - 1] != '-'))) && depth > 0) {
      --depth;
    }
  }
  return {};
}

} // namespace

mlir::OwningOpRef<mlir::ModuleOp> parseModel(mlir::MLIRContext &context, SourceMgr &sources,
                                             std::unique_ptr<MemoryBuffer> file, bool locateInFile) {
  // The parser reads the SourceMgr's first buffer; locations are looked up in this one.
  assert(sources.getNumBuffers() == 0 && "parseModel takes an empty SourceMgr");
  StringRef text = file->getBuffer();
  std::string name = file->getBufferIdentifier().str();
  if (!nestedWithinLimit(*file))
    return nullptr;
  size_t at = text.find("\nmodule");
  unsigned moduleLine = at == StringRef::npos ? 1 : 2 + unsigned(text.take_front(at).count('\n'));
  unsigned buffer = sources.AddNewSourceBuffer(std::move(file), SMLoc());
  // A failing pass's error is enough: the module it ran on, printed after it, is kilobytes.
  context.printOpOnDiagnostic(false);

  // Verified only once every op has its place in the file.
  mlir::ParserConfig config(&context, /*verifyAfterParse=*/false);
  mlir::AsmParserState state;
  mlir::Block block;
  if (failed(mlir::parseAsmSourceFile(sources, &block, config, locateInFile ? &state : nullptr)))
    return nullptr;
  if (locateInFile) {
    for (const mlir::AsmParserState::OperationDefinition &def : state.getOpDefs()) {
      auto [line, column] = sources.getLineAndColumn(def.loc.Start, buffer);
      mlir::Location here = mlir::FileLineColLoc::get(&context, name, line, column);
      def.op->setLoc(mlir::FusedLoc::get(&context, {here, def.op->getLoc()}));
    }
  }
  mlir::Location fileStart = mlir::FileLineColLoc::get(&context, name, moduleLine, 1);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::detail::constructContainerOpForParserIfNecessary<mlir::ModuleOp>(&block, &context, fileStart);
  if (!module)
    return nullptr;
  if (isa<mlir::UnknownLoc>(module->getLoc()))
    (*module)->setLoc(fileStart);
  if (failed(mlir::verify(*module)))
    return nullptr;
  return module;
}

bool nestedWithinLimit(MemoryBufferRef file) {
  Position deep = tooDeep(file.getBuffer(), kMaxNesting);
  if (deep.line == 0)
    return true;
  // Printed without the source line, which may be all the brackets.
  errs() << file.getBufferIdentifier() << ":" << deep.line << ":" << deep.column << ": error: nested more than "
         << kMaxNesting << " brackets deep; kiln reads models nested at most that deep\n";
  return false;
}

mlir::FileLineColLoc sourceLine(mlir::Location loc) {
  mlir::FileLineColLoc last;
  loc->walk([&](mlir::Location inner) {
    if (auto file = dyn_cast<mlir::FileLineColLoc>(inner))
      last = file;
    return mlir::WalkResult::advance();
  });
  return last;
}

TracedLineNotes::TracedLineNotes(mlir::MLIRContext *context)
    : ScopedDiagnosticHandler(context, [](mlir::Diagnostic &d) {
        auto fused = dyn_cast<mlir::FusedLoc>(d.getLocation());
        auto shown = fused ? dyn_cast<mlir::FileLineColLoc>(fused.getLocations().front()) : nullptr;
        mlir::FileLineColLoc traced = sourceLine(d.getLocation());
        // Only a line of another file (the DSL) is news beside the IR line shown.
        if (shown && traced && traced.getFilename() != shown.getFilename())
          d.attachNote(traced) << "traced from here";
        return mlir::failure(); // on to the handler that prints it
      }) {}

} // namespace kiln
