// Datasets: the tutorial's synthetic sets by name, or a safetensors file, held on the host.
//
// Contract: a Dataset is a set of named tensors that all have the same number of rows N >= 1
// along dim 0. make_dataset() builds manifest.train.dataset from the registry with
// Rng(seed, RngStream::Data) (same seed, same data); load_dataset() reads the tensors named like
// the model's inputs from a safetensors file (any N, other tensors ignored). Both then conform
// the set to the model: every input of the model must be present with the input's dtype and
// per-row shape (the input's shape without dim 0); a 1-feature row may be [] or [1] on either
// side, and is reshaped to the model's. Anything else throws UserError naming the tensor.
// A new lesson adds one DatasetEntry to the table in datasets.cpp and nothing else.
#ifndef KILN_DATASETS_H
#define KILN_DATASETS_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/manifest.h"

namespace kiln {

struct DataTensor {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;  // (N, ...row shape)
    std::vector<float> f32;      // the values when dtype is F32
    std::vector<int32_t> i32;    // the values when dtype is I32

    int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
    uint64_t row_numel() const;
    const void *row(int64_t i) const;  // row_numel() elements of 4 bytes
    void *row(int64_t i);
};

struct Dataset {
    std::vector<DataTensor> tensors;
    int64_t rows() const { return tensors.empty() ? 0 : tensors.front().rows(); }
    const DataTensor *find(std::string_view name) const;
};

using DatasetMake = Dataset (*)(uint64_t seed);

struct DatasetEntry {
    const char *name;
    const char *description;  // one line, shown by --help
    DatasetMake make;
};

const std::vector<DatasetEntry> &dataset_registry();
const DatasetEntry *find_dataset(std::string_view name);

// The registry's set for manifest.train.dataset, conformed to the model's inputs.
Dataset make_dataset(const Manifest &manifest, uint64_t seed);
// The model's inputs from a safetensors file, conformed to the model's inputs.
Dataset load_dataset(const std::string &path, const Manifest &manifest);
// Reshapes [] <-> [1] rows to the model's and checks every input; `source` names the data in errors.
void conform_dataset(Dataset &data, const Manifest &manifest, const std::string &source);

// torch.linspace(start, end, n) in float, with PyTorch's symmetric formula, so x matches bit for bit.
std::vector<float> linspace(float start, float end, int64_t n);

// The synthetic sets, in their canonical layouts. Draws come from Rng(seed, RngStream::Data).
// Lesson 4, N = 100: x = linspace(-1, 1, N) as (N, 1), y = x^2 + 0.2 * U[0, 1) as (N, 1),
// one uniform01f() per row in row order.
Dataset make_regression(uint64_t seed);
// Lessons 5/6, N = 200: x (N, 2) f32, y (N,) i32. Rows 0..99 are (2 + z, 2 + z') with label 0,
// rows 100..199 are (-2 + z, -2 + z') with label 1; z, z' are consecutive Rng::normal() values,
// row by row, first column first (like torch.normal filling a (100, 2) tensor).
Dataset make_classification(uint64_t seed);
// Lesson 9, N = 1000: x = linspace(-1, 1, N) as (N, 1), y = x^2 + 0.1 * Rng::normal() in row order.
Dataset make_optimizers(uint64_t seed);
// Lesson 8, N = 10: x = linspace(1, 10, 10), y = linspace(10, 1, 10), both (N,); no randomness.
Dataset make_minibatch(uint64_t seed);

}  // namespace kiln

#endif
