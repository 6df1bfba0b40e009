// Where a run's outputs go, checked before any work: a typo, a folder, a device or a full disk
// is refused before it costs a training run.
#pragma once

#include <cstdint>
#include <string>

namespace kiln {

// How an output is written.
enum class OutputKind {
  stream,  // opened and written in place (metrics, predictions, pictures): any writable file
  replace, // written beside and renamed over the path (checkpoints, --save): a regular file
};

// Throws UserError naming `path` and the output (`what`) when it cannot be written: its folder
// missing or read-only, the path a folder or read-only; for `replace`, the path something other
// than a regular file, or its filesystem short of `bytes` free.
void check_output_path(const std::string &path, const char *what, OutputKind kind, uint64_t bytes = 0);

// Throws UserError when `path` exists and is not a regular file: renaming a new file over a
// device, pipe or folder would replace it rather than write into it.
void require_regular_or_absent(const std::string &path, const char *what);

} // namespace kiln
