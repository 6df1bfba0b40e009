// The tutorial's data sets: the synthetic sets of lessons 4-9 and lesson 10's MNIST-format
// folders, and the registry that names them (contract in kiln/datasets.h). A model that names
// one of them links this file's library (libkiln_datasets.a); the others link
// no_builtin_datasets.cpp instead, whose registry is empty.
#include <fmt/format.h>

#include <array>
#include <cstring>

#include "kiln/datasets.h"
#include "kiln/error.h"
#include "kiln/idx.h"
#include "kiln/rng.h"

namespace kiln {
namespace {

DataTensor f32_tensor(const char *name, std::vector<int64_t> shape, std::vector<float> values) {
  DataTensor t;
  t.name = name;
  t.dtype = DType::f32;
  t.shape = std::move(shape);
  t.f32 = std::move(values);
  return t;
}

} // namespace

const std::vector<DatasetEntry> &dataset_registry() {
  static const std::vector<DatasetEntry> registry = {
      {"regression", "lesson 4: x = linspace(-1, 1, 100), y = x^2 + 0.2*U[0,1)", make_regression},
      {"classification", "lessons 5/6: 100 points ~ N((2,2), 1) label 0, 100 ~ N((-2,-2), 1) label 1",
       make_classification},
      {"optimizers", "lesson 9: x = linspace(-1, 1, 1000), y = x^2 + 0.1*N(0,1)", make_optimizers},
      {"minibatch", "lesson 8: x = linspace(1, 10, 10), y = linspace(10, 1, 10)", make_minibatch},
      {"mnist", "lesson 10: MNIST-format idx files (train-* and t10k-*, plain or .gz) in a folder", nullptr, load_mnist,
       "/usr/share/datasets/fashion-mnist", mnist_rows},
  };
  return registry;
}

namespace {

// `dir`/`name`, or `dir`/`name`.gz; throws naming both and the folder when neither is there.
std::string idx_file(const std::string &dir, const std::string &name) {
  const std::string base = dir + (dir.empty() || dir.back() == '/' ? "" : "/") + name;
  if (is_regular_file(base))
    return base;
  if (is_regular_file(base + ".gz"))
    return base + ".gz";
  throw UserError(fmt::format("{}: no {} or {}.gz in this folder (an MNIST-format folder holds "
                              "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
                              "t10k-labels-idx1-ubyte, each plain or .gz)",
                              dir, name, name));
}

Dataset mnist_split(const std::string &dir, const char *prefix, const Manifest &manifest, std::string &source) {
  const std::string images_path = idx_file(dir, std::string(prefix) + "-images-idx3-ubyte");
  const std::string labels_path = idx_file(dir, std::string(prefix) + "-labels-idx1-ubyte");
  source = images_path;
  IdxArray labels = read_idx_labels(labels_path);
  IdxArray images = read_idx_images(images_path);
  const int64_t n = images.dims[0], h = images.dims[1], w = images.dims[2];
  if (labels.dims[0] != n)
    throw UserError(fmt::format("{}: {} labels, but {} holds {} images; the two files must agree", labels_path,
                                labels.dims[0], images_path, n));

  const TensorSpec *x = manifest.find("x", 0), *y = manifest.find("y", 0);
  if (!x || x->role != Role::Input || x->dtype != DType::f32 || !y || y->role != Role::Input ||
      y->dtype != DType::i32 || y->row_numel() != 1)
    throw UserError(fmt::format("dataset 'mnist' feeds an f32 input 'x' (images) and an i32 input 'y' (labels, one "
                                "per row); model '{}' does not take them",
                                manifest.model));
  const std::vector<int64_t> row = x->row_shape();
  if (row != std::vector<int64_t>{h, w} && row != std::vector<int64_t>{1, h, w} && row != std::vector<int64_t>{h * w})
    throw UserError(fmt::format("{}: images are {}x{}, but the model's input 'x' takes rows of shape {}", images_path,
                                h, w, shape_string(row)));

  Dataset d;
  DataTensor xt;
  xt.name = "x";
  xt.dtype = DType::f32;
  xt.shape = {n};
  xt.shape.insert(xt.shape.end(), row.begin(), row.end());
  xt.as_bytes = true;
  xt.u8 = std::move(images.data);
  DataTensor yt;
  yt.name = "y";
  yt.dtype = DType::i32;
  const std::vector<int64_t> y_row = y->row_shape();
  yt.shape = {n};
  yt.shape.insert(yt.shape.end(), y_row.begin(), y_row.end());
  yt.i32.assign(labels.data.begin(), labels.data.end());
  if (const int64_t classes = class_count(manifest); classes > 0)
    check_labels(yt, classes, labels_path);
  d.tensors.push_back(std::move(xt));
  d.tensors.push_back(std::move(yt));
  conform_dataset(d, manifest, images_path);
  return d;
}

} // namespace

int64_t mnist_rows(const std::string &dir) {
  if (!is_directory(dir))
    throw UserError(fmt::format("{}: no such folder of MNIST-format idx files", dir));
  return read_idx_labels(idx_file(dir, "train-labels-idx1-ubyte")).dims[0];
}

DataSplits load_mnist(const std::string &dir, const Manifest &manifest) {
  if (!is_directory(dir))
    throw UserError(
        fmt::format("{}: no such folder; dataset 'mnist' reads its idx files from a folder (--data DIR)", dir));
  DataSplits splits;
  std::string train_source;
  splits.train = mnist_split(dir, "train", manifest, train_source);
  splits.test = mnist_split(dir, "t10k", manifest, splits.test_source);
  return splits;
}

std::vector<float> linspace(float start, float end, int64_t n) {
  std::vector<float> out(size_t(std::max<int64_t>(n, 0)));
  if (n == 1)
    out[0] = start;
  if (n < 2)
    return out;
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
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = x[i] * x[i] + 0.2f * rng.uniform01f();
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
  y.dtype = DType::i32;
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
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = x[i] * x[i] + 0.1f * float(rng.normal()); // float math, like torch on f32
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

} // namespace kiln
