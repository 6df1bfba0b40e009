// Manifest parsing and validation (contract in kiln/manifest.h).
#include "kiln/manifest.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include <limits>

#include "kiln/error.h"

namespace kiln {
namespace {

using nlohmann::json;

// A dimension above 2^40 elements is certainly a compiler bug, not a model.
constexpr int64_t kMaxDim = int64_t(1) << 40;

struct RoleEntry {
    const char *name;
    Role role;
};
constexpr RoleEntry kRoles[] = {
    {"param", Role::Param}, {"state", Role::State}, {"input", Role::Input},   {"lr", Role::Lr},
    {"step", Role::Step},   {"loss", Role::Loss},   {"output", Role::Output},
};

[[noreturn]] void fail(const std::string &what) { throw UserError("model manifest: " + what); }

const json &field(const json &obj, const char *key, const std::string &where) {
    auto it = obj.find(key);
    if (it == obj.end()) fail(fmt::format("{}: missing \"{}\"", where, key));
    return *it;
}

uint64_t unsigned_field(const json &obj, const char *key, const std::string &where) {
    const json &v = field(obj, key, where);
    if (!v.is_number_unsigned()) fail(fmt::format("{}: \"{}\" must be a non-negative integer", where, key));
    return v.get<uint64_t>();
}

std::string string_field(const json &obj, const char *key, const std::string &where) {
    const json &v = field(obj, key, where);
    if (!v.is_string()) fail(fmt::format("{}: \"{}\" must be a string", where, key));
    return v.get<std::string>();
}

TensorSpec parse_tensor(const json &t, size_t index, uint64_t arena_bytes) {
    std::string where = fmt::format("tensor #{}", index);
    if (!t.is_object()) fail(where + ": must be an object");
    TensorSpec spec;
    spec.name = string_field(t, "name", where);
    where = fmt::format("tensor '{}'", spec.name);

    std::string role = string_field(t, "role", where);
    bool known = false;
    for (const RoleEntry &r : kRoles) {
        if (role == r.name) {
            spec.role = r.role;
            known = true;
        }
    }
    if (!known) fail(fmt::format("{}: unknown role '{}'", where, role));

    std::string dtype = string_field(t, "dtype", where);
    if (dtype != "f32") fail(fmt::format("{}: dtype '{}' is not supported (only f32)", where, dtype));

    const json &shape = field(t, "shape", where);
    if (!shape.is_array()) fail(where + ": \"shape\" must be an array");
    for (const json &d : shape) {
        if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > kMaxDim)
            fail(fmt::format("{}: bad shape {}", where, shape.dump()));
        spec.shape.push_back(d.get<int64_t>());
    }

    spec.offset = unsigned_field(t, "offset", where);
    // Kernels read f32 through aligned pointers; a misaligned offset would be a compiler bug.
    if (spec.offset % 4 != 0) fail(fmt::format("{}: offset {} is not 4-byte aligned", where, spec.offset));
    uint64_t n = 1;
    for (int64_t d : spec.shape) {
        // Guards numel * 4 against overflow; the arena bound below does the real check.
        if (d != 0 && n > (std::numeric_limits<uint64_t>::max() / 4) / uint64_t(d))
            fail(fmt::format("{}: shape {} is too large", where, shape_string(spec.shape)));
        n *= uint64_t(d);
    }
    if (spec.offset > arena_bytes || spec.bytes() > arena_bytes - spec.offset)
        fail(fmt::format("{}: offset {} + {} bytes lies outside the arena of {} bytes", where,
                         spec.offset, spec.bytes(), arena_bytes));

    if (spec.role == Role::Param) {
        spec.fan_in = unsigned_field(t, "fan_in", where);
        if (spec.fan_in == 0) fail(where + ": fan_in must be positive");
    }
    if ((spec.role == Role::Lr || spec.role == Role::Step || spec.role == Role::Loss) && spec.numel() != 1)
        fail(fmt::format("{}: a '{}' tensor must hold one value, shape is {}", where, role,
                         shape_string(spec.shape)));
    return spec;
}

TrainConfig parse_train(const json &train) {
    const std::string where = "\"train\"";
    if (!train.is_object()) fail(where + " must be an object");
    TrainConfig cfg;
    cfg.dataset = string_field(train, "dataset", where);
    const json &steps = field(train, "steps", where);
    if (!steps.is_number_integer() || steps.get<int64_t>() < 1) fail(where + ": \"steps\" must be a positive integer");
    cfg.steps = steps.get<int64_t>();
    const json &lr = field(train, "lr", where);
    if (!lr.is_number()) fail(where + ": \"lr\" must be a number");
    cfg.lr = lr.get<double>();
    if (train.contains("log_every")) {
        const json &le = train["log_every"];
        if (!le.is_number_integer() || le.get<int64_t>() < 1) fail(where + ": \"log_every\" must be a positive integer");
        cfg.log_every = le.get<int64_t>();
    }
    return cfg;
}

}  // namespace

const char *role_name(Role role) {
    for (const RoleEntry &r : kRoles)
        if (r.role == role) return r.name;
    return "?";
}

const char *dtype_name(DType) { return "f32"; }
const char *safetensors_dtype(DType) { return "F32"; }

uint64_t TensorSpec::numel() const {
    uint64_t n = 1;
    for (int64_t d : shape) n *= uint64_t(d);
    return n;
}

uint64_t TensorSpec::bytes() const { return numel() * 4; }

const TensorSpec *Manifest::find(std::string_view name) const {
    for (const TensorSpec &t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

const TensorSpec *Manifest::find_role(Role role) const {
    for (const TensorSpec &t : tensors)
        if (t.role == role) return &t;
    return nullptr;
}

std::vector<const TensorSpec *> Manifest::with_role(Role role) const {
    std::vector<const TensorSpec *> out;
    for (const TensorSpec &t : tensors)
        if (t.role == role) out.push_back(&t);
    return out;
}

std::string shape_string(const std::vector<int64_t> &shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Manifest parse_manifest(std::string_view text) {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) fail("not valid JSON");
    if (!j.is_object()) fail("must be a JSON object");

    Manifest m;
    m.model = string_field(j, "model", "top level");
    m.arena_bytes = unsigned_field(j, "arena_bytes", "top level");
    m.train = parse_train(field(j, "train", "top level"));

    const json &tensors = field(j, "tensors", "top level");
    if (!tensors.is_array()) fail("\"tensors\" must be an array");
    for (size_t i = 0; i < tensors.size(); ++i) {
        TensorSpec spec = parse_tensor(tensors[i], i, m.arena_bytes);
        if (m.find(spec.name)) fail(fmt::format("tensor '{}' appears twice", spec.name));
        m.tensors.push_back(std::move(spec));
    }
    for (Role r : {Role::Lr, Role::Step, Role::Loss}) {
        size_t count = m.with_role(r).size();
        if (count > 1) fail(fmt::format("{} tensors have role '{}', at most one may", count, role_name(r)));
    }
    // The loop reports the loss every step; a training model without one is malformed.
    if (!m.find_role(Role::Loss)) fail("no tensor has role 'loss'");
    return m;
}

}  // namespace kiln
