// The model manifest: the JSON a compiled model exports as `kiln_manifest` (see model_abi.h).
//
// Contract: parse_manifest() either returns a Manifest whose every tensor lies inside the arena,
// has a known role, dtype f32, a 4-byte aligned offset and (for params) a positive fan_in, and
// whose lr/step/loss tensors are scalars present at most once (loss exactly once) -- or throws
// UserError naming the offending field. Everything downstream relies on these checks instead of
// re-validating, so a compiler bug shows up here as one clear message, not as memory corruption.
#ifndef KILN_MANIFEST_H
#define KILN_MANIFEST_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

enum class Role { Param, State, Input, Lr, Step, Loss, Output };
// Only f32 for now; i32 (class labels) arrives with the classification lesson.
enum class DType { F32 };

const char *role_name(Role role);
const char *dtype_name(DType dtype);        // manifest spelling: "f32"
const char *safetensors_dtype(DType dtype);  // safetensors spelling: "F32"

struct TensorSpec {
    std::string name;
    Role role = Role::Param;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;  // [] is a scalar
    uint64_t offset = 0;         // bytes from the arena base
    uint64_t fan_in = 0;         // params only: PyTorch's fan_in for the default init

    uint64_t numel() const;
    uint64_t bytes() const;
};

struct TrainConfig {
    std::string dataset;  // a name in the dataset registry (datasets.h)
    int64_t steps = 0;
    double lr = 0;
    int64_t log_every = 10;
};

struct Manifest {
    std::string model;
    uint64_t arena_bytes = 0;
    std::vector<TensorSpec> tensors;  // in manifest order; init and checkpoints follow it
    TrainConfig train;

    const TensorSpec *find(std::string_view name) const;
    const TensorSpec *find_role(Role role) const;  // the first tensor with this role, or null
    std::vector<const TensorSpec *> with_role(Role role) const;
};

// Parses and validates; throws UserError("model manifest: ...").
Manifest parse_manifest(std::string_view json);

// "[100, 1]", the form used in every shape message.
std::string shape_string(const std::vector<int64_t> &shape);

}  // namespace kiln

#endif
