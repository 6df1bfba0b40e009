// Epochs, shuffling and batches (contract in kiln/loader.h).
#include "kiln/loader.h"

#include <fmt/format.h>

#include <cstring>
#include <numeric>

#include "kiln/error.h"
#include "kiln/numpy_print.h"
#include "kiln/rng.h"

namespace kiln {

Loader::Loader(const Manifest &manifest, const Dataset &data, const LoaderConfig &config)
    : manifest_(manifest), data_(data), config_(config) {
  const int64_t ranks = config.ranks;
  if (config.batch % ranks != 0)
    throw UserError(fmt::format("the batch of {} rows does not split evenly over {} ranks", config.batch, ranks));
  full_entry_ = manifest.train_entry(config.batch / ranks);
  if (full_entry_ < 0)
    throw UserError(ranks == 1 ? fmt::format("the model has no train entry of batch {}", config.batch)
                               : fmt::format("the model has no train entry of batch {} (a batch of {} over {} "
                                             "ranks)",
                                             config.batch / ranks, config.batch, ranks));
  const int64_t n = data.rows(), r = n % config.batch;
  full_batches_ = n / config.batch;
  if (r == 0)
    return;
  if (!config.drop_last && r % ranks != 0) {
    throw UserError(fmt::format("the data has {} rows: after {} batches of {}, the last {} make a short batch that "
                                "does not split evenly over {} ranks; pass --drop-last to leave those rows out",
                                n, full_batches_, config.batch, r, ranks));
  } else if (config.drop_last) {
    tail_note_ = fmt::format("the last {} of {} rows are dropped each epoch (drop_last)", r, n);
  } else if ((tail_entry_ = manifest.train_entry(r / ranks)) < 0) {
    // PyTorch would train these rows as one short batch; leaving them out silently would not.
    throw UserError(fmt::format("the data has {} rows: after {} batches of {}, the last {} make a short batch, and "
                                "this binary has no step for a batch of {} (it was compiled for other data); "
                                "recompile with `kiln compile --data` naming this data to give it one, or pass "
                                "--drop-last to leave those rows out",
                                n, full_batches_, config.batch, r, r));
  }
}

std::vector<int64_t> Loader::order(int64_t epoch) const {
  std::vector<int64_t> order(size_t(data_.rows()));
  std::iota(order.begin(), order.end(), 0);
  if (!config_.shuffle)
    return order;
  Rng rng(config_.seed, RngStream::Shuffle, uint64_t(epoch));
  for (size_t i = order.size(); i-- > 1;)
    std::swap(order[i], order[size_t(rng.below(i + 1))]);
  return order;
}

std::vector<Batch> Loader::batches(int64_t epoch) const {
  std::vector<int64_t> rows = order(epoch);
  std::vector<Batch> out;
  const size_t b = size_t(config_.batch);
  // This rank's part of rows [begin, end).
  auto part = [&](size_t begin, size_t end) {
    const size_t share = (end - begin) / size_t(config_.ranks), first = begin + share * size_t(config_.rank);
    return std::vector<int64_t>(rows.begin() + int64_t(first), rows.begin() + int64_t(first + share));
  };
  for (int64_t i = 0; i < full_batches_; ++i)
    out.push_back({full_entry_, epoch, i, part(size_t(i) * b, size_t(i + 1) * b)});
  if (tail_entry_ >= 0)
    out.push_back({tail_entry_, epoch, full_batches_, part(size_t(full_batches_) * b, rows.size())});
  return out;
}

void Loader::copy(const Batch &batch, Arena &arena) const {
  copy_rows(manifest_, data_, batch.entry, batch.rows, arena);
}

void copy_rows(const Manifest &manifest, const Dataset &data, int entry, const std::vector<int64_t> &rows,
               Arena &arena) {
  for (const TensorSpec *in : manifest.entry_tensors(entry, Role::Input)) {
    const DataTensor *t = data.find(in->name); // present: conform_dataset checked
    const size_t row_bytes = in->row_numel() * 4;
    uint8_t *dst = arena.at(*in);
    for (size_t i = 0; i < rows.size(); ++i)
      t->copy_row(rows[i], dst + i * row_bytes);
  }
}

std::string format_batch(const Manifest &manifest, const Dataset &data, const Batch &batch) {
  std::string line = fmt::format("Epoch:  {} | Step:  {}", batch.epoch, batch.index);
  for (const TensorSpec *in : manifest.entry_tensors(batch.entry, Role::Input)) {
    const DataTensor *t = data.find(in->name);
    std::vector<int64_t> shape = in->shape;
    shape[0] = int64_t(batch.rows.size());
    const size_t row = t->row_numel();
    std::string text;
    if (t->dtype == DType::i32) {
      std::vector<int32_t> values;
      for (int64_t r : batch.rows)
        values.insert(values.end(), t->i32.begin() + r * row, t->i32.begin() + (r + 1) * row);
      text = numpy_array(values.data(), shape);
    } else {
      std::vector<float> values;
      for (int64_t r : batch.rows)
        for (size_t k = 0; k < row; ++k)
          values.push_back(t->value(uint64_t(r) * row + k));
      text = numpy_array(values.data(), shape);
    }
    line += fmt::format(" | batch {}:  {}", in->name, text);
  }
  return line;
}

} // namespace kiln
