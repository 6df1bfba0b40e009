// The dataset registry and the synthetic sets (contract in kiln/datasets.h).
#include "kiln/datasets.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "kiln/error.h"
#include "kiln/rng.h"

namespace kiln {
namespace {

// The model's input `name`, checked to be (N, cols); returns N.
int64_t rows_of(const Manifest &m, const char *dataset, const char *name, int64_t cols) {
    const TensorSpec *t = m.find(name);
    if (!t || t->role != Role::Input)
        throw UserError(fmt::format("dataset '{}' provides input '{}', but the model has no input of that name",
                                    dataset, name));
    if (t->shape.size() != 2 || t->shape[1] != cols || t->shape[0] < 1)
        throw UserError(fmt::format("dataset '{}' produces '{}' of shape [N, {}], the model expects {}", dataset,
                                    name, cols, shape_string(t->shape)));
    return t->shape[0];
}

std::vector<std::string> fill_regression(const Manifest &m, Arena &arena, uint64_t seed) {
    int64_t n = rows_of(m, "regression", "x", 1);
    int64_t ny = rows_of(m, "regression", "y", 1);
    if (ny != n)
        throw UserError(fmt::format("dataset 'regression' produces x and y with the same number of rows, "
                                    "the model expects {} and {}", n, ny));
    RegressionData d = make_regression(n, seed);
    std::memcpy(arena.f32(*m.find("x")), d.x.data(), d.x.size() * sizeof(float));
    std::memcpy(arena.f32(*m.find("y")), d.y.data(), d.y.size() * sizeof(float));
    return {"x", "y"};
}

}  // namespace

const std::vector<DatasetEntry> &dataset_registry() {
    static const std::vector<DatasetEntry> registry = {
        {"regression", "lesson 4: x = linspace(-1, 1, N), y = x^2 + 0.2*U[0,1)", fill_regression},
    };
    return registry;
}

const DatasetEntry *find_dataset(std::string_view name) {
    for (const DatasetEntry &e : dataset_registry())
        if (name == e.name) return &e;
    return nullptr;
}

void fill_dataset(const Manifest &manifest, Arena &arena, uint64_t seed) {
    const DatasetEntry *entry = find_dataset(manifest.train.dataset);
    if (!entry) {
        std::string known;
        for (const DatasetEntry &e : dataset_registry()) known += std::string(known.empty() ? "" : ", ") + e.name;
        throw UserError(fmt::format("unknown dataset '{}' (known: {}); use --data FILE.safetensors to supply inputs",
                                    manifest.train.dataset, known));
    }
    std::vector<std::string> filled = entry->fill(manifest, arena, seed);
    // An input left at zero would train silently on garbage; refuse instead.
    for (const TensorSpec *t : manifest.with_role(Role::Input))
        if (std::find(filled.begin(), filled.end(), t->name) == filled.end())
            throw UserError(fmt::format("the model's input '{}' is not provided by dataset '{}'", t->name,
                                        manifest.train.dataset));
}

std::vector<float> linspace(float start, float end, int64_t n) {
    std::vector<float> out(size_t(std::max<int64_t>(n, 0)));
    if (n == 1) out[0] = start;
    if (n < 2) return out;
    // PyTorch steps from both ends towards the middle, so the last value is exactly `end`.
    const float step = (end - start) / float(n - 1);
    const int64_t halfway = n / 2;
    for (int64_t i = 0; i < n; ++i)
        out[size_t(i)] = i < halfway ? start + step * float(i) : end - step * float(n - i - 1);
    return out;
}

RegressionData make_regression(int64_t n, uint64_t seed) {
    Rng rng(seed, RngStream::Data);
    RegressionData d;
    d.x = linspace(-1.0f, 1.0f, n);
    d.y.resize(d.x.size());
    for (size_t i = 0; i < d.x.size(); ++i) d.y[i] = d.x[i] * d.x[i] + 0.2f * rng.uniform01f();
    return d;
}

}  // namespace kiln
