// Moving arena tensors to and from safetensors files, by name.
//
// Contract: load_tensors() copies every manifest tensor of `role` (params and state: the shared ones) from the file into the arena,
// after SafetensorsFile's structural checks and expect()'s name/dtype/shape checks; it writes
// nothing unless every tensor passes, so a refused file leaves the arena as it was. Extra tensors in
// the file are ignored (a full checkpoint may feed params only). save_tensors() writes the
// manifest tensors of `role`, in manifest order, atomically. Checkpoints (--save, --save-net,
// --init) use role Param; a whole-net file is a params file whose metadata also holds the model.
#ifndef KILN_TENSOR_IO_H
#define KILN_TENSOR_IO_H

#include <map>
#include <string>

#include "kiln/arena.h"
#include "kiln/manifest.h"

namespace kiln {

void load_tensors(const std::string &path, const Manifest &manifest, Role role, Arena &arena);
void save_tensors(const std::string &path, const Manifest &manifest, Role role, const Arena &arena,
                  const std::map<std::string, std::string> &metadata = {});

}  // namespace kiln

#endif
