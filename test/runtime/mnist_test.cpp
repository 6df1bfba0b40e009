// Lesson 10 on the runtime side, with the image-classifier fake: the "mnist" dataset from idx
// folders, periodic evaluation on the test split, predictions, the training picture, checkpoints
// that resume bit for bit, the progress line (terminal only) and the peak memory.
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <regex>

#include "fake_model.h"
#include "idx_util.h"
#include "kiln/datasets.h"
#include "kiln/error.h"
#include "kiln/manifest.h"
#include "kiln/numpy_print.h"
#include "kiln/safetensors.h"
#include "test_util.h"

namespace {

using testutil::metrics_lines;
using testutil::RunResult;
using testutil::TempDir;

using testutil::error_of;

kiln::Manifest image_manifest(const std::string &dir) {
  return kiln::parse_manifest(fake::manifest(fake::image_classifier_spec(dir)));
}

// SVG text as PLplot writes it: every character as a reference.
std::string svg_text(const std::string &s) {
  std::string out;
  for (char c : s)
    out += fmt::format("&#x{:x};", int(c));
  return out;
}

TEST(Mnist, ReadsPlainAndGzipFoldersAsBytes) {
  for (bool gzip : {false, true}) {
    TempDir dir;
    testutil::write_mnist_folder(dir.path(), 120, 30, gzip);
    kiln::DataSplits s = kiln::open_data(image_manifest(dir.path()), "", 0);
    ASSERT_TRUE(s.has_test());
    EXPECT_EQ(s.test_source, dir / (gzip ? "t10k-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte"));
    const kiln::DataTensor &x = *s.train.find("x"), &y = *s.train.find("y");
    EXPECT_EQ(x.shape, (std::vector<int64_t>{120, 1, 28, 28})) << "the model's 4-d rows";
    EXPECT_TRUE(x.as_bytes);
    EXPECT_TRUE(x.f32.empty()) << "no f32 copy of the images";
    EXPECT_EQ(y.shape, (std::vector<int64_t>{120}));
    EXPECT_EQ(s.test.rows(), 30);

    testutil::MnistSplit want = testutil::synthetic_mnist(120, 1);
    EXPECT_EQ(x.u8, want.images);
    EXPECT_EQ(y.i32, std::vector<int32_t>(want.labels.begin(), want.labels.end()));
    std::vector<float> row(784);
    x.copy_row(7, row.data());
    for (size_t k = 0; k < 784; ++k)
      ASSERT_EQ(row[k], float(want.images[7 * 784 + k]) / 255.0f) << "ToTensor's pixel / 255";
    EXPECT_EQ(x.value(7 * 784 + 3), row[3]);
  }
}

TEST(Mnist, FolderRefusalsNameTheFile) {
  TempDir dir;
  testutil::write_mnist_folder(dir.path(), 120, 30, true);
  const kiln::Manifest m = image_manifest(dir.path());

  EXPECT_EQ(error_of([&] { kiln::open_data(m, dir / "nowhere", 0); }),
            dir / "nowhere" + ": no such folder; dataset 'mnist' reads its idx files from a folder (--data DIR)");

  std::filesystem::remove(dir / "t10k-labels-idx1-ubyte.gz");
  std::string err = error_of([&] { kiln::open_data(m, "", 0); });
  EXPECT_EQ(err.rfind(dir.path() + ": no t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz in this folder", 0), 0u)
      << err;

  // Labels and images that disagree in count.
  testutil::MnistSplit s = testutil::synthetic_mnist(30, 2);
  testutil::write_gzip(dir / "t10k-labels-idx1-ubyte.gz",
                       testutil::idx_bytes(0x801, {29}, std::vector<uint8_t>(s.labels.begin(), s.labels.end() - 1)));
  err = error_of([&] { kiln::open_data(m, "", 0); });
  EXPECT_EQ(err, dir / "t10k-labels-idx1-ubyte.gz" + ": 29 labels, but " + dir / "t10k-images-idx3-ubyte.gz" +
                     " holds 30 images; the two files must agree");

  // A label the model's 10 classes cannot take.
  s.labels[5] = 12;
  testutil::write_gzip(dir / "t10k-labels-idx1-ubyte.gz", testutil::idx_bytes(0x801, {30}, s.labels));
  err = error_of([&] { kiln::open_data(m, "", 0); });
  EXPECT_EQ(err, dir / "t10k-labels-idx1-ubyte.gz" +
                     ": tensor 'y' row 5 holds label 12, but the model has 10 classes (0..9)");

  // Images of another size than the model's rows.
  s.labels[5] = 1;
  testutil::write_gzip(dir / "t10k-labels-idx1-ubyte.gz", testutil::idx_bytes(0x801, {30}, s.labels));
  testutil::write_gzip(dir / "t10k-images-idx3-ubyte.gz",
                       testutil::idx_bytes(0x803, {30, 14, 14}, std::vector<uint8_t>(30 * 196, 1)));
  err = error_of([&] { kiln::open_data(m, "", 0); });
  EXPECT_EQ(err, dir / "t10k-images-idx3-ubyte.gz" +
                     ": images are 14x14, but the model's input 'x' takes rows of shape [1, 28, 28]");

  // A truncated file, through the whole binary: exit code 1 and the reader's message.
  testutil::write_file(dir / "t10k-images-idx3-ubyte.gz", "");
  testutil::write_file(dir / "t10k-images-idx3-ubyte",
                       testutil::idx_bytes(0x803, {30, 28, 28}, std::vector<uint8_t>(100)));
  RunResult r =
      testutil::run(fake::classifier(fake::manifest(fake::image_classifier_spec(dir.path()))), {"--output", "none"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: " + dir / "t10k-images-idx3-ubyte" +
                       ": truncated: the header promises 30 images of 28x28 (23520 bytes of data), only 100 follow\n")
      << "the plain file wins over the .gz";
  EXPECT_EQ(r.out, "");
}

TEST(Mnist, TrainsWithPeriodicTestEvaluationAndPredictions) {
  TempDir dir, data;
  testutil::write_mnist_folder(data.path(), 120, 30, true);
  // data_dir names a folder that does not exist: --data DIR must win.
  kiln::ModelAbi model = fake::classifier(fake::manifest(fake::image_classifier_spec("/nonexistent")));
  RunResult r = testutil::run(model, {"--data", data.path(), "--metrics", dir / "m.jsonl", "--output", dir / "c.svg",
                                      "--predictions", dir / "p.csv"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");

  // 120 rows in batches of 10: 12 steps; evaluations after steps 4, 8, 12 on the first 20 test rows
  // (2 chunks of the eval batch 10), then all 30.
  std::vector<int> entries;
  for (const fake::Call &c : fake::calls)
    entries.push_back(c.entry);
  std::vector<int> expected;
  for (int e = 0; e < 3; ++e)
    expected.insert(expected.end(), {0, 0, 0, 0, 1, 1});
  expected.insert(expected.end(), {1, 1, 1});
  EXPECT_EQ(entries, expected);
  testutil::MnistSplit test = testutil::synthetic_mnist(30, 2);
  for (size_t c = 0; c < 3; ++c) {
    const std::vector<float> &x = fake::calls[fake::calls.size() - 3 + c].x;
    ASSERT_EQ(x.size(), 10u * 784);
    for (size_t k = 0; k < x.size(); ++k)
      ASSERT_EQ(x[k], float(test.images[c * 7840 + k]) / 255.0f)
          << "the final evaluation reads the test split in order";
  }

  std::vector<nlohmann::json> lines = metrics_lines(dir / "m.jsonl");
  ASSERT_EQ(lines.size(), 13u);
  std::vector<double> accuracies;
  for (size_t i = 0; i < 12; ++i) {
    const bool evaluated = (i + 1) % 4 == 0;
    EXPECT_EQ(lines[i].contains("test_accuracy"), evaluated) << lines[i];
    EXPECT_EQ(lines[i].contains("test_loss"), evaluated) << lines[i];
    if (evaluated)
      accuracies.push_back(lines[i]["test_accuracy"].get<double>());
  }
  const nlohmann::json &fin = lines.back();
  EXPECT_TRUE(fin["final"].get<bool>());
  const double accuracy = fin["test_accuracy"].get<double>();
  EXPECT_EQ(fin["accuracy"].get<double>(), accuracy);
  EXPECT_GE(accuracy, 0.9) << "the synthetic classes are easy";
  EXPECT_GT(fin["peak_rss_mb"].get<double>(), 1.0);

  // Console: the evaluation steps' lines, the final accuracy, predictions beside labels.
  for (int i = 0; i < 3; ++i) {
    const nlohmann::json &l = lines[size_t(4 * i + 3)];
    std::string want = fmt::format("\nstep {:>3}  train loss {:.4f}  test accuracy {:.4f}\n", 4 * i + 4,
                                   l["loss"].get<double>(), l["test_accuracy"].get<double>());
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\nin:\n" << r.out;
  }
  const int correct = int(std::lround(accuracy * 30));
  EXPECT_NE(r.out.find(fmt::format("\nfinal test accuracy {:.4f} ({}/30)\n", accuracy, correct)), std::string::npos)
      << r.out;
  std::vector<std::vector<std::string>> csv = testutil::read_csv(dir / "p.csv");
  ASSERT_EQ(csv.size(), 31u);
  ASSERT_EQ(csv[0].size(), 784u + 1 + 10 + 1) << "x_0..x_783, y, logits_0..9, predicted_class";
  std::vector<int32_t> predicted, labels;
  for (size_t i = 1; i <= 10; ++i)
    predicted.push_back(std::stoi(csv[i].back())), labels.push_back(test.labels[i - 1]);
  EXPECT_NE(r.out.find("\npredictions: " + kiln::numpy_array(predicted.data(), {10}) +
                       "\nlabels:      " + kiln::numpy_array(labels.data(), {10}) + "\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(std::stof(csv[1][0]), float(test.images[0]) / 255.0f);

  std::string svg = testutil::read_file(dir / "c.svg");
  EXPECT_NE(svg.find(svg_text(fmt::format("fake_cnn: test accuracy {:.4f}", accuracy))), std::string::npos);
  EXPECT_NE(svg.find(svg_text("train loss")), std::string::npos);
  EXPECT_NE(svg.find(svg_text("test accuracy")), std::string::npos);
  EXPECT_NE(r.out.find("\nwrote " + dir / "c.svg" + "\n"), std::string::npos) << r.out;

  // Not a terminal: no progress line; the peak memory is the last line.
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  EXPECT_EQ(r.out.find("steps/s"), std::string::npos);
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\npeak memory [0-9]+\\.[0-9] MB\n$"))) << r.out;
}

TEST(Mnist, EvaluationSettingsAreOptionalAndGeneral) {
  // Without eval_every: no periodic evaluation, one at the end.
  TempDir data;
  testutil::write_mnist_folder(data.path(), 120, 30, false);
  fake::Spec spec = fake::image_classifier_spec(data.path());
  spec.train = fmt::format(R"("dataset": "mnist", "data_dir": "{}", "task": "classification", "batch": 10, "lr": 0.05)",
                           data.path());
  RunResult r = testutil::run(fake::classifier(fake::manifest(spec)), {"--output", "none"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("train loss"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("predictions:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nfinal test accuracy "), std::string::npos) << r.out;
  // --eval-every turns it on; a subset smaller than the eval batch is refused.
  r = testutil::run(fake::classifier(fake::manifest(spec)), {"--output", "none", "--eval-every", "6"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\nstep   6  train loss "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nstep  12  train loss "), std::string::npos) << r.out;
  r = testutil::run(fake::classifier(fake::manifest(spec)),
                    {"--output", "none", "--eval-every", "6", "--eval-subset", "5"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: evaluating every 6 steps on 5 rows of the test data makes no chunk of the eval batch 10; "
                   "use --eval-subset 10 or more, or --eval-every 0\n");

  // A dataset without a test split evaluates on its training data.
  fake::Spec two = fake::classifier_spec();
  two.train = R"("dataset": "classification", "task": "classification", "steps": 20, "batch": 200, "lr": 0.02, )"
              R"("eval_every": 10, "show_predictions": 4)";
  TempDir dir;
  r = testutil::run(fake::classifier(fake::manifest(two)), {"--output", "none", "--metrics", dir / "m.jsonl"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\nstep  10  train loss "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  eval accuracy "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\naccuracy "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nlabels:      [0 0 0 0]\n"), std::string::npos) << r.out;
  std::vector<nlohmann::json> lines = metrics_lines(dir / "m.jsonl");
  ASSERT_EQ(lines.size(), 21u);
  EXPECT_TRUE(lines[9].contains("eval_accuracy"));
  EXPECT_FALSE(lines[8].contains("eval_accuracy"));
  EXPECT_FALSE(lines.back().contains("test_accuracy"));
}

// ---- Checkpoints and resume ------------------------------------------------------------------

// Every tensor of a checkpoint, by name, as bytes.
std::map<std::string, std::string> tensor_bytes(const std::string &path) {
  kiln::SafetensorsFile f = kiln::SafetensorsFile::read(path);
  std::map<std::string, std::string> out;
  for (const auto &[name, e] : f.tensors())
    out[name] = std::string(reinterpret_cast<const char *>(f.data(e)), e.end - e.begin);
  return out;
}

TEST(Resume, SixHundredPlusSixHundredIsTwelveHundredBitForBit) {
  TempDir dir;
  const std::vector<std::string> common = {"--seed", "3", "--output", "none", "--quiet"};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), common.begin(), common.end());
    RunResult r = testutil::run(fake::model(), args);
    EXPECT_EQ(r.code, 0) << r.err;
    return r;
  };
  run({"--steps", "1200", "--checkpoint", dir / "whole.st", "--metrics", dir / "whole.jsonl"});
  run({"--steps", "600", "--checkpoint", dir / "half.st"});
  kiln::SafetensorsFile half = kiln::SafetensorsFile::read(dir / "half.st");
  EXPECT_EQ(half.metadata().at("kiln.format"), "checkpoint");
  EXPECT_EQ(half.metadata().at("kiln.model"), "fake_linear");
  EXPECT_EQ(half.metadata().at("kiln.step"), "600");
  EXPECT_EQ(half.metadata().at("kiln.seed"), "3");
  EXPECT_EQ(half.metadata().at("kiln.epoch"), "150") << "4 batches per epoch";
  EXPECT_EQ(half.metadata().at("kiln.batch_in_epoch"), "0");
  EXPECT_EQ(half.tensors().size(), 4u) << "params and momentum buffers";

  RunResult r =
      testutil::run(fake::model(), {"--resume", dir / "half.st", "--steps", "1200", "--checkpoint", dir / "resumed.st",
                                    "--metrics", dir / "resumed.jsonl", "--output", "none"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("resuming " + dir / "half.st" + " at step 600 (epoch 150, batch 0) of 1200\n", 0), 0u) << r.out;
  EXPECT_EQ(fake::calls.front().step, 601.0f);
  EXPECT_EQ(tensor_bytes(dir / "resumed.st"), tensor_bytes(dir / "whole.st")) << "params and state bit for bit";
  // Every loss of the second half as in the uninterrupted run.
  std::vector<nlohmann::json> whole = metrics_lines(dir / "whole.jsonl"),
                              resumed = metrics_lines(dir / "resumed.jsonl");
  ASSERT_EQ(resumed.size(), 601u);
  for (size_t i = 0; i < 600; ++i) {
    ASSERT_EQ(resumed[i]["step"], whole[600 + i]["step"]);
    ASSERT_EQ(resumed[i]["epoch"], whole[600 + i]["epoch"]);
    ASSERT_EQ(resumed[i]["loss"], whole[600 + i]["loss"]) << i;
  }

  // Resuming mid-epoch (step 601 is batch 1 of epoch 150), in two legs.
  run({"--steps", "601", "--checkpoint", dir / "a.st"});
  EXPECT_EQ(kiln::SafetensorsFile::read(dir / "a.st").metadata().at("kiln.batch_in_epoch"), "1");
  run({"--resume", dir / "a.st", "--steps", "999", "--checkpoint", dir / "b.st"});
  run({"--resume", dir / "b.st", "--steps", "1200", "--checkpoint", dir / "c.st"});
  EXPECT_EQ(tensor_bytes(dir / "c.st"), tensor_bytes(dir / "whole.st"));

  // The control: the params alone (no momentum, step restarting at 1) do not continue the run,
  // so the comparison above can fail.
  run({"--steps", "600", "--save", dir / "params.st"});
  run({"--init", dir / "params.st", "--steps", "600", "--checkpoint", dir / "restarted.st"});
  EXPECT_NE(tensor_bytes(dir / "restarted.st").at("fc.weight"), tensor_bytes(dir / "whole.st").at("fc.weight"));
}

// --checkpoint-every writes the checkpoint during the run, keeping the last --checkpoint-keep;
// each resumes to the uninterrupted run bit for bit. A run that diverges keeps the last finite one.
TEST(Resume, PeriodicCheckpointsKeepTheLastKAndEachResumes) {
  TempDir dir;
  const std::vector<std::string> common = {"--seed", "3", "--output", "none", "--quiet"};
  auto run = [&](std::vector<std::string> args, int code = 0) {
    args.insert(args.end(), common.begin(), common.end());
    RunResult r = testutil::run(fake::model(), args);
    EXPECT_EQ(r.code, code) << r.err;
    return r;
  };
  run({"--steps", "95", "--checkpoint", dir / "whole.st"});
  run({"--steps", "95", "--checkpoint", dir / "ck.st", "--checkpoint-every", "20", "--checkpoint-keep", "3"});
  auto step_of = [&](const std::string &path) { return kiln::SafetensorsFile::read(path).metadata().at("kiln.step"); };
  EXPECT_EQ(step_of(dir / "ck.st"), "95") << "the end of the run";
  EXPECT_EQ(step_of(dir / "ck.st.1"), "80");
  EXPECT_EQ(step_of(dir / "ck.st.2"), "60");
  EXPECT_FALSE(std::filesystem::exists(dir / "ck.st.3")) << "only the last 3 are kept";
  EXPECT_EQ(tensor_bytes(dir / "ck.st"), tensor_bytes(dir / "whole.st"));
  run({"--resume", dir / "ck.st.2", "--steps", "95", "--checkpoint", dir / "resumed.st"});
  EXPECT_EQ(tensor_bytes(dir / "resumed.st"), tensor_bytes(dir / "whole.st")) << "resumed from step 60";

  RunResult r = run({"--steps", "10", "--checkpoint-every", "5"}, 1);
  EXPECT_NE(r.err.find("--checkpoint-every needs --checkpoint FILE"), std::string::npos) << r.err;

  // Divergence (lr 1000): the run stops with an error; the checkpoint on disk is finite.
  r = run({"--lr", "1000", "--steps", "60", "--checkpoint", dir / "div.st", "--checkpoint-every", "2"}, 1);
  EXPECT_NE(r.err.find("training diverged"), std::string::npos) << r.err;
  kiln::SafetensorsFile last = kiln::SafetensorsFile::read(dir / "div.st");
  for (const auto &[name, e] : last.tensors()) {
    std::vector<float> v((e.end - e.begin) / 4);
    std::memcpy(v.data(), last.data(e), v.size() * 4);
    for (float x : v)
      ASSERT_TRUE(std::isfinite(x)) << name << " at step " << last.metadata().at("kiln.step");
  }
}

TEST(Resume, TheImageClassifierResumesAcrossEpochs) {
  TempDir dir, data;
  testutil::write_mnist_folder(data.path(), 120, 30, true);
  const std::string manifest = fake::manifest(fake::image_classifier_spec(data.path()));
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--output", "none", "--quiet", "--seed", "5"});
    RunResult r = testutil::run(fake::classifier(manifest), args);
    EXPECT_EQ(r.code, 0) << r.err;
  };
  run({"--steps", "30", "--checkpoint", dir / "whole.st"});
  run({"--steps", "14", "--checkpoint", dir / "half.st"});
  run({"--resume", dir / "half.st", "--steps", "30", "--checkpoint", dir / "resumed.st"});
  std::map<std::string, std::string> whole = tensor_bytes(dir / "whole.st");
  EXPECT_EQ(whole.size(), 4u);
  EXPECT_EQ(tensor_bytes(dir / "resumed.st"), whole);
}

TEST(Resume, RefusesWhatWouldNotContinueTheRun) {
  TempDir dir;
  RunResult r = testutil::run(fake::model(), {"--steps", "8", "--seed", "3", "--checkpoint", dir / "c.st", "--save",
                                              dir / "params.st", "--output", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string c = dir / "c.st";

  struct Case {
    const char *what;
    kiln::ModelAbi model;
    std::vector<std::string> args;
    std::string err;
  } cases[] = {
      {"another seed",
       fake::model(),
       {"--resume", c, "--seed", "4"},
       "error: " + c + ": the checkpoint was trained with seed 3, not 4; resuming needs its seed (leave --seed out)\n"},
      {"another shuffle",
       fake::model(),
       {"--resume", c, "--shuffle", "off"},
       "error: " + c +
           ": the checkpoint's run has shuffle on and drop_last off, this run shuffle off and drop_last off; "
           "the batches would not continue in the same order\n"},
      {"past the steps",
       fake::model(),
       {"--resume", c, "--steps", "5"},
       "error: " + c +
           ": the checkpoint is at step 8, past the 5 steps of this run; ask for more with --steps or --epochs\n"},
      {"another model",
       fake::classifier(),
       {"--resume", c},
       "error: " + c + ": a checkpoint of model 'fake_linear', not of 'fake_classifier'\n"},
      {"params only",
       fake::model(),
       {"--resume", dir / "params.st"},
       "error: " + dir / "params.st" +
           ": not a training checkpoint (kiln.format is 'params'); --resume takes a file "
           "written by --checkpoint, --init takes parameters\n"},
  };
  for (Case &k : cases) {
    std::vector<std::string> args = k.args;
    args.insert(args.end(), {"--output", "none"});
    r = testutil::run(k.model, args);
    EXPECT_EQ(r.code, 1) << k.what;
    EXPECT_EQ(r.err, k.err) << k.what;
    EXPECT_EQ(r.out, "") << k.what;
  }

  // Tensors that do not match: the message names the tensor.
  kiln::SafetensorsFile f = kiln::SafetensorsFile::read(c);
  auto rewrite = [&](const std::string &path, const std::string &drop, const std::string &rename,
                     std::vector<int64_t> shape) {
    std::vector<kiln::SafetensorsTensor> ts;
    std::vector<std::vector<float>> keep;
    for (const auto &[name, e] : f.tensors()) {
      if (name == drop)
        continue;
      std::vector<int64_t> s = name == rename && !shape.empty() ? shape : e.shape;
      size_t n = 1;
      for (int64_t d : s)
        n *= size_t(d);
      keep.emplace_back(n, 0.5f);
      ts.push_back({name == rename && shape.empty() ? name + ".extra" : name, e.dtype, s, keep.back().data()});
    }
    kiln::write_safetensors(path, ts, f.metadata());
  };
  rewrite(dir / "no_state.st", "fc.bias.momentum_buffer", "", {});
  r = testutil::run(fake::model(), {"--resume", dir / "no_state.st", "--output", "none"});
  EXPECT_EQ(r.err, "error: " + dir / "no_state.st" + ": no tensor 'fc.bias.momentum_buffer', which the model needs\n");
  rewrite(dir / "shape.st", "", "fc.weight.momentum_buffer", {2, 1});
  r = testutil::run(fake::model(), {"--resume", dir / "shape.st", "--output", "none"});
  EXPECT_EQ(r.err, "error: " + dir / "shape.st" +
                       ": tensor 'fc.weight.momentum_buffer' has shape [2, 1], the model expects [1, 1]\n");
  rewrite(dir / "extra.st", "", "fc.bias", {});
  r = testutil::run(fake::model(), {"--resume", dir / "extra.st", "--output", "none"});
  EXPECT_EQ(r.err, "error: " + dir / "extra.st" +
                       ": tensor 'fc.bias.extra' is not a parameter, optimizer state or "
                       "buffer of model 'fake_linear'\n");

  r = testutil::run(fake::model(), {"--resume", c, "--init", dir / "params.st"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "error: --resume and --init both set the parameters; use one (see --help)\n");
}

// ---- Whole processes: the progress line on a terminal, memory on the real files ---------------

// Runs kiln_fake_cnn with `args` and the environment additions; stdout on a pseudo-terminal when
// `tty`, else on a pipe. Returns everything it printed there.
std::string run_fake_cnn(const std::vector<std::string> &args, const std::vector<std::string> &env, bool tty,
                         int &status) {
  int out_fd = -1;
  pid_t pid;
  int pipe_fds[2] = {-1, -1};
  if (tty) {
    pid = ::forkpty(&out_fd, nullptr, nullptr, nullptr);
  } else {
    EXPECT_EQ(::pipe(pipe_fds), 0);
    pid = ::fork();
    if (pid == 0) {
      ::dup2(pipe_fds[1], STDOUT_FILENO);
      ::close(pipe_fds[0]);
    }
    out_fd = pipe_fds[0];
  }
  if (pid == 0) {
    for (const std::string &e : env)
      ::putenv(const_cast<char *>(e.c_str()));
    std::vector<const char *> argv = {KILN_FAKE_CNN};
    for (const std::string &a : args)
      argv.push_back(a.c_str());
    argv.push_back(nullptr);
    ::execv(KILN_FAKE_CNN, const_cast<char *const *>(argv.data()));
    _exit(127);
  }
  if (!tty)
    ::close(pipe_fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  // A pty's master reports EIO once the child has exited and closed the slave.
  while ((n = ::read(out_fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      out.append(buf, size_t(n));
  ::close(out_fd);
  ::waitpid(pid, &status, 0);
  return out;
}

TEST(Console, ProgressLineOnlyOnATerminal) {
  TempDir data;
  testutil::write_mnist_folder(data.path(), 120, 30, true);
  const std::vector<std::string> env = {"KILN_FAKE_SMALL=1", "KILN_FAKE_DATA=" + data.path()};
  int status = 0;
  std::string tty = run_fake_cnn({"--output", "none", "--epochs", "3"}, env, true, status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << tty;
  EXPECT_NE(tty.find("\rstep 36/36  100.0%  "), std::string::npos) << tty;
  EXPECT_TRUE(
      std::regex_search(tty, std::regex("\rstep 36/36  100\\.0%  [0-9.]+ steps/s  ETA 0:00  loss [0-9.]+\x1b\\[K")))
      << tty;
  EXPECT_NE(tty.find("\r\x1b[K"), std::string::npos) << "erased before the next regular line";
  EXPECT_NE(tty.find("final test accuracy"), std::string::npos) << tty;

  std::string piped = run_fake_cnn({"--output", "none", "--epochs", "3"}, env, false, status);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << piped;
  EXPECT_EQ(piped.find('\r'), std::string::npos) << piped;
  EXPECT_EQ(piped.find("steps/s"), std::string::npos) << piped;
  EXPECT_NE(piped.find("final test accuracy"), std::string::npos) << piped;
  EXPECT_NE(piped.find("\npeak memory "), std::string::npos) << piped;
}

TEST(Console, RealFashionMnistRunStaysSmall) {
  // Lesson 10's layout over the real 60,000 + 10,000 images, 300 steps: the data stay bytes.
  TempDir dir;
  int status = 0;
  std::string out =
      run_fake_cnn({"--steps", "300", "--output", "none", "--metrics", dir / "m.jsonl"}, {}, false, status);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << out;
  EXPECT_NE(out.find("\nstep 300  train loss "), std::string::npos) << out;
  EXPECT_NE(out.find("\nlabels:      [9 2 1 1 6 1 4 6 5 7]\n"), std::string::npos) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("final test accuracy (0\\.[0-9]{4}) \\(([0-9]+)/10000\\)"))) << out;
  EXPECT_GT(std::stod(m[1]), 0.6) << "a linear model learns Fashion-MNIST to about 80%";
  std::vector<nlohmann::json> lines = metrics_lines(dir / "m.jsonl");
  const double peak = lines.back()["peak_rss_mb"].get<double>();
  EXPECT_GT(peak, 55.0) << "the 55 MB of images are resident";
  EXPECT_LT(peak, 100.0);
  std::printf("fake CNN over Fashion-MNIST: peak memory %.1f MB\n", peak);
}

} // namespace
