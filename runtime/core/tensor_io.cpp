// Arena <-> safetensors by tensor name (contract in kiln/tensor_io.h).
#include "kiln/tensor_io.h"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "kiln/error.h"
#include "kiln/safetensors.h"

namespace kiln {

namespace {

// Params and buffers, in manifest order.
std::vector<const TensorSpec *> state_dict(const Manifest &manifest) {
  std::vector<const TensorSpec *> out;
  for (const TensorSpec &spec : manifest.tensors)
    if (spec.role == Role::Param || spec.role == Role::Buffer)
      out.push_back(&spec);
  return out;
}

// What a counting buffer's f32 slot holds exactly: a whole number in [0, 2^24].
bool counts(float x) { return x >= 0 && x <= float(1 << 24) && x == std::floor(x); }

// A file that names a tensor the model lacks was written for another model (or a typo renamed
// one): refused, as PyTorch's strict load_state_dict refuses unexpected keys. The model's
// optimizer state may be there too (a checkpoint feeding its parameters).
void refuse_unexpected(const SafetensorsFile &file, const Manifest &manifest) {
  std::string names;
  for (const TensorSpec *spec : state_dict(manifest))
    names += (names.empty() ? "" : ", ") + spec->name;
  for (const auto &[name, entry] : file.tensors()) {
    bool known = false;
    for (const TensorSpec &spec : manifest.tensors)
      known |= spec.name == name && (spec.role == Role::Param || spec.role == Role::Buffer || spec.role == Role::State);
    if (!known)
      throw UserError(fmt::format("{}: tensor '{}' is not a parameter or buffer of model '{}' (its "
                                  "parameters and buffers: {})",
                                  file.path(), name, manifest.model, names));
  }
}

} // namespace

void load_tensors(const std::string &path, const Manifest &manifest, Arena &arena) {
  SafetensorsFile file = SafetensorsFile::read(path);
  std::vector<std::vector<float>> values;
  for (const TensorSpec *spec : state_dict(manifest)) {
    std::vector<float> v(spec->numel());
    const SafetensorsEntry *e = file.find(spec->name);
    if (spec->integer && e && e->dtype == "I64") {
      const uint8_t *bytes = file.expect(spec->name, "I64", spec->shape);
      for (size_t i = 0; i < v.size(); ++i) {
        int64_t n;
        std::memcpy(&n, bytes + 8 * i, 8);
        if (n < 0 || n > (int64_t(1) << 24))
          throw UserError(fmt::format("{}: tensor '{}' holds {}; kiln counts it up to 2^24", path, spec->name, n));
        v[i] = float(n);
      }
    } else {
      std::memcpy(v.data(), file.expect(spec->name, safetensors_dtype(spec->dtype), spec->shape), spec->bytes());
      if (spec->integer)
        for (float x : v)
          if (!counts(x))
            throw UserError(fmt::format("{}: tensor '{}' holds {}, not a count up to 2^24", path, spec->name, x));
    }
    values.push_back(std::move(v));
  }
  // After the tensors the model needs, so that a renamed one is reported as missing.
  refuse_unexpected(file, manifest);
  size_t k = 0;
  for (const TensorSpec *spec : state_dict(manifest))
    std::memcpy(arena.at(*spec), values[k++].data(), spec->bytes());
}

void save_tensors(const std::string &path, const Manifest &manifest, const Arena &arena,
                  const std::map<std::string, std::string> &metadata) {
  std::vector<SafetensorsTensor> tensors;
  std::vector<std::vector<int64_t>> integers; // kept alive until written
  integers.reserve(manifest.tensors.size());
  for (const TensorSpec *spec : state_dict(manifest)) {
    if (spec->integer) {
      const float *f = reinterpret_cast<const float *>(arena.at(*spec));
      for (uint64_t i = 0; i < spec->numel(); ++i)
        if (!counts(f[i]))
          throw UserError(fmt::format("{}: buffer '{}' holds {}, not a count up to 2^24; nothing was saved", path,
                                      spec->name, f[i]));
      integers.emplace_back(f, f + spec->numel());
      tensors.push_back({spec->name, "I64", spec->shape, integers.back().data()});
    } else {
      tensors.push_back({spec->name, safetensors_dtype(spec->dtype), spec->shape, arena.at(*spec)});
    }
  }
  write_safetensors(path, tensors, metadata);
}

} // namespace kiln
