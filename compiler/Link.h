// Runs the system C++ driver: to link a compiled model, and to build a model file's tracing
// program. kiln's own files are found next to the driver: an installed prefix and kiln's
// build tree share the layout bin/kiln, lib/ (runtime and DSL libraries), include/kiln.
#ifndef KILN_COMPILER_LINK_H
#define KILN_COMPILER_LINK_H

#include <string>
#include <vector>

namespace kiln {

// The runtime's optional parts a model uses.
struct RuntimeParts {
  bool pictures = false; // PLplot's SVGs (kiln.train "draw")
  bool datasets = false; // the tutorial's data sets (kiln.train names one)
  bool ranks = false;    // MPI: the model trains data-parallel (kiln compile --ranks)
  bool nccl = false;     // and its all-reduces run on CUDA GPUs
};

// objects + libkiln_runtime.a + the parts it uses + their libraries -> a standalone executable.
// "" or the error.
std::string linkExecutable(const std::vector<std::string> &objects, const std::string &exe, RuntimeParts parts);

// objects -> one relocatable object (ld -r). "" or the error.
std::string linkRelocatable(const std::vector<std::string> &objects, const std::string &out);

// A model file written with the DSL (KILN_MODEL) -> its tracing program `program`, built
// against kiln's headers and libkiln_trace.so. "" or the error.
std::string buildTracer(const std::string &source, const std::string &program);

} // namespace kiln

#endif
