// The dataset registry, the synthetic sets, idx folders and --data files (contract in kiln/datasets.h).
#include "kiln/datasets.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <cmath>
#include <limits>
#include <sstream>

#include "kiln/error.h"
#include "kiln/data_files.h"
#include "kiln/safetensors.h"

namespace kiln {
namespace {

bool is_single_feature(const std::vector<int64_t> &row) { return row.empty() || row == std::vector<int64_t>{1}; }

// byte / 255.0f for every byte: a division, exactly as ToTensor's img.float().div(255).
const std::array<float, 256> &byte_values() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i)
      t[size_t(i)] = float(i) / 255.0f;
    return t;
  }();
  return table;
}

} // namespace

bool is_directory(const std::string &path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_regular_file(const std::string &path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

void check_labels(const DataTensor &t, int64_t classes, const std::string &source) {
  for (size_t i = 0; i < t.i32.size(); ++i)
    if (t.i32[i] < 0 || t.i32[i] >= classes)
      throw UserError(fmt::format("{}: tensor '{}' row {} holds label {}, but the model has {} classes (0..{})", source,
                                  t.name, i, t.i32[i], classes, classes - 1));
}

uint64_t DataTensor::row_numel() const {
  uint64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i)
    n *= uint64_t(shape[i]);
  return n;
}

const void *DataTensor::row(int64_t i) const {
  return dtype == DType::i32 ? static_cast<const void *>(i32.data() + uint64_t(i) * row_numel())
                             : static_cast<const void *>(f32.data() + uint64_t(i) * row_numel());
}

void *DataTensor::row(int64_t i) { return const_cast<void *>(static_cast<const DataTensor *>(this)->row(i)); }

void DataTensor::copy_row(int64_t i, void *dst) const {
  const uint64_t n = row_numel();
  if (!as_bytes) {
    std::memcpy(dst, row(i), n * 4);
    return;
  }
  const std::array<float, 256> &v = byte_values();
  const uint8_t *src = u8.data() + uint64_t(i) * n;
  float *out = static_cast<float *>(dst);
  for (uint64_t k = 0; k < n; ++k)
    out[k] = v[src[k]];
}

float DataTensor::value(uint64_t flat) const { return as_bytes ? byte_values()[u8[flat]] : f32[flat]; }

const DataTensor *Dataset::find(std::string_view name) const {
  for (const DataTensor &t : tensors)
    if (t.name == name)
      return &t;
  return nullptr;
}

const DatasetEntry *find_dataset(std::string_view name) {
  for (const DatasetEntry &e : dataset_registry())
    if (name == e.name)
      return &e;
  return nullptr;
}

void conform_dataset(Dataset &data, const Manifest &manifest, const std::string &source) {
  if (data.tensors.empty())
    throw UserError(fmt::format("{}: holds no tensors", source));
  const int64_t n = data.rows();
  for (const DataTensor &t : data.tensors) {
    if (t.shape.empty() || t.rows() < 1)
      throw UserError(fmt::format("{}: tensor '{}' has shape {}; data needs at least one row along dim 0", source,
                                  t.name, shape_string(t.shape)));
    if (t.rows() != n)
      throw UserError(fmt::format("{}: tensor '{}' has {} rows, tensor '{}' has {}; all must have the same", source,
                                  t.name, t.rows(), data.tensors.front().name, n));
  }
  // Every entry takes the same inputs (parse_manifest checked), so entry 0's describe them all.
  for (const TensorSpec *in : manifest.entry_tensors(0, Role::Input)) {
    auto it =
        std::find_if(data.tensors.begin(), data.tensors.end(), [&](const DataTensor &t) { return t.name == in->name; });
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
                                  in->name, dtype_name(it->dtype), shape_string(it->shape), dtype_name(in->dtype),
                                  shape_string(expected)));
    }
    if (it->as_bytes && it->u8.size() != uint64_t(n) * it->row_numel())
      throw UserError(fmt::format("{}: tensor '{}' holds {} bytes for shape {}", source, in->name, it->u8.size(),
                                  shape_string(it->shape)));
    const int64_t classes = class_count(manifest);
    if (manifest.train.task == "classification" && classes > 0 && in->dtype == DType::i32 && in->row_numel() == 1)
      check_labels(*it, classes, source);
  }
}

int64_t class_count(const Manifest &manifest) {
  std::vector<int> order;
  if (manifest.eval_entry() >= 0)
    order.push_back(manifest.eval_entry());
  for (size_t e = 0; e < manifest.entries.size(); ++e)
    if (manifest.entries[e].kind == EntryKind::train)
      order.push_back(int(e));
  for (int e : order)
    for (const TensorSpec *out : manifest.entry_tensors(e, Role::Output))
      if (out->dtype == DType::f32 && out->row_shape().size() == 1)
        return out->row_shape()[0];
  return 0;
}

Dataset make_dataset(const Manifest &manifest, uint64_t seed) {
  const DatasetEntry *entry = find_dataset(manifest.train.dataset);
  if (!entry && manifest.train.dataset.empty()) {
    // A user's model: say what --data must hold, tensor by tensor.
    std::string inputs;
    for (const TensorSpec *in : manifest.entry_tensors(0, Role::Input)) {
      std::string shape = "rows";
      for (int64_t d : in->row_shape())
        shape += fmt::format(", {}", d);
      inputs += fmt::format("{}'{}' {} [{}]", inputs.empty() ? "" : ", ", in->name, dtype_name(in->dtype), shape);
    }
    throw UserError(fmt::format("model '{}' has no data set of its own: give --data FILE (.safetensors or .npz "
                                "by name, .csv by column, or NAME=FILE.npy,...) holding its inputs, as many rows "
                                "as you like: {}",
                                manifest.model, inputs));
  }
  if (!entry) {
    std::string known;
    for (const DatasetEntry &e : dataset_registry())
      known += std::string(known.empty() ? "" : ", ") + e.name;
    throw UserError(fmt::format("unknown dataset '{}' (known: {}); use --data FILE.safetensors to supply inputs",
                                manifest.train.dataset, known));
  }
  if (!entry->make)
    throw UserError(fmt::format("dataset '{}' is read from a folder, not generated; give --data DIR", entry->name));
  Dataset data = entry->make(seed);
  conform_dataset(data, manifest, fmt::format("dataset '{}'", entry->name));
  return data;
}

namespace {

bool ends_with(const std::string &s, const char *suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// "x=features.npy,y=labels.npy": one .npy per input.
bool is_npy_list(const std::string &spec) { return spec.find('=') != std::string::npos && !is_regular_file(spec); }

// The arrays named `names` from a safetensors file, a .npz archive or a list of .npy files.
std::vector<DataArray> read_arrays(const std::string &spec, const std::vector<std::string> &names) {
  std::vector<DataArray> all;
  if (is_npy_list(spec)) {
    std::stringstream items(spec);
    for (std::string item; std::getline(items, item, ',');) {
      const size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0)
        throw UserError(fmt::format("--data {}: '{}' is not NAME=FILE.npy", spec, item));
      all.push_back(read_npy(item.substr(eq + 1), item.substr(0, eq)));
    }
  } else if (ends_with(spec, ".npz")) {
    all = read_npz(spec);
  } else {
    SafetensorsFile file = SafetensorsFile::read(spec);
    for (const auto &[name, e] : file.tensors())
      all.push_back({name, e.dtype, e.shape, std::vector<uint8_t>(file.data(e), file.data(e) + (e.end - e.begin))});
  }
  std::vector<DataArray> wanted;
  for (const std::string &name : names) {
    auto it = std::find_if(all.begin(), all.end(), [&](const DataArray &a) { return a.name == name; });
    if (it == all.end())
      throw UserError(fmt::format("{}: no tensor '{}', which the model needs", spec, name));
    wanted.push_back(std::move(*it));
  }
  return wanted;
}

// An array as the model's input `in`: F32 and I32 as they are (conform_dataset then checks them
// against the input); F64 for an f32 input, rounded (NumPy's default); I64 (PyTorch's labels)
// and U8 for an i32 input, each value checked to fit.
DataTensor to_tensor(const DataArray &a, const TensorSpec &in, const std::string &source) {
  DataTensor t;
  t.name = in.name;
  t.shape = a.shape;
  t.dtype = a.dtype == "F32" ? DType::f32 : a.dtype == "I32" ? DType::i32 : in.dtype;
  uint64_t numel = 1;
  for (int64_t d : a.shape)
    numel *= uint64_t(d);
  auto element = [&](uint64_t i, auto type) {
    decltype(type) v;
    std::memcpy(&v, a.bytes.data() + i * sizeof v, sizeof v);
    return v;
  };
  if (a.dtype == "F32" || (in.dtype == DType::f32 && a.dtype == "F64")) {
    t.f32.resize(numel);
    for (uint64_t i = 0; i < numel; ++i)
      t.f32[i] = a.dtype == "F32" ? element(i, float()) : float(element(i, double()));
  } else if (a.dtype == "I32" || (in.dtype == DType::i32 && (a.dtype == "I64" || a.dtype == "U8"))) {
    t.i32.resize(numel);
    for (uint64_t i = 0; i < numel; ++i) {
      const int64_t v = a.dtype == "I32"  ? element(i, int32_t())
                        : a.dtype == "U8" ? element(i, uint8_t())
                                          : element(i, int64_t());
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
        throw UserError(
            fmt::format("{}: tensor '{}' element {} is {}, beyond the model's 32-bit integers", source, in.name, i, v));
      t.i32[i] = int32_t(v);
    }
  } else {
    throw UserError(fmt::format("{}: tensor '{}' has dtype {}, the model expects {}", source, in.name, a.dtype,
                                safetensors_dtype(in.dtype)));
  }
  return t;
}

// A CSV table's columns, in order, fill the model's inputs in order, each taking as many
// columns as its row has elements (e.g. 4 feature columns for x, then the label for y).
Dataset csv_dataset(const std::string &path, const Manifest &manifest) {
  const CsvTable table = read_csv(path);
  std::vector<const TensorSpec *> inputs = manifest.entry_tensors(0, Role::Input);
  int64_t needed = 0;
  std::string layout;
  for (const TensorSpec *in : inputs) {
    needed += int64_t(in->row_numel());
    layout += fmt::format("{}{} column{} for '{}'", layout.empty() ? "" : ", ", in->row_numel(),
                          in->row_numel() == 1 ? "" : "s", in->name);
  }
  if (table.columns != needed)
    throw UserError(
        fmt::format("{}: {} columns, the model's inputs take {} ({})", path, table.columns, needed, layout));
  Dataset data;
  int64_t column = 0;
  for (const TensorSpec *in : inputs) {
    DataTensor t;
    t.name = in->name;
    t.dtype = in->dtype;
    t.shape = in->shape;
    t.shape[0] = table.rows;
    const int64_t width = int64_t(in->row_numel());
    for (int64_t r = 0; r < table.rows; ++r)
      for (int64_t c = column; c < column + width; ++c) {
        const double v = table.values[size_t(r * table.columns + c)];
        if (in->dtype == DType::f32) {
          t.f32.push_back(float(v));
        } else if (v != std::floor(v) || v < std::numeric_limits<int32_t>::min() ||
                   v > std::numeric_limits<int32_t>::max()) {
          throw UserError(fmt::format("{}:{}: column {} ('{}') holds {}, not an integer label", path,
                                      table.lines[size_t(r)], c + 1, in->name, v));
        } else {
          t.i32.push_back(int32_t(v));
        }
      }
    column += width;
    data.tensors.push_back(std::move(t));
  }
  return data;
}

} // namespace

Dataset load_dataset(const std::string &path, const Manifest &manifest) {
  if (ends_with(path, ".csv")) {
    Dataset data = csv_dataset(path, manifest);
    conform_dataset(data, manifest, path);
    return data;
  }
  std::vector<const TensorSpec *> inputs = manifest.entry_tensors(0, Role::Input);
  std::vector<std::string> names;
  for (const TensorSpec *in : inputs)
    names.push_back(in->name);
  std::vector<DataArray> arrays = read_arrays(path, names);
  Dataset data;
  for (size_t i = 0; i < inputs.size(); ++i)
    data.tensors.push_back(to_tensor(arrays[i], *inputs[i], path));
  conform_dataset(data, manifest, path);
  return data;
}

DataSplits open_data(const Manifest &manifest, const std::string &data, uint64_t seed) {
  const DatasetEntry *entry = find_dataset(manifest.train.dataset);
  DataSplits splits;
  if (entry && entry->load && !is_regular_file(data) && !is_npy_list(data)) {
    std::string dir = !data.empty()                      ? data
                      : !manifest.train.data_dir.empty() ? manifest.train.data_dir
                      : entry->default_dir               ? entry->default_dir
                                                         : "";
    if (dir.empty())
      throw UserError(
          fmt::format("dataset '{}' is read from a folder and the model names none; give --data DIR", entry->name));
    return entry->load(dir, manifest);
  }
  splits.train = data.empty() ? make_dataset(manifest, seed) : load_dataset(data, manifest);
  return splits;
}

int64_t training_rows(const std::string &dataset, const std::string &data, const std::string &data_dir,
                      const std::vector<std::string> &inputs) {
  const DatasetEntry *entry = find_dataset(dataset);
  if (!data.empty() && (is_regular_file(data) || is_npy_list(data) || !entry || !entry->rows)) {
    if (ends_with(data, ".csv"))
      return read_csv(data).rows;
    int64_t rows = -1;
    for (const DataArray &a : read_arrays(data, inputs)) {
      if (a.shape.empty())
        throw UserError(fmt::format("{}: tensor '{}' is a scalar, not rows", data, a.name));
      if (rows >= 0 && a.shape[0] != rows)
        throw UserError(fmt::format("{}: tensor '{}' has {} rows, the others {}", data, a.name, a.shape[0], rows));
      rows = a.shape[0];
    }
    return rows;
  }
  if (!entry)
    return -1;
  if (entry->rows) {
    const std::string dir = !data.empty()        ? data
                            : !data_dir.empty()  ? data_dir
                            : entry->default_dir ? entry->default_dir
                                                 : "";
    return dir.empty() ? -1 : entry->rows(dir);
  }
  return entry->make ? entry->make(0).rows() : -1;
}

} // namespace kiln
