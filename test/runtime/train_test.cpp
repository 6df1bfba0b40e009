// The whole runtime around the fake models: epochs and steps, which entry runs which batch,
// metrics, console, evaluation and accuracy, --steps 0, --predictions, failures and pictures.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "fake_model.h"
#include "kiln/datasets.h"
#include "kiln/error.h"
#include "kiln/plot.h"
#include "kiln/safetensors.h"
#include "kiln/train.h"
#include "test_util.h"

namespace {

using testutil::metrics_lines;
using testutil::RunResult;
using testutil::TempDir;

// The lowest MSE a line w*x + b can reach on (x, y): where the fake model's SGD heads.
double least_squares_loss(const std::vector<float> &x, const std::vector<float> &y) {
  double n = double(x.size()), sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < x.size(); ++i)
    sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
  double w = (n * sxy - sx * sy) / (n * sxx - sx * sx), b = (sy - w * sx) / n, loss = 0;
  for (size_t i = 0; i < x.size(); ++i)
    loss += std::pow(w * x[i] + b - y[i], 2) / n;
  return loss;
}

// SVG text as PLplot writes it: every character as a reference ("fa" is "&#x66;&#x61;").
std::string svg_text(const std::string &s) {
  std::string out;
  for (char c : s)
    out += fmt::format("&#x{:x};", int(c));
  return out;
}

std::vector<int> entries_run() {
  std::vector<int> out;
  for (const fake::Call &c : fake::calls)
    out.push_back(c.entry);
  return out;
}

TEST(Train, EpochsOfFullAndTailBatchesThenEval) {
  TempDir dir;
  RunResult r = testutil::run(fake::model(), {"--metrics", dir / "m.jsonl", "--output", "none", "--lr", "0.1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");

  // 25 epochs of 100 rows: three batches of 32 (entry 0), one of 4 (entry 1); then eval (entry 2).
  std::vector<int> expected;
  for (int e = 0; e < 25; ++e)
    expected.insert(expected.end(), {0, 0, 0, 1});
  expected.push_back(2);
  EXPECT_EQ(entries_run(), expected);
  for (size_t t = 0; t < 100; ++t)
    ASSERT_EQ(fake::calls[t].step, float(t + 1)) << "the global step, across epochs";
  EXPECT_EQ(fake::calls.back().x, kiln::make_regression(0).find("x")->f32) << "eval sees the data in order";

  std::vector<nlohmann::json> lines = metrics_lines(dir / "m.jsonl");
  ASSERT_EQ(lines.size(), 101u);
  for (size_t i = 0; i < 100; ++i) {
    ASSERT_EQ(lines[i]["step"].get<int64_t>(), int64_t(i + 1));
    ASSERT_EQ(lines[i]["epoch"].get<int64_t>(), int64_t(i / 4));
    ASSERT_TRUE(lines[i]["loss"].is_number());
    ASSERT_GE(lines[i]["step_ms"].get<double>(), 0.0);
    ASSERT_NEAR(lines[i]["lr"].get<double>(), 0.1, 1e-12);
  }
  const nlohmann::json &final_line = lines.back();
  EXPECT_TRUE(final_line["final"].get<bool>());
  EXPECT_EQ(final_line["step"].get<int64_t>(), 100);
  EXPECT_FALSE(final_line.contains("accuracy")) << "a regression has no accuracy";
  kiln::Dataset d = kiln::make_regression(0);
  double best = least_squares_loss(d.find("x")->f32, d.find("y")->f32);
  EXPECT_GE(final_line["eval_loss"].get<double>(), best - 1e-7);
  EXPECT_LT(final_line["eval_loss"].get<double>(), best * 1.05) << "SGD should be near the best line";

  // Console: step 1, every 5th, the last, the summary, the eval.
  EXPECT_EQ(r.out.rfind("step   1  loss ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nstep   5  loss "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\nstep   6  loss "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nstep 100  loss "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nfinal loss "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" after 100 steps, median step "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(fmt::format("\nfull-data loss {:.6f}\n", final_line["eval_loss"].get<double>())),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\npeak memory "), std::string::npos) << r.out;
  EXPECT_EQ(testutil::count_lines(r.out), 1u + 20u + 1u + 1u + 1u) << r.out;
}

TEST(Train, StepsOverrideEpochsAndEpochsOverrideTheModel) {
  RunResult r = testutil::run(fake::model(), {"--steps", "7", "--output", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(entries_run(), (std::vector<int>{0, 0, 0, 1, 0, 0, 0, 2})) << "the last epoch is cut short";

  r = testutil::run(fake::model(), {"--epochs", "2", "--output", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(entries_run(), (std::vector<int>{0, 0, 0, 1, 0, 0, 0, 1, 2}));

  r = testutil::run(fake::model(), {"--epochs", "2", "--steps", "3", "--output", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(entries_run(), (std::vector<int>{0, 0, 0, 2})) << "--steps wins over --epochs";

  // A model whose manifest gives steps: they override its epochs, --epochs overrides them.
  fake::Spec spec;
  spec.train = R"("dataset": "regression", "epochs": 9, "steps": 2, "batch": 32, "lr": 0.1)";
  r = testutil::run(fake::model_with_manifest(fake::manifest(spec)), {"--output", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(entries_run(), (std::vector<int>{0, 0, 2}));
  r = testutil::run(fake::model_with_manifest(fake::manifest(spec)), {"--epochs", "1", "--output", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(entries_run(), (std::vector<int>{0, 0, 0, 1, 2}));
}

TEST(Train, DropLastAndShuffleFlags) {
  RunResult r = testutil::run(fake::model(), {"--epochs", "2", "--drop-last", "--output", "none"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(entries_run(), (std::vector<int>{0, 0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(r.out.rfind("note: the last 4 of 100 rows are dropped each epoch (drop_last)\n", 0), 0u) << r.out;

  const std::vector<float> x = kiln::make_regression(0).find("x")->f32;
  r = testutil::run(fake::model(), {"--epochs", "2", "--shuffle", "off", "--output", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (size_t s = 0; s < 8; ++s) {
    size_t begin = (s % 4) * 32, end = std::min<size_t>(begin + 32, 100);
    EXPECT_EQ(fake::calls[s].x, std::vector<float>(x.begin() + long(begin), x.begin() + long(end))) << s;
  }

  r = testutil::run(fake::model(), {"--epochs", "1", "--output", "none", "--quiet"}); // the model says shuffle
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(fake::calls[0].x, std::vector<float>(x.begin(), x.begin() + 32));
  std::vector<float> seen;
  for (size_t s = 0; s < 4; ++s)
    seen.insert(seen.end(), fake::calls[s].x.begin(), fake::calls[s].x.end());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, x) << "each row once per epoch";

  r = testutil::run(fake::model(), {"--shuffle", "maybe"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: invalid value 'maybe' for --shuffle: expected on or off (see --help)\n");
}

TEST(Train, SameSeedSameRunAndFlagsApply) {
  TempDir dir;
  auto losses = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--metrics", dir / "m.jsonl", "--output", "none", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = testutil::run(fake::model(), args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "") << "--quiet prints nothing";
    std::vector<double> out;
    for (const auto &j : metrics_lines(dir / "m.jsonl"))
      if (j.contains("loss"))
        out.push_back(j["loss"]);
    return out;
  };
  std::vector<double> a = losses({"--steps", "7", "--seed", "3"});
  EXPECT_EQ(a.size(), 7u);
  EXPECT_EQ(a, losses({"--steps", "7", "--seed", "3"}));
  EXPECT_NE(a, losses({"--steps", "7", "--seed", "4"}));
  std::vector<double> slow = losses({"--steps", "7", "--seed", "3", "--lr", "0.01"});
  EXPECT_EQ(slow[0], a[0]) << "the first loss is computed before any update";
  EXPECT_NE(slow[6], a[6]);
}

// A step that draws random numbers gets (seed low, seed high, t, rank) before every run (seed
// 4886718345 = 0x1_23456789): the
// masks follow the seed and the step, in the tail's step too.
TEST(Train, TheGeneratorKeyIsTheSeedAndTheStep) {
  fake::Spec spec;
  spec.random = true;
  RunResult r = testutil::run(fake::model_with_manifest(fake::manifest(spec)),
                              {"--steps", "5", "--seed", "4886718345", "--output", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::vector<int32_t>> keys;
  for (const fake::Call &c : fake::calls)
    if (c.entry != 2)
      keys.push_back(c.key);
  ASSERT_EQ(keys.size(), 5u);
  for (int t = 1; t <= 5; ++t)
    EXPECT_EQ(keys[size_t(t - 1)], (std::vector<int32_t>{0x23456789, 0x1, t, 0})) << "step " << t;
}

// A data-parallel rank writes its own number into the key, so that ranks draw their own masks.
TEST(Train, TheGeneratorKeyHoldsTheRank) {
  fake::Spec spec;
  spec.random = true;
  kiln::ModelAbi model = fake::model_with_manifest(fake::manifest(spec));
  kiln::Manifest manifest = kiln::parse_manifest(model.manifest);
  kiln::Arena arena(manifest.arena_bytes);
  ASSERT_EQ(model.bind(arena.data()), 0);
  kiln::Dataset data = kiln::make_dataset(manifest, 1);
  kiln::LoaderConfig config;
  config.batch = manifest.train.batch;
  kiln::Loader loader(manifest, data, config);
  kiln::TrainSettings settings;
  settings.steps = 2;
  settings.seed = 9;
  settings.rank = 3;
  settings.quiet = true;
  kiln::MetricsWriter metrics;
  kiln::train(model, manifest, arena, data, loader, settings, metrics);
  ASSERT_EQ(fake::calls.size(), 2u);
  EXPECT_EQ(fake::calls[1].key, (std::vector<int32_t>{9, 0, 2, 3}));
}

TEST(Train, TheRecordOfStepsStaysBoundedAndEvenlySpaced) {
  // --steps 2^62 asks for more steps than memory could record one by one.
  kiln::TrainResult result;
  result.first_step = 11;
  const int64_t steps = 3 * int64_t(kiln::TrainResult::kMaxRecords) + 5;
  for (int64_t i = 0; i < steps; ++i)
    result.record(float(result.first_step + i), double(i % 7));
  EXPECT_EQ(result.stride, 4);
  EXPECT_LE(result.losses.size(), kiln::TrainResult::kMaxRecords);
  ASSERT_EQ(result.losses.size(), result.step_ms.size());
  EXPECT_EQ(result.losses.size(), size_t((steps + result.stride - 1) / result.stride));
  for (size_t i = 0; i < result.losses.size(); i += 9973)
    EXPECT_EQ(result.losses[i], float(result.first_step + int64_t(i) * result.stride)) << i;
  EXPECT_EQ(result.final_loss(), float(result.first_step + steps - 1));
  EXPECT_EQ(result.steps_run, steps);
}

TEST(Train, StepsZeroOnlyEvaluates) {
  TempDir dir;
  RunResult r = testutil::run(fake::model(), {"--steps", "0", "--metrics", dir / "m.jsonl", "--output", dir / "p.svg"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(entries_run(), (std::vector<int>{2}));
  EXPECT_EQ(r.out.find("step "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("final loss"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.rfind("full-data loss ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("wrote " + dir / "p.svg"), std::string::npos) << r.out;
  std::vector<nlohmann::json> lines = metrics_lines(dir / "m.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["step"].get<int64_t>(), 0);
  EXPECT_TRUE(lines[0]["final"].get<bool>());

  r = testutil::run(fake::model(), {"--epochs", "0", "--output", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(entries_run(), (std::vector<int>{2}));
}

TEST(Train, EvalSkipsPartialChunksWithANote) {
  fake::Spec spec;
  spec.entries = {{"train_step", "train", 32}, {"train_step_tail", "train", 4}, {"eval", "eval", 30}};
  RunResult r = testutil::run(fake::model_with_manifest(fake::manifest(spec)), {"--steps", "0", "--output", "none"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(entries_run(), (std::vector<int>{2, 2, 2}));
  const std::vector<float> x = kiln::make_regression(0).find("x")->f32;
  for (size_t c = 0; c < 3; ++c)
    EXPECT_EQ(fake::calls[c].x, std::vector<float>(x.begin() + long(30 * c), x.begin() + long(30 * c + 30)));
  EXPECT_EQ(
      r.out.rfind("note: evaluation skips the last 10 of 100 rows (100 is not a multiple of the eval batch 30)\n", 0),
      0u)
      << r.out;
}

TEST(Train, ClassificationReportsAccuracy) {
  TempDir dir;
  RunResult r = testutil::run(
      fake::classifier(), {"--metrics", dir / "m.jsonl", "--output", dir / "c.svg", "--predictions", dir / "p.csv"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::vector<nlohmann::json> lines = metrics_lines(dir / "m.jsonl");
  ASSERT_EQ(lines.size(), 101u);
  double accuracy = lines.back()["accuracy"].get<double>();
  EXPECT_GE(accuracy, 0.95) << "two clusters 4 std apart are easy";

  // The accuracy is argmax(logits) against the labels, as the predictions file shows.
  std::vector<std::vector<std::string>> csv = testutil::read_csv(dir / "p.csv");
  ASSERT_EQ(csv.size(), 201u);
  EXPECT_EQ(csv[0], (std::vector<std::string>{"x_0", "x_1", "y", "logits_0", "logits_1", "predicted_class"}));
  kiln::Dataset d = kiln::make_classification(0);
  int correct = 0;
  for (size_t i = 0; i < 200; ++i) {
    const std::vector<std::string> &row = csv[i + 1];
    ASSERT_EQ(row.size(), 6u);
    EXPECT_EQ(std::stof(row[0]), d.find("x")->f32[2 * i]);
    EXPECT_EQ(std::stoi(row[2]), d.find("y")->i32[i]);
    int predicted = std::stof(row[4]) > std::stof(row[3]) ? 1 : 0;
    EXPECT_EQ(std::stoi(row[5]), predicted);
    correct += predicted == d.find("y")->i32[i];
  }
  EXPECT_DOUBLE_EQ(accuracy, correct / 200.0);
  EXPECT_NE(r.out.find(fmt::format("\naccuracy {:.3f} ({}/200)\n", correct / 200.0, correct)), std::string::npos)
      << r.out;

  std::string svg = testutil::read_file(dir / "c.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find(svg_text(fmt::format("fake_classifier: accuracy {:.3f}", correct / 200.0))), std::string::npos);
}

TEST(Train, ArgmaxTakesTheFirstMaximum) {
  // Zero weights: every logit ties, so every prediction is class 0 (torch.argmax's first maximum).
  TempDir dir;
  std::string init = dir / "zero.safetensors";
  const float zeros[4] = {0, 0, 0, 0};
  kiln::write_safetensors(init, {{"fc.weight", "F32", {2, 2}, zeros}, {"fc.bias", "F32", {2}, zeros}});
  RunResult r = testutil::run(fake::classifier(), {"--steps", "0", "--init", init, "--output", "none"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\naccuracy 0.500 (100/200)\n"), std::string::npos) << r.out;
}

TEST(Train, PredictionsMatchTheSavedParameters) {
  TempDir dir;
  RunResult r = testutil::run(fake::model(), {"--steps", "10", "--save", dir / "p.safetensors", "--predictions",
                                              dir / "p.csv", "--output", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  kiln::SafetensorsFile saved = kiln::SafetensorsFile::read(dir / "p.safetensors");
  float w, b;
  std::memcpy(&w, saved.expect("fc.weight", "F32", {1, 1}), 4);
  std::memcpy(&b, saved.expect("fc.bias", "F32", {1}), 4);
  std::vector<std::vector<std::string>> csv = testutil::read_csv(dir / "p.csv");
  ASSERT_EQ(csv.size(), 101u);
  EXPECT_EQ(csv[0], (std::vector<std::string>{"x", "y", "prediction"}));
  for (size_t i = 1; i < csv.size(); ++i)
    EXPECT_EQ(std::stof(csv[i][2]), w * std::stof(csv[i][0]) + b) << i;

  fake::Spec no_eval;
  no_eval.entries = {{"train_step", "train", 32}};
  r = testutil::run(fake::model_with_manifest(fake::manifest(no_eval)),
                    {"--predictions", dir / "q.csv", "--output", "none"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: --predictions needs an eval entry, and model 'fake_linear' has none\n");
  EXPECT_EQ(r.out, "");
}

TEST(Train, DataFilesOfAnySize) {
  TempDir dir;
  // 50 rows on an exact line: one batch of 32 and 18 rows left, for which the binary has no
  // step. It refuses before training, saying how to fix it, and --drop-last leaves them out.
  std::vector<float> x = kiln::linspace(-1, 1, 50), y(50);
  for (size_t i = 0; i < 50; ++i)
    y[i] = 3 * x[i] + 1;
  std::string data = dir / "d.safetensors";
  kiln::write_safetensors(data, {{"x", "F32", {50, 1}, x.data()}, {"y", "F32", {50, 1}, y.data()}});
  RunResult r = testutil::run(fake::model(), {"--data", data, "--epochs", "2", "--output", "none", "--shuffle", "off"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "error: the data has 50 rows: after 1 batches of 32, the last 18 make a short batch, and this binary "
            "has no step for a batch of 18 (it was compiled for other data); recompile with `kiln compile "
            "--data` naming this data to give it one, or pass --drop-last to leave those rows out\n");
  EXPECT_TRUE(entries_run().empty());
  r = testutil::run(fake::model(),
                    {"--data", data, "--epochs", "2", "--output", "none", "--shuffle", "off", "--drop-last"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(entries_run(), (std::vector<int>{0, 0}));
  EXPECT_EQ(r.out.rfind("note: the last 18 of 50 rows are dropped each epoch (drop_last)\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("note: evaluation skips the last 50 of 50 rows"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("full-data loss"), std::string::npos) << r.out;

  // Fewer rows than a batch and no entry for them: nothing could train.
  kiln::write_safetensors(data, {{"x", "F32", {20, 1}, x.data()}, {"y", "F32", {20, 1}, y.data()}});
  r = testutil::run(fake::model(), {"--data", data, "--output", "none", "--drop-last"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: the dataset's 20 rows make no batch of 32 (the last 20 of 20 rows are dropped each epoch "
                   "(drop_last)); nothing can train\n");
}

TEST(Train, FailuresAreUserErrors) {
  RunResult r = testutil::run(fake::model_with_manifest("{\"model\": 3}"), {"--output", "none"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("error: model manifest: ", 0), 0u) << r.err;

  fake::fail_at_step = 4;
  r = testutil::run(fake::model(), {"--output", "none"});
  fake::fail_at_step = 0;
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: training step 4 (entry 'train_step_tail') failed with error code -7\n");

  fake::fail_eval = true;
  r = testutil::run(fake::model(), {"--steps", "0", "--output", "none"});
  fake::fail_eval = false;
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: evaluation of rows 0..99 (entry 'eval') failed with error code -7\n");

  TempDir dir;
  r = testutil::run(fake::model(), {"--metrics", dir / "no/such/dir/m.jsonl", "--output", "none"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot open for metrics"), std::string::npos) << r.err;
  for (const char *flag : {"--save", "--save-net", "--predictions"}) {
    r = testutil::run(fake::model(), {flag, dir / "no/such/dir/f", "--output", "none"});
    EXPECT_EQ(r.code, 1) << flag;
    EXPECT_NE(r.err.find("not writable"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << "a path that cannot be written is refused before training";
  }
}

TEST(Train, DivergenceStopsTheRunByDefault) {
  TempDir dir;
  std::string saved = dir / "p.safetensors";
  RunResult r = testutil::run(fake::model(), {"--lr", "1000", "--steps", "60", "--metrics", dir / "m.jsonl", "--output",
                                              "none", "--save", saved});
  EXPECT_EQ(r.code, 1) << r.err;
  const size_t step = r.err.find("error: the loss is ");
  EXPECT_NE(step, std::string::npos) << r.err;
  EXPECT_NE(r.err.find("training diverged and stops here, saving nothing"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(saved)) << "no parameters saved after a non-finite loss";
  // The metrics end at the step named.
  std::vector<nlohmann::json> lines = metrics_lines(dir / "m.jsonl");
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines.back()["loss"].is_null());
  EXPECT_NE(r.err.find(fmt::format("at step {}:", lines.back()["step"].get<int>())), std::string::npos) << r.err;
}

TEST(Train, DivergenceWarnsOnceAndContinuesWhenAsked) {
  TempDir dir;
  RunResult r = testutil::run(fake::model(), {"--lr", "1000", "--steps", "60", "--metrics", dir / "m.jsonl", "--output",
                                              "none", "--on-nonfinite", "warn"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.rfind("warning: the loss is ", 0), 0u) << r.err;
  EXPECT_EQ(testutil::count_lines(r.err), 1u) << r.err;
  std::vector<nlohmann::json> lines = metrics_lines(dir / "m.jsonl");
  ASSERT_EQ(lines.size(), 61u);
  EXPECT_TRUE(lines[59]["loss"].is_null()) << "a non-finite loss is written as null";
  EXPECT_TRUE(lines[60]["eval_loss"].is_null());
}

TEST(Train, DrawsTheFit) {
  TempDir dir;
  std::string svg = dir / "fit.svg";
  RunResult r = testutil::run(fake::model(), {"--output", svg, "--steps", "20"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::string text = testutil::read_file(svg);
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find(svg_text("fake_linear: final loss")), std::string::npos)
      << "the title names the model and the loss";
  // Only the runtime's own lines on stdout: PLplot must not print.
  std::istringstream out(r.out);
  for (std::string line; std::getline(out, line);)
    EXPECT_TRUE(line.rfind("step ", 0) == 0 || line.rfind("final loss ", 0) == 0 ||
                line.rfind("full-data loss ", 0) == 0 || line == "wrote " + svg || line.rfind("peak memory ", 0) == 0)
        << line;
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1) << "no temp file left";

  // Without an eval entry the picture shows the last step's batch.
  fake::Spec no_eval;
  no_eval.entries = {{"train_step", "train", 32}, {"tail", "train", 4}};
  r = testutil::run(fake::model_with_manifest(fake::manifest(no_eval)), {"--output", dir / "last.svg", "--steps", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(testutil::read_file(dir / "last.svg").find("<svg"), std::string::npos);

  r = testutil::run(fake::model(), {"--output", dir / "fit.png"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("use a name ending in .svg"), std::string::npos) << r.err;
  r = testutil::run(fake::model(), {"--output", dir / "missing/fit.svg"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
}

TEST(Train, PlotFailureIsAnErrorNotACrash) {
  TempDir dir;
  kiln::FitPlot plot{"t", {0, 1}, {0, 1}, {0, 1}, {0, 1}};
  // A directory where the file should be: rename fails, PLplot cannot be blamed, we still get a message.
  std::filesystem::create_directory(dir / "taken.svg");
  try {
    kiln::plot_fit_svg(dir / "taken.svg", plot);
    FAIL() << "drawing over a directory succeeded";
  } catch (const kiln::UserError &e) {
    EXPECT_NE(std::string(e.what()).find("cannot draw the picture"), std::string::npos) << e.what();
  }
}

} // namespace
