// Manifest v2 validation, the arena and the seeded init.
#include "kiln/manifest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "fake_model.h"
#include "test_util.h"
#include "kiln/arena.h"
#include "kiln/error.h"
#include "kiln/init.h"
#include "kiln/model_abi.h"

namespace {

using kiln::Manifest;
using kiln::Role;

// The fake model's manifest with one substring replaced, to break exactly one thing.
std::string fake_manifest_with(const std::string &from, const std::string &to) {
  std::string m = kiln_manifest;
  size_t at = m.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos)
    m.replace(at, from.size(), to);
  return m;
}

TEST(Manifest, ParsesTheFakeModel) {
  Manifest m = kiln::parse_manifest(kiln_manifest);
  EXPECT_EQ(m.model, "fake_linear");
  EXPECT_EQ(m.arena_bytes, 2624u);
  ASSERT_EQ(m.entries.size(), 3u);
  EXPECT_EQ(m.entries[0].name, "train_step");
  EXPECT_EQ(m.entries[0].kind, kiln::EntryKind::train);
  EXPECT_EQ(m.entries[1].batch, 4);
  EXPECT_EQ(m.entries[2].kind, kiln::EntryKind::eval);
  EXPECT_EQ(m.tensors.size(), 20u);
  EXPECT_EQ(m.train.dataset, "regression");
  EXPECT_EQ(m.train.task, "regression");
  EXPECT_EQ(m.train.epochs, 25);
  EXPECT_EQ(m.train.steps, 0);
  EXPECT_EQ(m.train.batch, 32);
  EXPECT_TRUE(m.train.shuffle);
  EXPECT_FALSE(m.train.drop_last);
  EXPECT_DOUBLE_EQ(m.train.lr, 0.5);
  EXPECT_EQ(m.train.log_every, 5);
  EXPECT_EQ(m.with_role(Role::Param).size(), 2u);
  EXPECT_EQ(m.find("x"), nullptr) << "x belongs to entries, not to the shared tensors";
  EXPECT_EQ(m.find("x", 1)->shape, (std::vector<int64_t>{4, 1}));
  EXPECT_EQ(m.find("x", 1)->row_shape(), (std::vector<int64_t>{1}));
  EXPECT_EQ(m.find("x", 2)->bytes(), 400u);
  EXPECT_EQ(m.find_role(Role::Loss, 2)->offset, 2560u);
  EXPECT_EQ(m.find_role(Role::Lr, 2), nullptr);
  EXPECT_EQ(m.train_entry(32), 0);
  EXPECT_EQ(m.train_entry(4), 1);
  EXPECT_EQ(m.train_entry(100), -1) << "batch 100 is the eval entry's";
  EXPECT_EQ(m.eval_entry(), 2);
}

TEST(Manifest, TheBuilderMakesTheLinkedLayout) {
  Manifest linked = kiln::parse_manifest(kiln_manifest), built = kiln::parse_manifest(fake::manifest({}));
  ASSERT_EQ(linked.tensors.size(), built.tensors.size());
  EXPECT_EQ(linked.arena_bytes, built.arena_bytes);
  for (size_t i = 0; i < linked.tensors.size(); ++i) {
    EXPECT_EQ(linked.tensors[i].name, built.tensors[i].name);
    EXPECT_EQ(linked.tensors[i].offset, built.tensors[i].offset) << linked.tensors[i].name;
    EXPECT_EQ(linked.tensors[i].entry, built.tensors[i].entry);
    EXPECT_EQ(linked.tensors[i].shape, built.tensors[i].shape);
  }
}

TEST(Manifest, ParsesI32Labels) {
  Manifest m = kiln::parse_manifest(fake::manifest(fake::classifier_spec()));
  EXPECT_EQ(m.find("y", 0)->dtype, kiln::DType::i32);
  EXPECT_EQ(m.find("y", 0)->shape, (std::vector<int64_t>{200}));
  EXPECT_EQ(m.find("y", 0)->bytes(), 800u);
  EXPECT_STREQ(kiln::safetensors_dtype(kiln::DType::i32), "I32");
  EXPECT_STREQ(kiln::dtype_name(kiln::DType::i32), "i32");
  EXPECT_EQ(m.train.task, "classification");
}

// Each entry may name the kernel of each call, for --kernel-times.
TEST(Manifest, ReadsTheKernelsOfAnEntry) {
  Manifest m = kiln::parse_manifest(fake_manifest_with(
      "\"kind\": \"train\", \"batch\": 4", "\"kind\": \"train\", \"batch\": 4, \"kernels\": [\"kiln_a\", \"kiln_b\"]"));
  EXPECT_EQ(m.entries[1].kernels, (std::vector<std::string>{"kiln_a", "kiln_b"}));
  EXPECT_TRUE(m.entries[0].kernels.empty());
  m = kiln::parse_manifest(fake_manifest_with(
      "\"kind\": \"train\", \"batch\": 4", "\"kind\": \"train\", \"batch\": 4, \"kernel_work\": [[10, 20], [0, 5]]"));
  ASSERT_EQ(m.entries[1].kernel_work.size(), 2u);
  EXPECT_EQ(m.entries[1].kernel_work[0].flops, 10);
  EXPECT_EQ(m.entries[1].kernel_work[1].bytes, 5);
}

TEST(Manifest, RefusesBrokenManifests) {
  const std::string eval_loss =
      R"({"name": "loss", "role": "loss", "entry": 2, "dtype": "f32", "shape": [], "offset": 2560})";
  struct Case {
    std::string text, message;
  } cases[] = {
      {"{not json", "not valid JSON"},
      {fake_manifest_with("\"offset\": 2112", "\"offset\": 2300"),
       "tensor 'prediction' of entry 'eval': offset 2300 + 400 bytes lies outside the arena of 2624 bytes"},
      {fake_manifest_with("\"role\": \"output\"", "\"role\": \"result\""),
       "tensor 'prediction': unknown role 'result'"},
      {fake_manifest_with("\"dtype\": \"f32\", \"shape\": [32, 1], \"offset\": 256",
                          "\"dtype\": \"f64\", \"shape\": [32, 1], \"offset\": 256"),
       "tensor 'x' of entry 'train_step': dtype 'f64' is not supported"},
      {fake_manifest_with("\"role\": \"lr\", \"entry\": 0, \"dtype\": \"f32\"",
                          "\"role\": \"lr\", \"entry\": 0, \"dtype\": \"i32\""),
       "tensor 'lr' of entry 'train_step': a 'lr' tensor must be f32, not i32"},
      {fake_manifest_with(", \"fan_in\": 1}", "}"), "tensor 'fc.weight': missing \"fan_in\""},
      {fake_manifest_with("\"offset\": 64", "\"offset\": 66"), "tensor 'fc.bias': offset 66 is not 4-byte aligned"},
      {fake_manifest_with("\"shape\": [], \"offset\": 640", "\"shape\": [2], \"offset\": 640"),
       "tensor 'lr' of entry 'train_step': a 'lr' tensor must hold one value"},
      {fake_manifest_with("\"name\": \"y\", \"role\": \"input\", \"entry\": 1",
                          "\"name\": \"x\", \"role\": \"input\", \"entry\": 1"),
       "tensor 'x' appears twice in entry 'train_step_tail'"},
      {fake_manifest_with("\"name\": \"fc.bias\"", "\"name\": \"fc.weight\""), "tensor 'fc.weight' appears twice"},
      {fake_manifest_with("\"name\": \"prediction\", \"role\": \"output\", \"entry\": 0",
                          "\"name\": \"fc.bias\", \"role\": \"output\", \"entry\": 0"),
       "tensor 'fc.bias' of entry 'train_step' has the name of a shared tensor"},
      // Entries.
      {fake_manifest_with("\"entries\"", "\"entrees\""), "top level: missing \"entries\""},
      {fake_manifest_with("\"kind\": \"eval\"", "\"kind\": \"infer\""), "entry 'eval': unknown kind 'infer'"},
      {fake_manifest_with("\"batch\": 4}", "\"batch\": 0}"),
       "entry 'train_step_tail': \"batch\" must be a positive integer"},
      {fake_manifest_with("\"name\": \"train_step_tail\"", "\"name\": \"train_step\""),
       "entry 'train_step' appears twice"},
      {fake_manifest_with("\"kind\": \"train\", \"batch\": 4", "\"kind\": \"train\", \"batch\": 4, \"kernels\": \"k\""),
       "entry 'train_step_tail': \"kernels\" must be an array of names"},
      {fake_manifest_with("\"kind\": \"train\", \"batch\": 4",
                          "\"kind\": \"train\", \"batch\": 4, \"kernels\": [\"k\", 2]"),
       "entry 'train_step_tail': \"kernels\" must be an array of names"},
      {fake_manifest_with("\"kind\": \"train\", \"batch\": 4",
                          "\"kind\": \"train\", \"batch\": 4, \"kernel_work\": [[1, -2]]"),
       "entry 'train_step_tail': \"kernel_work\" must be an array of [FLOPs, bytes] pairs of non-negative integers"},
      {fake_manifest_with("\"kind\": \"train\", \"batch\": 4", "\"kind\": \"train\", \"batch\": 4, \"kernel_work\": 3"),
       "entry 'train_step_tail': \"kernel_work\" must be an array of [FLOPs, bytes] pairs of non-negative integers"},
      {fake_manifest_with("\"role\": \"lr\", \"entry\": 1", "\"role\": \"lr\", \"entry\": 7"),
       "tensor 'lr': \"entry\" 7 is not an index into the 3 entries"},
      {fake_manifest_with("\"role\": \"state\"", "\"role\": \"state\", \"entry\": 0"),
       "a 'state' tensor is shared by every entry and takes no \"entry\""},
      {fake_manifest_with("\"role\": \"loss\", \"entry\": 0, ", "\"role\": \"loss\", "),
       "tensor 'loss': a 'loss' tensor needs an \"entry\""},
      // Batch dimensions.
      {fake_manifest_with("\"shape\": [4, 1], \"offset\": 832", "\"shape\": [5, 1], \"offset\": 832"),
       "tensor 'x' of entry 'train_step_tail': shape [5, 1] must start with the entry's batch 4"},
      {fake_manifest_with("\"shape\": [100, 1], \"offset\": 2112", "\"shape\": [], \"offset\": 2112"),
       "tensor 'prediction' of entry 'eval': shape [] must start with the entry's batch 100"},
      {fake_manifest_with("\"shape\": [4, 1], \"offset\": 896", "\"shape\": [4, 2], \"offset\": 896"),
       "input 'y' of entry 'train_step_tail' is f32 with rows [2], but f32 with rows [1] in entry 'train_step'"},
      {fake_manifest_with("\"name\": \"y\", \"role\": \"input\", \"entry\": 2",
                          "\"name\": \"z\", \"role\": \"input\", \"entry\": 2"),
       "entry 'eval' has no input 'y'"},
      // Roles per entry.
      {fake_manifest_with("\"role\": \"step\", \"entry\": 1", "\"role\": \"lr\", \"entry\": 1"),
       "entry 'train_step_tail' (train) has 2 tensors of role 'lr', it needs exactly one"},
      {fake_manifest_with("\"role\": \"loss\", \"entry\": 0", "\"role\": \"lr\", \"entry\": 0"),
       "entry 'train_step' (train) has 0 tensors of role 'loss', it needs exactly one"},
      {fake_manifest_with(
           eval_loss,
           eval_loss + R"(, {"name": "lr", "role": "lr", "entry": 2, "dtype": "f32", "shape": [], "offset": 2560})"),
       "entry 'eval' (eval) has 1 tensors of role 'lr', it needs none"},
      {fake_manifest_with(
           eval_loss, R"({"name": "loss", "role": "step", "entry": 2, "dtype": "f32", "shape": [], "offset": 2560})"),
       "entry 'eval' (eval) has 0 tensors of role 'loss', it needs exactly one"},
      {fake_manifest_with("\"kind\": \"eval\", \"batch\": 100", "\"kind\": \"train\", \"batch\": 100"),
       "entry 'eval' (train) has 0 tensors of role 'lr'"},
      {fake_manifest_with("\"kind\": \"train\", \"batch\": 4", "\"kind\": \"eval\", \"batch\": 4"),
       "entry 'train_step_tail' (eval) has 1 tensors of role 'lr', it needs none"},
      {fake::manifest({"m", false, {{"a", "train", 8}, {"b", "train", 8}}}),
       "entry 'b' and entry 'a' are both train entries of batch 8"},
      {fake::manifest({"m", false, {{"a", "train", 8}, {"e1", "eval", 8}, {"e2", "eval", 4}}}),
       "2 eval entries; at most one is supported"},
      {fake::manifest({"m", false, {{"e", "eval", 8}}}), "no entry has kind 'train'"},
      // The generator's key.
      {fake_manifest_with(
           eval_loss,
           eval_loss +
               R"(, {"name": "random", "role": "random", "entry": 0, "dtype": "f32", "shape": [4], "offset": 2560})"),
       "tensor 'random' of entry 'train_step': a 'random' tensor must be i32, not f32"},
      {fake_manifest_with(
           eval_loss,
           eval_loss +
               R"(, {"name": "random", "role": "random", "entry": 0, "dtype": "i32", "shape": [2], "offset": 2560})"),
       "a 'random' tensor holds the generator's key, shape [4], not [2]"},
      {fake_manifest_with(
           eval_loss,
           eval_loss +
               R"(, {"name": "random", "role": "random", "entry": 2, "dtype": "i32", "shape": [4], "offset": 2560})"),
       "entry 'eval' (eval) has 1 tensors of role 'random', it needs none"},
      {fake_manifest_with(
           eval_loss,
           eval_loss +
               R"(, {"name": "random", "role": "random", "entry": 0, "dtype": "i32", "shape": [4], "offset": 2560}, {"name": "key", "role": "random", "entry": 0, "dtype": "i32", "shape": [4], "offset": 2560})"),
       "entry 'train_step' (train) has 2 tensors of role 'random', it needs at most one"},
      // Training defaults.
      {fake_manifest_with("\"batch\": 32,\n", "\"batch\": 16,\n"),
       "\"train\": \"batch\" 16 is not the batch of any train entry"},
      {fake_manifest_with("\"epochs\": 25", "\"epochs\": 0"), "\"epochs\" and \"steps\" are both 0"},
      {fake_manifest_with("\"epochs\": 25", "\"epochs\": -1"), "\"epochs\" must be a non-negative integer"},
      {fake_manifest_with("\"shuffle\": true", "\"shuffle\": 1"), "\"shuffle\" must be true or false"},
      {fake_manifest_with("\"task\": \"regression\"", "\"task\": \"segmentation\""), "unknown task 'segmentation'"},
  };
  for (const Case &c : cases) {
    std::string err = testutil::manifest_error(c.text);
    EXPECT_EQ(err.rfind("model manifest: ", 0), 0u) << "expected: " << c.message << "\n got: " << err;
    EXPECT_NE(err.find(c.message), std::string::npos) << "expected: " << c.message << "\n got: " << err;
  }
}

TEST(Manifest, TrainBatchDefaultsToTheFirstTrainEntry) {
  fake::Spec spec;
  spec.train = R"("dataset": "regression", "lr": 0.1)";
  Manifest m = kiln::parse_manifest(fake::manifest(spec));
  EXPECT_EQ(m.train.batch, 32);
  EXPECT_EQ(m.train.epochs, 1);
  EXPECT_FALSE(m.train.shuffle);
  EXPECT_EQ(m.train.task, "regression");
}

TEST(Arena, IsAlignedAndZeroed) {
  kiln::Arena arena(1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(arena.data()) % 64, 0u);
  for (uint64_t i = 0; i < arena.size(); ++i)
    ASSERT_EQ(arena.data()[i], 0) << i;
}

TEST(Init, IsSeededReproducibleAndWithinBounds) {
  // A wider layer than the fake's, so the bound 1/sqrt(fan_in) is not 1 and many values are drawn.
  Manifest m = kiln::parse_manifest(R"({"model": "m", "arena_bytes": 2048,
      "entries": [{"name": "t", "kind": "train", "batch": 1}],
      "tensors": [
        {"name": "w", "role": "param", "dtype": "f32", "shape": [10, 16], "offset": 0, "fan_in": 16},
        {"name": "b", "role": "param", "dtype": "f32", "shape": [10], "offset": 640, "fan_in": 16},
        {"name": "s", "role": "state", "dtype": "f32", "shape": [10], "offset": 704},
        {"name": "x", "role": "input", "entry": 0, "dtype": "f32", "shape": [1], "offset": 768},
        {"name": "lr", "role": "lr", "entry": 0, "dtype": "f32", "shape": [], "offset": 772},
        {"name": "step", "role": "step", "entry": 0, "dtype": "f32", "shape": [], "offset": 776},
        {"name": "loss", "role": "loss", "entry": 0, "dtype": "f32", "shape": [], "offset": 780}],
      "train": {"dataset": "regression", "steps": 1, "lr": 0.1}})");
  auto init = [&](uint64_t seed) {
    kiln::Arena arena(m.arena_bytes);
    kiln::init_params(m, arena, seed);
    return std::vector<float>(arena.f32(*m.find("w")), arena.f32(*m.find("w")) + 170); // w then b
  };
  std::vector<float> a = init(0), b = init(0), c = init(1);
  EXPECT_EQ(a, b) << "same seed, same weights";
  EXPECT_NE(a, c) << "another seed, other weights";

  const float bound = 0.25f; // 1/sqrt(16)
  float lo = 1, hi = -1;
  double mean = 0;
  for (size_t i = 0; i < 160; ++i) {
    ASSERT_GE(a[i], -bound);
    ASSERT_LE(a[i], bound);
    lo = std::min(lo, a[i]), hi = std::max(hi, a[i]), mean += a[i] / 160.0;
  }
  // 160 uniform draws: the extremes come near the bounds and the mean near 0.
  EXPECT_LT(lo, -0.2f);
  EXPECT_GT(hi, 0.2f);
  EXPECT_LT(std::fabs(mean), 0.06);

  kiln::Arena arena(m.arena_bytes);
  kiln::init_params(m, arena, 0);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(arena.f32(*m.find("s"))[i], 0.0f) << "state stays zero";
  for (int i = 0; i < 10; ++i) {
    EXPECT_NE(arena.f32(*m.find("b"))[i], 0.0f);
    EXPECT_LE(std::fabs(arena.f32(*m.find("b"))[i]), bound);
  }
}

} // namespace
