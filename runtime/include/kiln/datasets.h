// Synthetic datasets of the tutorial, by name.
//
// Contract: fill_dataset() looks up manifest.train.dataset in the registry and writes every
// "input" tensor of the model from Rng(seed, RngStream::Data); same seed, same data. It throws
// UserError when the name is unknown, when the model's inputs do not have the names and shapes
// the dataset produces, or when the model has an input the dataset does not provide.
// A new lesson adds one DatasetEntry to the table in datasets.cpp and nothing else.
#ifndef KILN_DATASETS_H
#define KILN_DATASETS_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/arena.h"
#include "kiln/manifest.h"

namespace kiln {

// Writes the inputs it produces and returns their names.
using DatasetFill = std::vector<std::string> (*)(const Manifest &manifest, Arena &arena, uint64_t seed);

struct DatasetEntry {
    const char *name;
    const char *description;  // one line, shown by --help
    DatasetFill fill;
};

const std::vector<DatasetEntry> &dataset_registry();
const DatasetEntry *find_dataset(std::string_view name);
void fill_dataset(const Manifest &manifest, Arena &arena, uint64_t seed);

// torch.linspace(start, end, n) in float, with PyTorch's symmetric formula, so x matches bit for bit.
std::vector<float> linspace(float start, float end, int64_t n);

// Lesson 4: x = linspace(-1, 1, n), y = x^2 + 0.2 * U[0, 1), both n x 1.
struct RegressionData {
    std::vector<float> x;  // (n, 1)
    std::vector<float> y;  // (n, 1)
};
RegressionData make_regression(int64_t n, uint64_t seed);

}  // namespace kiln

#endif
