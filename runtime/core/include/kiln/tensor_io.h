// Moving arena tensors to and from safetensors files, by name.
//
// Contract: the tensors moved are the model's state_dict, as PyTorch's holds it: every param and
// every buffer (module state such as BatchNorm's running statistics), not the optimizer state.
// load_tensors() copies them from the file into the arena, after SafetensorsFile's structural
// checks and expect()'s name/dtype/shape checks; it writes nothing unless every tensor passes, so
// a refused file leaves the arena as it was. A tensor the model lacks is refused, as PyTorch's
// strict loading refuses it; the model's optimizer state is let through (a checkpoint may feed
// the parameters). save_tensors() writes them, in manifest order, atomically.
// A counting buffer ("integer", num_batches_tracked) is I64 in files, as PyTorch saves it; it is
// read from I64 or F32 and must hold a whole number in [0, 2^24] (what its f32 slot counts
// exactly); save_tensors() refuses to write one that does not. --save, --save-net and --init use these; a whole-net
// file is such a file whose metadata also holds the model.
#ifndef KILN_TENSOR_IO_H
#define KILN_TENSOR_IO_H

#include <map>
#include <string>

#include "kiln/arena.h"
#include "kiln/manifest.h"

namespace kiln {

void load_tensors(const std::string &path, const Manifest &manifest, Arena &arena);
void save_tensors(const std::string &path, const Manifest &manifest, const Arena &arena,
                  const std::map<std::string, std::string> &metadata = {});

} // namespace kiln

#endif
