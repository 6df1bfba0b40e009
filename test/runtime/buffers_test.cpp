// Buffers (module state that is not trained: BatchNorm's running statistics): the manifest's
// "buffer" role, their start, and how files hold them (tensor_io.h).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "kiln/arena.h"
#include "kiln/error.h"
#include "kiln/init.h"
#include "kiln/manifest.h"
#include "kiln/safetensors.h"
#include "kiln/tensor_io.h"
#include "test_util.h"

namespace {

using kiln::Manifest;
using testutil::TempDir;

// A BatchNorm's layout: weight and bias that start at 1 and 0, a uniform param beside them,
// and the three buffers.
const char *kManifest = R"({"model": "bn", "arena_bytes": 512,
  "entries": [{"name": "t", "kind": "train", "batch": 2}],
  "tensors": [
    {"name": "w", "role": "param", "dtype": "f32", "shape": [4], "offset": 0, "fan_in": 4},
    {"name": "bn.weight", "role": "param", "dtype": "f32", "shape": [3], "offset": 64, "fan_in": 1, "init": 1.0},
    {"name": "bn.bias", "role": "param", "dtype": "f32", "shape": [3], "offset": 128, "fan_in": 1, "init": 0.0},
    {"name": "bn.running_mean", "role": "buffer", "dtype": "f32", "shape": [3], "offset": 192, "init": 0.0},
    {"name": "bn.running_var", "role": "buffer", "dtype": "f32", "shape": [3], "offset": 256, "init": 1.0},
    {"name": "bn.num_batches_tracked", "role": "buffer", "dtype": "f32", "shape": [], "offset": 320, "init": 0.0,
     "integer": true},
    {"name": "x", "role": "input", "entry": 0, "dtype": "f32", "shape": [2, 3], "offset": 384},
    {"name": "lr", "role": "lr", "entry": 0, "dtype": "f32", "shape": [], "offset": 416},
    {"name": "step", "role": "step", "entry": 0, "dtype": "f32", "shape": [], "offset": 420},
    {"name": "loss", "role": "loss", "entry": 0, "dtype": "f32", "shape": [], "offset": 424}],
  "train": {"dataset": "regression", "steps": 1, "lr": 0.1}})";

std::string with(const std::string &from, const std::string &to) {
  std::string m = kManifest;
  size_t at = m.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos)
    m.replace(at, from.size(), to);
  return m;
}

TEST(Buffers, ParseWithTheirStartAndCounter) {
  Manifest m = kiln::parse_manifest(kManifest);
  EXPECT_EQ(m.find("bn.running_var")->role, kiln::Role::Buffer);
  EXPECT_EQ(m.find("bn.running_var")->init, 1.0);
  EXPECT_TRUE(m.find("bn.num_batches_tracked")->integer);
  EXPECT_EQ(m.find("bn.weight")->init, 1.0);
  EXPECT_FALSE(m.find("w")->init.has_value());
  EXPECT_EQ(
      testutil::manifest_error(with(R"("role": "buffer", "dtype": "f32", "shape": [3], "offset": 192)",
                                    R"("role": "buffer", "entry": 0, "dtype": "f32", "shape": [3], "offset": 192)")),
      "model manifest: tensor 'bn.running_mean': a 'buffer' tensor is shared by every entry and takes no "
      "\"entry\"");
  EXPECT_NE(testutil::manifest_error(with(R"("fan_in": 1, "init": 1.0})", R"("fan_in": 1, "integer": true})"))
                .find("tensor 'bn.weight': \"integer\" is true or false, and only for buffers"),
            std::string::npos);
  EXPECT_NE(testutil::manifest_error(
                with(R"("shape": [2, 3], "offset": 384})", R"("shape": [2, 3], "offset": 384, "init": 2})"))
                .find("tensor 'x' of entry 't': only params and buffers take an \"init\""),
            std::string::npos);
  EXPECT_NE(testutil::manifest_error(with(R"("offset": 256, "init": 1.0})", R"("offset": 256, "init": "one"})"))
                .find("\"init\" must be a number a float holds"),
            std::string::npos);
  EXPECT_NE(testutil::manifest_error(with(R"("offset": 256, "init": 1.0})", R"("offset": 256, "init": 1e300})"))
                .find("\"init\" must be a number a float holds"),
            std::string::npos);
  EXPECT_NE(testutil::manifest_error(with(R"("offset": 320, "init": 0.0,)", R"("offset": 320, "init": 2.5,)"))
                .find("a counting buffer starts at a whole number in [0, 2^24], not 2.5"),
            std::string::npos);
}

// Constant params draw nothing: the uniform one gets what it gets without them. Buffers start
// at their init.
TEST(Buffers, StartAtTheirInitAndDrawNothing) {
  Manifest m = kiln::parse_manifest(kManifest);
  kiln::Arena arena(m.arena_bytes);
  kiln::init_params(m, arena, 7);
  auto values = [&](const char *name) {
    const kiln::TensorSpec *t = m.find(name);
    return std::vector<float>(arena.f32(*t), arena.f32(*t) + t->numel());
  };
  EXPECT_EQ(values("bn.weight"), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(values("bn.bias"), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(values("bn.running_mean"), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(values("bn.running_var"), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(values("bn.num_batches_tracked"), (std::vector<float>{0}));

  Manifest alone = kiln::parse_manifest(R"({"model": "m", "arena_bytes": 128,
      "entries": [{"name": "t", "kind": "train", "batch": 1}],
      "tensors": [
        {"name": "w", "role": "param", "dtype": "f32", "shape": [4], "offset": 0, "fan_in": 4},
        {"name": "x", "role": "input", "entry": 0, "dtype": "f32", "shape": [1], "offset": 64},
        {"name": "lr", "role": "lr", "entry": 0, "dtype": "f32", "shape": [], "offset": 68},
        {"name": "step", "role": "step", "entry": 0, "dtype": "f32", "shape": [], "offset": 72},
        {"name": "loss", "role": "loss", "entry": 0, "dtype": "f32", "shape": [], "offset": 76}],
      "train": {"dataset": "regression", "steps": 1, "lr": 0.1}})");
  kiln::Arena other(alone.arena_bytes);
  kiln::init_params(alone, other, 7);
  EXPECT_EQ(values("w"), std::vector<float>(other.f32(*alone.find("w")), other.f32(*alone.find("w")) + 4));
}

// --save writes params and buffers, the counter as I64; --init reads the counter from I64 (as
// PyTorch saves it) or F32, and refuses one it cannot count exactly.
TEST(Buffers, SavedAndLoadedWithTheParamsTheCounterAsInt64) {
  TempDir dir;
  Manifest m = kiln::parse_manifest(kManifest);
  kiln::Arena arena(m.arena_bytes);
  kiln::init_params(m, arena, 1);
  *arena.f32(*m.find("bn.num_batches_tracked")) = 1200;
  arena.f32(*m.find("bn.running_mean"))[1] = 0.25f;
  kiln::save_tensors(dir / "s.safetensors", m, arena);
  kiln::SafetensorsFile file = kiln::SafetensorsFile::read(dir / "s.safetensors");
  EXPECT_EQ(file.tensors().size(), 6u);
  const kiln::SafetensorsEntry *count = file.find("bn.num_batches_tracked");
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(count->dtype, "I64");
  int64_t n = 0;
  std::memcpy(&n, file.data(*count), 8);
  EXPECT_EQ(n, 1200);

  kiln::Arena loaded(m.arena_bytes);
  kiln::load_tensors(dir / "s.safetensors", m, loaded);
  EXPECT_EQ(std::memcmp(loaded.data(), arena.data(), 384), 0);

  auto write_count = [&](const std::string &dtype, const void *value) {
    std::vector<kiln::SafetensorsTensor> tensors;
    for (const kiln::TensorSpec &t : m.tensors)
      if (t.role == kiln::Role::Param || t.role == kiln::Role::Buffer)
        tensors.push_back({t.name, t.integer ? dtype : "F32", t.shape, t.integer ? value : arena.at(t)});
    kiln::write_safetensors(dir / "c.safetensors", tensors);
  };
  auto load_error = [&]() -> std::string {
    try {
      kiln::load_tensors(dir / "c.safetensors", m, loaded);
    } catch (const kiln::UserError &e) {
      return e.what();
    }
    return "";
  };
  const float f = 17;
  write_count("F32", &f);
  EXPECT_EQ(load_error(), "");
  EXPECT_EQ(*loaded.f32(*m.find("bn.num_batches_tracked")), 17.0f);
  const int64_t most = int64_t(1) << 24;
  write_count("I64", &most);
  EXPECT_EQ(load_error(), "");
  EXPECT_EQ(*loaded.f32(*m.find("bn.num_batches_tracked")), 16777216.0f);
  const int64_t big = int64_t(1) << 30;
  write_count("I64", &big);
  EXPECT_NE(load_error().find("tensor 'bn.num_batches_tracked' holds 1073741824; kiln counts it up to 2^24"),
            std::string::npos);
  const float half = 2.5f;
  write_count("F32", &half);
  EXPECT_NE(load_error().find("holds 2.5, not a count up to 2^24"), std::string::npos);
  EXPECT_EQ(*loaded.f32(*m.find("bn.num_batches_tracked")), 16777216.0f) << "a refused file changes nothing";

  // A count the file could not hold exactly is refused before anything is written.
  *arena.f32(*m.find("bn.num_batches_tracked")) = 2.5f;
  std::string error;
  try {
    kiln::save_tensors(dir / "bad.safetensors", m, arena);
  } catch (const kiln::UserError &e) {
    error = e.what();
  }
  EXPECT_NE(error.find("buffer 'bn.num_batches_tracked' holds 2.5, not a count up to 2^24; nothing was saved"),
            std::string::npos)
      << error;
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.safetensors"));

  std::vector<kiln::SafetensorsTensor> params_only;
  for (const kiln::TensorSpec &t : m.tensors)
    if (t.role == kiln::Role::Param)
      params_only.push_back({t.name, "F32", t.shape, arena.at(t)});
  kiln::write_safetensors(dir / "c.safetensors", params_only);
  EXPECT_NE(load_error().find("bn.running_mean"), std::string::npos) << "a state_dict holds the buffers";
}

} // namespace
