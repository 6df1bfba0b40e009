// The synthetic datasets (formulas, seeding), fitting them to the model's layout, and --data files.
#include "kiln/datasets.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "fake_model.h"
#include "kiln/error.h"
#include "kiln/rng.h"
#include "kiln/safetensors.h"
#include "test_util.h"

namespace {

using kiln::Dataset;
using kiln::DType;

using testutil::error_of;

TEST(Datasets, RegressionMatchesTheFormula) {
  Dataset d = kiln::make_regression(0);
  const kiln::DataTensor &x = *d.find("x"), &y = *d.find("y");
  ASSERT_EQ(x.shape, (std::vector<int64_t>{100, 1}));
  ASSERT_EQ(y.shape, (std::vector<int64_t>{100, 1}));
  EXPECT_EQ(x.f32.front(), -1.0f);
  EXPECT_EQ(x.f32.back(), 1.0f);
  kiln::Rng rng(0, kiln::RngStream::Data);
  double noise_mean = 0;
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_NEAR(x.f32[i], -1.0 + 2.0 * double(i) / 99.0, 1e-6) << i;
    EXPECT_EQ(y.f32[i], x.f32[i] * x.f32[i] + 0.2f * rng.uniform01f()) << "one uniform01f per row, in order";
    float noise = y.f32[i] - x.f32[i] * x.f32[i];
    EXPECT_GE(noise, 0.0f) << i;
    EXPECT_LT(noise, 0.2f + 1e-6f) << i;
    noise_mean += noise / 100.0;
  }
  EXPECT_NEAR(noise_mean, 0.1, 0.03) << "0.2 * U[0,1) has mean 0.1";
  EXPECT_EQ(y.f32, kiln::make_regression(0).find("y")->f32);
  EXPECT_NE(y.f32, kiln::make_regression(5).find("y")->f32);
  EXPECT_EQ(x.f32, kiln::make_regression(5).find("x")->f32);
}

TEST(Datasets, NormalIsBoxMullerInTheDocumentedOrder) {
  kiln::Rng a(7, kiln::RngStream::Data), b(7, kiln::RngStream::Data);
  for (int pair = 0; pair < 3; ++pair) {
    double u1 = b.uniform01(), u2 = b.uniform01(), r = std::sqrt(-2 * std::log(1 - u1));
    EXPECT_DOUBLE_EQ(a.normal(), r * std::cos(2 * M_PI * u2));
    EXPECT_DOUBLE_EQ(a.normal(), r * std::sin(2 * M_PI * u2));
  }
  // Moments of many draws.
  kiln::Rng c(1, kiln::RngStream::Data);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double z = c.normal();
    sum += z, sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, 1.0, 0.01);
}

TEST(Datasets, ClassificationMatchesTheFormula) {
  Dataset d = kiln::make_classification(0);
  const kiln::DataTensor &x = *d.find("x"), &y = *d.find("y");
  ASSERT_EQ(x.shape, (std::vector<int64_t>{200, 2}));
  ASSERT_EQ(y.shape, (std::vector<int64_t>{200}));
  EXPECT_EQ(x.dtype, DType::f32);
  EXPECT_EQ(y.dtype, DType::i32);
  kiln::Rng rng(0, kiln::RngStream::Data);
  double mean[2][2] = {}, var[2] = {};
  for (size_t i = 0; i < 200; ++i) {
    const int label = i < 100 ? 0 : 1;
    const double centre = label == 0 ? 2 : -2;
    EXPECT_EQ(y.i32[i], label) << i;
    for (int k = 0; k < 2; ++k) {
      EXPECT_EQ(x.f32[2 * i + k], float(centre + rng.normal())) << "row by row, first column first";
      mean[label][k] += x.f32[2 * i + k] / 100.0;
      var[label] += std::pow(x.f32[2 * i + k] - centre, 2) / 200.0;
    }
  }
  for (int k = 0; k < 2; ++k) {
    EXPECT_NEAR(mean[0][k], 2.0, 0.3);
    EXPECT_NEAR(mean[1][k], -2.0, 0.3);
  }
  EXPECT_NEAR(var[0], 1.0, 0.3);
  EXPECT_NEAR(var[1], 1.0, 0.3);
  EXPECT_EQ(x.f32, kiln::make_classification(0).find("x")->f32);
  EXPECT_NE(x.f32, kiln::make_classification(1).find("x")->f32);
}

TEST(Datasets, OptimizersMatchesTheFormula) {
  Dataset d = kiln::make_optimizers(3);
  const kiln::DataTensor &x = *d.find("x"), &y = *d.find("y");
  ASSERT_EQ(x.shape, (std::vector<int64_t>{1000, 1}));
  ASSERT_EQ(y.shape, (std::vector<int64_t>{1000, 1}));
  EXPECT_EQ(x.f32, kiln::linspace(-1, 1, 1000));
  kiln::Rng rng(3, kiln::RngStream::Data);
  double noise_sq = 0;
  for (size_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(y.f32[i], x.f32[i] * x.f32[i] + 0.1f * float(rng.normal())) << i;
    noise_sq += std::pow(y.f32[i] - x.f32[i] * x.f32[i], 2) / 1000;
  }
  EXPECT_NEAR(std::sqrt(noise_sq), 0.1, 0.01) << "noise std 0.1";
  EXPECT_NE(y.f32, kiln::make_optimizers(4).find("y")->f32);
}

TEST(Datasets, MinibatchIsTheTutorialsTenPoints) {
  Dataset d = kiln::make_minibatch(0);
  EXPECT_EQ(d.find("x")->f32, (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(d.find("y")->f32, (std::vector<float>{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(d.find("x")->shape, (std::vector<int64_t>{10}));
  EXPECT_EQ(kiln::make_minibatch(9).find("x")->f32, d.find("x")->f32) << "no randomness";
}

TEST(Datasets, LinspaceMatchesTorch) {
  // torch.linspace(-1, 1, 5) and the symmetric halves of an odd count.
  EXPECT_EQ(kiln::linspace(-1, 1, 5), (std::vector<float>{-1, -0.5f, 0, 0.5f, 1}));
  EXPECT_EQ(kiln::linspace(2, 3, 1), (std::vector<float>{2}));
  EXPECT_TRUE(kiln::linspace(0, 1, 0).empty());
}

TEST(Datasets, OneFeatureRowsFitEitherLayout) {
  // The minibatch set is (N,); a model with (B, 1) inputs gets (N, 1), and the other way round.
  fake::Spec column;
  column.entries = {{"t", "train", 5}, {"e", "eval", 10}};
  column.train = R"("dataset": "minibatch", "lr": 0.1)";
  kiln::Manifest m = kiln::parse_manifest(fake::manifest(column));
  Dataset d = kiln::make_dataset(m, 0);
  EXPECT_EQ(d.find("x")->shape, (std::vector<int64_t>{10, 1}));
  EXPECT_EQ(d.find("x")->f32, kiln::linspace(1, 10, 10));

  fake::Spec flat;
  flat.x_row = flat.y_row = {};
  kiln::Manifest f = kiln::parse_manifest(fake::manifest(flat)); // regression set is (N, 1)
  Dataset r = kiln::make_dataset(f, 0);
  EXPECT_EQ(r.find("y")->shape, (std::vector<int64_t>{100}));
  EXPECT_EQ(r.find("y")->f32, kiln::make_regression(0).find("y")->f32);
  EXPECT_EQ(r.rows(), 100);
}

TEST(Datasets, RefusesUnknownNamesAndShapes) {
  auto make_error = [](fake::Spec spec) {
    kiln::Manifest m = kiln::parse_manifest(fake::manifest(spec));
    return error_of([&] { kiln::make_dataset(m, 0); });
  };
  fake::Spec unknown;
  unknown.train = R"("dataset": "spirals", "lr": 0.1)";
  EXPECT_NE(make_error(unknown).find(
                "unknown dataset 'spirals' (known: regression, classification, optimizers, minibatch, mnist)"),
            std::string::npos)
      << make_error(unknown);
  fake::Spec wide;
  wide.y_row = {2};
  EXPECT_EQ(make_error(wide),
            "dataset 'regression': tensor 'y' is f32 of shape [100, 1], the model expects f32 of shape [100, 2]");
  fake::Spec labels = fake::classifier_spec();
  labels.classifier = false; // f32 y: the classification set's labels are i32
  labels.x_row = {2};
  labels.y_row = {};
  EXPECT_EQ(make_error(labels),
            "dataset 'classification': tensor 'y' is i32 of shape [200], the model expects f32 of shape [200]");
}

TEST(Datasets, LoadsDataFilesWithAnyRowCount) {
  testutil::TempDir dir;
  kiln::Manifest m = kiln::parse_manifest(fake::manifest(fake::classifier_spec()));
  const float x[6] = {1, 2, 3, 4, 5, 6};
  const int32_t y[3] = {1, 0, 1};
  const float extra = 9;
  std::string path = dir / "d.safetensors";
  kiln::write_safetensors(path, {{"x", "F32", {3, 2}, x}, {"y", "I32", {3}, y}, {"z", "F32", {1}, &extra}});
  Dataset d = kiln::load_dataset(path, m);
  EXPECT_EQ(d.rows(), 3);
  EXPECT_EQ(d.find("x")->f32, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(d.find("y")->i32, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(d.find("z"), nullptr) << "tensors the model does not take are ignored";

  auto load_error = [&](std::vector<kiln::SafetensorsTensor> tensors) {
    kiln::write_safetensors(path, tensors);
    return error_of([&] { kiln::load_dataset(path, m); });
  };
  EXPECT_EQ(load_error({{"x", "F32", {3, 2}, x}}), path + ": no tensor 'y', which the model needs");
  EXPECT_EQ(load_error({{"x", "F32", {3, 2}, x}, {"y", "F32", {3}, x}}),
            path + ": tensor 'y' is f32 of shape [3], the model expects i32 of shape [3]");
  EXPECT_EQ(load_error({{"x", "F32", {2, 3}, x}, {"y", "I32", {2}, y}}),
            path + ": tensor 'x' is f32 of shape [2, 3], the model expects f32 of shape [2, 2]");
  EXPECT_EQ(load_error({{"x", "F32", {3, 2}, x}, {"y", "I32", {2}, y}}),
            path + ": tensor 'y' has 2 rows, tensor 'x' has 3; all must have the same");
  EXPECT_EQ(load_error({{"x", "F32", {0, 2}, x}, {"y", "I32", {0}, y}}),
            path + ": tensor 'x' has shape [0, 2]; data needs at least one row along dim 0");
  const int16_t narrow[6] = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(load_error({{"x", "I16", {3, 2}, narrow}, {"y", "I32", {3}, y}}),
            path + ": tensor 'x' has dtype I16, the model expects F32");
  // NumPy's default float64 is rounded to the model's f32.
  const double doubles[6] = {1, 2, 3, 4, 5, 6.5};
  kiln::write_safetensors(path, {{"x", "F64", {3, 2}, doubles}, {"y", "I32", {3}, y}});
  EXPECT_EQ(kiln::load_dataset(path, m).find("x")->f32, (std::vector<float>{1, 2, 3, 4, 5, 6.5f}));

  // PyTorch's int64 labels are taken as the model's i32, each checked.
  const int64_t wide[6] = {1, 0, 1, 0, 0, 0}, huge[3] = {1, int64_t(1) << 40, 0};
  kiln::write_safetensors(path, {{"x", "F32", {3, 2}, x}, {"y", "I64", {3}, wide}});
  EXPECT_EQ(kiln::load_dataset(path, m).find("y")->i32, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(load_error({{"x", "F32", {3, 2}, x}, {"y", "I64", {3}, huge}}),
            path + ": tensor 'y' element 1 is 1099511627776, beyond the model's 32-bit integers");
  EXPECT_EQ(load_error({{"x", "I64", {3, 2}, wide}, {"y", "I32", {3}, y}}),
            path + ": tensor 'x' has dtype I64, the model expects F32");
}

} // namespace
