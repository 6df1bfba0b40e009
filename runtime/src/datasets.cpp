// The dataset registry, the synthetic sets and --data files (contract in kiln/datasets.h).
#include "kiln/datasets.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "kiln/error.h"
#include "kiln/rng.h"
#include "kiln/safetensors.h"

namespace kiln {
namespace {

DataTensor f32_tensor(const char *name, std::vector<int64_t> shape, std::vector<float> values) {
    DataTensor t;
    t.name = name;
    t.dtype = DType::F32;
    t.shape = std::move(shape);
    t.f32 = std::move(values);
    return t;
}

bool is_single_feature(const std::vector<int64_t> &row) { return row.empty() || row == std::vector<int64_t>{1}; }

}  // namespace

uint64_t DataTensor::row_numel() const {
    uint64_t n = 1;
    for (size_t i = 1; i < shape.size(); ++i) n *= uint64_t(shape[i]);
    return n;
}

const void *DataTensor::row(int64_t i) const {
    return dtype == DType::I32 ? static_cast<const void *>(i32.data() + uint64_t(i) * row_numel())
                               : static_cast<const void *>(f32.data() + uint64_t(i) * row_numel());
}

void *DataTensor::row(int64_t i) { return const_cast<void *>(static_cast<const DataTensor *>(this)->row(i)); }

const DataTensor *Dataset::find(std::string_view name) const {
    for (const DataTensor &t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

const std::vector<DatasetEntry> &dataset_registry() {
    static const std::vector<DatasetEntry> registry = {
        {"regression", "lesson 4: x = linspace(-1, 1, 100), y = x^2 + 0.2*U[0,1)", make_regression},
        {"classification", "lessons 5/6: 100 points ~ N((2,2), 1) label 0, 100 ~ N((-2,-2), 1) label 1",
         make_classification},
        {"optimizers", "lesson 9: x = linspace(-1, 1, 1000), y = x^2 + 0.1*N(0,1)", make_optimizers},
        {"minibatch", "lesson 8: x = linspace(1, 10, 10), y = linspace(10, 1, 10)", make_minibatch},
    };
    return registry;
}

const DatasetEntry *find_dataset(std::string_view name) {
    for (const DatasetEntry &e : dataset_registry())
        if (name == e.name) return &e;
    return nullptr;
}

void conform_dataset(Dataset &data, const Manifest &manifest, const std::string &source) {
    if (data.tensors.empty()) throw UserError(fmt::format("{}: holds no tensors", source));
    const int64_t n = data.rows();
    for (const DataTensor &t : data.tensors) {
        if (t.shape.empty() || t.rows() < 1)
            throw UserError(fmt::format("{}: tensor '{}' has shape {}; data needs at least one row along dim 0",
                                        source, t.name, shape_string(t.shape)));
        if (t.rows() != n)
            throw UserError(fmt::format("{}: tensor '{}' has {} rows, tensor '{}' has {}; all must have the same",
                                        source, t.name, t.rows(), data.tensors.front().name, n));
    }
    // Every entry takes the same inputs (parse_manifest checked), so entry 0's describe them all.
    for (const TensorSpec *in : manifest.entry_tensors(0, Role::Input)) {
        auto it = std::find_if(data.tensors.begin(), data.tensors.end(),
                               [&](const DataTensor &t) { return t.name == in->name; });
        if (it == data.tensors.end())
            throw UserError(fmt::format("{}: has no tensor '{}', which the model takes as input", source, in->name));
        std::vector<int64_t> row(it->shape.begin() + 1, it->shape.end()), want = in->row_shape();
        if (row != want && is_single_feature(row) && is_single_feature(want)) {
            it->shape.resize(1);
            it->shape.insert(it->shape.end(), want.begin(), want.end());
            row = want;
        }
        if (it->dtype != in->dtype || row != want) {
            std::vector<int64_t> expected = {n};
            expected.insert(expected.end(), want.begin(), want.end());
            throw UserError(fmt::format("{}: tensor '{}' is {} of shape {}, the model expects {} of shape {}", source,
                                        in->name, dtype_name(it->dtype), shape_string(it->shape),
                                        dtype_name(in->dtype), shape_string(expected)));
        }
    }
}

Dataset make_dataset(const Manifest &manifest, uint64_t seed) {
    const DatasetEntry *entry = find_dataset(manifest.train.dataset);
    if (!entry) {
        std::string known;
        for (const DatasetEntry &e : dataset_registry()) known += std::string(known.empty() ? "" : ", ") + e.name;
        throw UserError(fmt::format("unknown dataset '{}' (known: {}); use --data FILE.safetensors to supply inputs",
                                    manifest.train.dataset, known));
    }
    Dataset data = entry->make(seed);
    conform_dataset(data, manifest, fmt::format("dataset '{}'", entry->name));
    return data;
}

Dataset load_dataset(const std::string &path, const Manifest &manifest) {
    SafetensorsFile file = SafetensorsFile::read(path);
    Dataset data;
    for (const TensorSpec *in : manifest.entry_tensors(0, Role::Input)) {
        const SafetensorsEntry *e = file.find(in->name);
        if (!e) throw UserError(fmt::format("{}: no tensor '{}', which the model needs", path, in->name));
        DataTensor t;
        t.name = in->name;
        t.shape = e->shape;
        if (e->dtype == "F32") {
            t.dtype = DType::F32;
            t.f32.resize((e->end - e->begin) / 4);
            if (!t.f32.empty()) std::memcpy(t.f32.data(), file.data(*e), e->end - e->begin);
        } else if (e->dtype == "I32") {
            t.dtype = DType::I32;
            t.i32.resize((e->end - e->begin) / 4);
            if (!t.i32.empty()) std::memcpy(t.i32.data(), file.data(*e), e->end - e->begin);
        } else {
            throw UserError(fmt::format("{}: tensor '{}' has dtype {}, the model expects {}", path, in->name, e->dtype,
                                        safetensors_dtype(in->dtype)));
        }
        data.tensors.push_back(std::move(t));
    }
    conform_dataset(data, manifest, path);
    return data;
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

Dataset make_regression(uint64_t seed) {
    const int64_t n = 100;
    Rng rng(seed, RngStream::Data);
    std::vector<float> x = linspace(-1.0f, 1.0f, n), y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * x[i] + 0.2f * rng.uniform01f();
    Dataset d;
    d.tensors.push_back(f32_tensor("x", {n, 1}, std::move(x)));
    d.tensors.push_back(f32_tensor("y", {n, 1}, std::move(y)));
    return d;
}

Dataset make_classification(uint64_t seed) {
    const int64_t per_class = 100, n = 2 * per_class;
    Rng rng(seed, RngStream::Data);
    std::vector<float> x(size_t(n) * 2);
    DataTensor y;
    y.name = "y";
    y.dtype = DType::I32;
    y.shape = {n};
    y.i32.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
        const int32_t label = i < per_class ? 0 : 1;
        const double centre = label == 0 ? 2.0 : -2.0;
        x[size_t(2 * i)] = float(centre + rng.normal());
        x[size_t(2 * i + 1)] = float(centre + rng.normal());
        y.i32[size_t(i)] = label;
    }
    Dataset d;
    d.tensors.push_back(f32_tensor("x", {n, 2}, std::move(x)));
    d.tensors.push_back(std::move(y));
    return d;
}

Dataset make_optimizers(uint64_t seed) {
    const int64_t n = 1000;
    Rng rng(seed, RngStream::Data);
    std::vector<float> x = linspace(-1.0f, 1.0f, n), y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * x[i] + 0.1f * float(rng.normal());  // float math, like torch on f32
    Dataset d;
    d.tensors.push_back(f32_tensor("x", {n, 1}, std::move(x)));
    d.tensors.push_back(f32_tensor("y", {n, 1}, std::move(y)));
    return d;
}

Dataset make_minibatch(uint64_t) {
    Dataset d;
    d.tensors.push_back(f32_tensor("x", {10}, linspace(1, 10, 10)));
    d.tensors.push_back(f32_tensor("y", {10}, linspace(10, 1, 10)));
    return d;
}

}  // namespace kiln
