// Training checkpoints (contract in kiln/checkpoint.h).
#include "kiln/checkpoint.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

#include "kiln/contract.h"
#include "kiln/error.h"
#include "kiln/safetensors.h"

namespace kiln {
namespace {

const char *kFormat = "checkpoint";

const std::string &meta(const SafetensorsFile &f, const char *key) {
  auto it = f.metadata().find(key);
  if (it == f.metadata().end())
    throw UserError(
        fmt::format("{}: the checkpoint has no metadata '{}'; it was not written by --checkpoint", f.path(), key));
  return it->second;
}

int64_t meta_int(const SafetensorsFile &f, const char *key) {
  const std::string &v = meta(f, key);
  errno = 0;
  char *end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || errno != 0 || *end != '\0' || n < 0)
    throw UserError(fmt::format("{}: metadata '{}' is '{}', not a non-negative integer", f.path(), key, v));
  return n;
}

bool meta_bool(const SafetensorsFile &f, const char *key) {
  const std::string &v = meta(f, key);
  if (v != "true" && v != "false")
    throw UserError(fmt::format("{}: metadata '{}' is '{}', not true or false", f.path(), key, v));
  return v == "true";
}

const char *on_off(bool b) { return b ? "on" : "off"; }

// What a checkpoint keeps: everything a run carries from step to step.
bool kept(Role role) { return role == Role::Param || role == Role::State || role == Role::Buffer; }

} // namespace

void save_checkpoint(const std::string &path, const Manifest &manifest, const Arena &arena, const RunPosition &pos) {
  std::vector<SafetensorsTensor> tensors;
  for (const TensorSpec &spec : manifest.tensors)
    if (kept(spec.role))
      tensors.push_back({spec.name, safetensors_dtype(spec.dtype), spec.shape, arena.at(spec)});
  std::map<std::string, std::string> metadata = {
      {checkpoint_key::format, kFormat},
      {checkpoint_key::model, pos.model},
      {checkpoint_key::dataset, pos.dataset},
      {checkpoint_key::seed, std::to_string(pos.seed)},
      {checkpoint_key::step, std::to_string(pos.step)},
      {checkpoint_key::epoch, std::to_string(pos.epoch)},
      {checkpoint_key::batch_in_epoch, std::to_string(pos.batch_in_epoch)},
      {checkpoint_key::batches_per_epoch, std::to_string(pos.batches_per_epoch)},
      {checkpoint_key::batch, std::to_string(pos.batch)},
      {checkpoint_key::data_rows, std::to_string(pos.data_rows)},
      {checkpoint_key::shuffle, pos.shuffle ? "true" : "false"},
      {checkpoint_key::drop_last, pos.drop_last ? "true" : "false"},
  };
  write_safetensors(path, tensors, metadata);
}

RunPosition load_checkpoint(const std::string &path, const Manifest &manifest, Arena &arena) {
  SafetensorsFile file = SafetensorsFile::read(path);
  auto format = file.metadata().find(checkpoint_key::format);
  if (format == file.metadata().end() || format->second != kFormat)
    throw UserError(fmt::format("{}: not a training checkpoint ({} is '{}'); --resume takes a file written "
                                "by --checkpoint, --init takes parameters",
                                path, checkpoint_key::format, format == file.metadata().end() ? "" : format->second));
  RunPosition pos;
  pos.model = meta(file, checkpoint_key::model);
  if (pos.model != manifest.model)
    throw UserError(fmt::format("{}: a checkpoint of model '{}', not of '{}'", path, pos.model, manifest.model));
  pos.dataset = meta(file, checkpoint_key::dataset);
  const std::string &seed = meta(file, checkpoint_key::seed);
  char *end = nullptr;
  errno = 0;
  pos.seed = std::strtoull(seed.c_str(), &end, 10);
  if (seed.empty() || seed[0] == '-' || errno != 0 || *end != '\0')
    throw UserError(
        fmt::format("{}: metadata '{}' is '{}', not a non-negative integer", path, checkpoint_key::seed, seed));
  pos.step = meta_int(file, checkpoint_key::step);
  pos.epoch = meta_int(file, checkpoint_key::epoch);
  pos.batch_in_epoch = meta_int(file, checkpoint_key::batch_in_epoch);
  pos.batches_per_epoch = meta_int(file, checkpoint_key::batches_per_epoch);
  pos.batch = meta_int(file, checkpoint_key::batch);
  pos.data_rows = meta_int(file, checkpoint_key::data_rows);
  pos.shuffle = meta_bool(file, checkpoint_key::shuffle);
  pos.drop_last = meta_bool(file, checkpoint_key::drop_last);
  if (pos.batches_per_epoch > 0 ? pos.epoch * pos.batches_per_epoch + pos.batch_in_epoch != pos.step ||
                                      pos.batch_in_epoch >= pos.batches_per_epoch
                                : pos.step != 0)
    throw UserError(fmt::format("{}: inconsistent position: step {} is not batch {} of epoch {} at {} batches per "
                                "epoch",
                                path, pos.step, pos.batch_in_epoch, pos.epoch, pos.batches_per_epoch));

  // Every tensor of the file belongs to the model, and every param, state and buffer is in the file.
  for (const auto &[name, entry] : file.tensors()) {
    const TensorSpec *spec = manifest.find(name);
    if (!spec || !kept(spec->role))
      throw UserError(fmt::format("{}: tensor '{}' is not a parameter, optimizer state or buffer of model '{}'", path,
                                  name, manifest.model));
  }
  std::vector<std::pair<const TensorSpec *, const uint8_t *>> sources;
  for (const TensorSpec &spec : manifest.tensors)
    if (kept(spec.role))
      sources.push_back({&spec, file.expect(spec.name, safetensors_dtype(spec.dtype), spec.shape)});
  for (const auto &[spec, bytes] : sources)
    std::memcpy(arena.at(*spec), bytes, spec->bytes());
  return pos;
}

void check_resumable(const std::string &path, const RunPosition &saved, const RunPosition &now) {
  if (saved.seed != now.seed)
    throw UserError(fmt::format("{}: the checkpoint's run has seed {}, this run seed {}; resuming needs the same "
                                "seed (leave --seed out to take the checkpoint's)",
                                path, saved.seed, now.seed));
  if (saved.shuffle != now.shuffle || saved.drop_last != now.drop_last)
    throw UserError(fmt::format("{}: the checkpoint's run has shuffle {} and drop_last {}, this run shuffle {} and "
                                "drop_last {}; the batches would not continue in the same order",
                                path, on_off(saved.shuffle), on_off(saved.drop_last), on_off(now.shuffle),
                                on_off(now.drop_last)));
  if (saved.data_rows != now.data_rows || saved.batch != now.batch ||
      saved.batches_per_epoch != now.batches_per_epoch || saved.dataset != now.dataset)
    throw UserError(fmt::format("{}: the checkpoint's run trained on {} rows of '{}' in batches of {} ({} per "
                                "epoch), this run on {} rows of '{}' in batches of {} ({} per epoch); the data "
                                "must be the same to continue",
                                path, saved.data_rows, saved.dataset, saved.batch, saved.batches_per_epoch,
                                now.data_rows, now.dataset, now.batch, now.batches_per_epoch));
}

} // namespace kiln
