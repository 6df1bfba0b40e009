// Arena <-> safetensors by tensor name (contract in kiln/tensor_io.h).
#include "kiln/tensor_io.h"

#include <cstring>

#include "kiln/safetensors.h"

namespace kiln {

void load_tensors(const std::string &path, const Manifest &manifest, Role role, Arena &arena) {
    SafetensorsFile file = SafetensorsFile::read(path);
    std::vector<std::pair<const TensorSpec *, const uint8_t *>> sources;
    for (const TensorSpec *spec : manifest.entry_tensors(kShared, role))
        sources.push_back({spec, file.expect(spec->name, safetensors_dtype(spec->dtype), spec->shape)});
    for (const auto &[spec, bytes] : sources) std::memcpy(arena.at(*spec), bytes, spec->bytes());
}

void save_tensors(const std::string &path, const Manifest &manifest, Role role, const Arena &arena,
                  const std::map<std::string, std::string> &metadata) {
    std::vector<SafetensorsTensor> tensors;
    for (const TensorSpec *spec : manifest.entry_tensors(kShared, role))
        tensors.push_back({spec->name, safetensors_dtype(spec->dtype), spec->shape, arena.at(*spec)});
    write_safetensors(path, tensors, metadata);
}

}  // namespace kiln
