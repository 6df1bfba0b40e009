// Datasets: the tutorial's synthetic sets by name, idx image folders, or a safetensors file.
//
// Contract: a Dataset is a set of named tensors that all have the same number of rows N >= 1
// along dim 0. make_dataset() builds manifest.train.dataset from the registry with
// Rng(seed, RngStream::Data) (same seed, same data); load_dataset() reads the tensors named like
// the model's inputs from a safetensors file (any N, other tensors ignored); a registry entry with
// a `load` function (e.g. "mnist") reads a folder instead and may add a test split. open_data()
// chooses among them (see below). All then conform the set to the model: every input of the
// model must be present with the input's dtype and per-row shape (the input's shape without
// dim 0); a 1-feature row may be [] or [1] on either side, and is reshaped to the model's; for
// task "classification" every label (i32 input of one value per row) must lie in [0, classes),
// classes being the last dimension of the model's scores output, so a bad label file can never
// index past the model's logits. Anything else throws UserError naming the tensor.
// An F32 tensor may be stored as bytes (as_bytes, u8): its values are u8[i] / 255.0f, as
// torchvision's ToTensor() scales pixels; copy_row() and value() convert, so no f32 copy of an
// image set is ever made.
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
  DType dtype = DType::f32;
  std::vector<int64_t> shape; // (N, ...row shape)
  std::vector<float> f32;     // the values when dtype is F32
  std::vector<int32_t> i32;   // the values when dtype is I32
  bool as_bytes = false;      // F32 only: the values are u8[i] / 255.0f, f32 is empty
  std::vector<uint8_t> u8;    // the bytes when as_bytes

  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  uint64_t row_numel() const;
  const void *row(int64_t i) const; // row_numel() elements of 4 bytes; not for as_bytes tensors
  void *row(int64_t i);
  // Writes row i as row_numel() 4-byte elements (f32 or i32) to dst, converting bytes.
  void copy_row(int64_t i, void *dst) const;
  // Element `flat` (row-major over the whole tensor) of an F32 tensor.
  float value(uint64_t flat) const;
};

struct Dataset {
  std::vector<DataTensor> tensors;
  int64_t rows() const { return tensors.empty() ? 0 : tensors.front().rows(); }
  const DataTensor *find(std::string_view name) const;
};

// The data of a run: what it trains on and, for sets that have one, a held-out test split.
struct DataSplits {
  Dataset train;
  Dataset test;            // no tensors when the set has no test split
  std::string test_source; // where the test split came from, for messages
  bool has_test() const { return !test.tensors.empty(); }
};

using DatasetMake = Dataset (*)(uint64_t seed);
// The training rows a folder holds, read from its headers only.
using DatasetRows = int64_t (*)(const std::string &dir);
// Reads the set from a folder; conformed to the model by the loader itself.
using DatasetLoad = DataSplits (*)(const std::string &dir, const Manifest &manifest);

struct DatasetEntry {
  const char *name;
  const char *description;           // one line, shown by --help
  DatasetMake make = nullptr;        // synthetic sets
  DatasetLoad load = nullptr;        // sets read from a folder
  const char *default_dir = nullptr; // the folder when neither --data nor train.data_dir names one
  DatasetRows rows = nullptr;        // sets read from a folder
};

const std::vector<DatasetEntry> &dataset_registry();
const DatasetEntry *find_dataset(std::string_view name);

// The registry's set for manifest.train.dataset, conformed to the model's inputs.
Dataset make_dataset(const Manifest &manifest, uint64_t seed);
// The model's inputs from a safetensors file, conformed to the model's inputs.
Dataset load_dataset(const std::string &path, const Manifest &manifest);
// The data of a run. `data` is --data ("" when not given). A regular file is read as safetensors
// (training data only); otherwise a folder-read set (one with `load`) reads `data`, else
// train.data_dir, else its default_dir; otherwise the synthetic set is made from `seed`.
DataSplits open_data(const Manifest &manifest, const std::string &data, uint64_t seed);

// How many training rows a run will have, as known before it (kiln compile specialises the
// short last batch's step for it): `data` as open_data() would read it (a safetensors file: the
// first dimension of its tensors named in `inputs`, which must agree; a folder for a folder-read
// set), else the model's own set (`data_dir` or the set's default folder, or the synthetic set).
// -1 when nothing names the data. Throws UserError for unreadable data.
int64_t training_rows(const std::string &dataset, const std::string &data, const std::string &data_dir,
                      const std::vector<std::string> &inputs);

// Lesson 10: the MNIST-format folder `dir`: train-images-idx3-ubyte + train-labels-idx1-ubyte
// (train) and t10k-images-idx3-ubyte + t10k-labels-idx1-ubyte (test), each plain or with .gz
// (plain is taken when both exist). Images become the input "x" (bytes, /255), whose rows the
// model must take as [H, W], [1, H, W] or [H * W] of the files' H x W; labels the i32 input "y".
DataSplits load_mnist(const std::string &dir, const Manifest &manifest);
// The training images such a folder holds (the train labels file's count).
int64_t mnist_rows(const std::string &dir);
// The number of classes of a classification model: the last dimension of the first f32 output
// with 1-d rows (eval entry first, then train entries); 0 when there is none.
int64_t class_count(const Manifest &manifest);
// Reshapes [] <-> [1] rows to the model's and checks every input; `source` names the data in errors.
void conform_dataset(Dataset &data, const Manifest &manifest, const std::string &source);

// Shared by the data readers.
bool is_directory(const std::string &path);
bool is_regular_file(const std::string &path);
// Labels must index the model's scores: throws UserError naming `source` and the row of a label
// outside [0, classes).
void check_labels(const DataTensor &t, int64_t classes, const std::string &source);

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

} // namespace kiln

#endif
