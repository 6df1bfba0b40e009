// Manifest validation, the seeded init and the synthetic datasets.
#include "kiln/manifest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "fake_model.h"
#include "kiln/arena.h"
#include "kiln/datasets.h"
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
    if (at != std::string::npos) m.replace(at, from.size(), to);
    return m;
}

std::string parse_error(const std::string &text) {
    try {
        kiln::parse_manifest(text);
    } catch (const kiln::UserError &e) {
        return e.what();
    }
    return "";
}

TEST(Manifest, ParsesTheFakeModel) {
    Manifest m = kiln::parse_manifest(kiln_manifest);
    EXPECT_EQ(m.model, "fake_linear");
    EXPECT_EQ(m.arena_bytes, 1792u);
    EXPECT_EQ(m.tensors.size(), 10u);
    EXPECT_EQ(m.train.dataset, "regression");
    EXPECT_EQ(m.train.steps, 100);
    EXPECT_DOUBLE_EQ(m.train.lr, 0.5);
    EXPECT_EQ(m.train.log_every, 5);
    EXPECT_EQ(m.with_role(Role::Param).size(), 2u);
    EXPECT_EQ(m.find("x")->shape, (std::vector<int64_t>{100, 1}));
    EXPECT_EQ(m.find("x")->bytes(), 400u);
    EXPECT_EQ(m.find_role(Role::Loss)->name, "loss");
}

TEST(Manifest, RefusesBrokenManifests) {
    struct Case {
        std::string text, message;
    } cases[] = {
        {"{not json", "not valid JSON"},
        {fake_manifest_with("\"offset\": 1152", "\"offset\": 1500"), "tensor 'prediction': offset 1500 + 400 bytes lies outside the arena of 1792 bytes"},
        {fake_manifest_with("\"role\": \"output\"", "\"role\": \"result\""), "tensor 'prediction': unknown role 'result'"},
        {fake_manifest_with("\"dtype\": \"f32\", \"shape\": [100, 1], \"offset\": 256", "\"dtype\": \"f64\", \"shape\": [100, 1], \"offset\": 256"), "tensor 'x': dtype 'f64' is not supported"},
        {fake_manifest_with(", \"fan_in\": 1}", "}"), "tensor 'fc.weight': missing \"fan_in\""},
        {fake_manifest_with("\"offset\": 64", "\"offset\": 66"), "tensor 'fc.bias': offset 66 is not 4-byte aligned"},
        {fake_manifest_with("\"shape\": [], \"offset\": 1600", "\"shape\": [2], \"offset\": 1600"), "tensor 'lr': a 'lr' tensor must hold one value"},
        {fake_manifest_with("\"name\": \"y\"", "\"name\": \"x\""), "tensor 'x' appears twice"},
        {fake_manifest_with("\"role\": \"loss\"", "\"role\": \"output\""), "no tensor has role 'loss'"},
        {fake_manifest_with("\"steps\": 100", "\"steps\": 0"), "\"steps\" must be a positive integer"},
    };
    for (const Case &c : cases) {
        std::string err = parse_error(c.text);
        EXPECT_EQ(err.rfind("model manifest: ", 0), 0u) << err;
        EXPECT_NE(err.find(c.message), std::string::npos) << "expected: " << c.message << "\n got: " << err;
    }
}

TEST(Arena, IsAlignedAndZeroed) {
    kiln::Arena arena(1000);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(arena.data()) % 64, 0u);
    for (uint64_t i = 0; i < arena.size(); ++i) ASSERT_EQ(arena.data()[i], 0) << i;
}

TEST(Init, IsSeededReproducibleAndWithinBounds) {
    // A wider layer than the fake's, so the bound 1/sqrt(fan_in) is not 1 and many values are drawn.
    Manifest m = kiln::parse_manifest(R"({"model": "m", "arena_bytes": 2048,
      "tensors": [
        {"name": "w", "role": "param", "dtype": "f32", "shape": [10, 16], "offset": 0, "fan_in": 16},
        {"name": "b", "role": "param", "dtype": "f32", "shape": [10], "offset": 640, "fan_in": 16},
        {"name": "s", "role": "state", "dtype": "f32", "shape": [10], "offset": 704},
        {"name": "loss", "role": "loss", "dtype": "f32", "shape": [], "offset": 768}],
      "train": {"dataset": "regression", "steps": 1, "lr": 0.1}})");
    auto init = [&](uint64_t seed) {
        kiln::Arena arena(m.arena_bytes);
        kiln::init_params(m, arena, seed);
        return std::vector<float>(arena.f32(*m.find("w")), arena.f32(*m.find("w")) + 170);  // w then b
    };
    std::vector<float> a = init(0), b = init(0), c = init(1);
    EXPECT_EQ(a, b) << "same seed, same weights";
    EXPECT_NE(a, c) << "another seed, other weights";

    const float bound = 0.25f;  // 1/sqrt(16)
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
    for (int i = 0; i < 10; ++i) EXPECT_EQ(arena.f32(*m.find("s"))[i], 0.0f) << "state stays zero";
    for (int i = 0; i < 10; ++i) {
        EXPECT_NE(arena.f32(*m.find("b"))[i], 0.0f);
        EXPECT_LE(std::fabs(arena.f32(*m.find("b"))[i]), bound);
    }
}

TEST(Datasets, RegressionMatchesTheFormula) {
    kiln::RegressionData d = kiln::make_regression(100, 0);
    ASSERT_EQ(d.x.size(), 100u);
    ASSERT_EQ(d.y.size(), 100u);
    EXPECT_EQ(d.x.front(), -1.0f);
    EXPECT_EQ(d.x.back(), 1.0f);
    double noise_mean = 0;
    for (size_t i = 0; i < 100; ++i) {
        EXPECT_NEAR(d.x[i], -1.0 + 2.0 * double(i) / 99.0, 1e-6) << i;
        float noise = d.y[i] - d.x[i] * d.x[i];
        EXPECT_GE(noise, 0.0f) << i;
        EXPECT_LT(noise, 0.2f + 1e-6f) << i;
        noise_mean += noise / 100.0;
    }
    EXPECT_NEAR(noise_mean, 0.1, 0.03) << "0.2 * U[0,1) has mean 0.1";

    kiln::RegressionData same = kiln::make_regression(100, 0), other = kiln::make_regression(100, 5);
    EXPECT_EQ(d.y, same.y);
    EXPECT_NE(d.y, other.y);
    EXPECT_EQ(d.x, other.x);
}

TEST(Datasets, LinspaceMatchesTorch) {
    // torch.linspace(-1, 1, 5) and the symmetric halves of an odd count.
    EXPECT_EQ(kiln::linspace(-1, 1, 5), (std::vector<float>{-1, -0.5f, 0, 0.5f, 1}));
    EXPECT_EQ(kiln::linspace(2, 3, 1), (std::vector<float>{2}));
    EXPECT_TRUE(kiln::linspace(0, 1, 0).empty());
}

TEST(Datasets, FillsTheModelsInputs) {
    Manifest m = kiln::parse_manifest(kiln_manifest);
    kiln::Arena arena(m.arena_bytes);
    kiln::fill_dataset(m, arena, 3);
    kiln::RegressionData d = kiln::make_regression(100, 3);
    EXPECT_EQ(std::vector<float>(arena.f32(*m.find("y")), arena.f32(*m.find("y")) + 100), d.y);
}

TEST(Datasets, RefusesUnknownNamesAndShapes) {
    auto fill_error = [](const std::string &text) {
        Manifest m = kiln::parse_manifest(text);
        kiln::Arena arena(m.arena_bytes);
        try {
            kiln::fill_dataset(m, arena, 0);
        } catch (const kiln::UserError &e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(fill_error(fake_manifest_with("\"dataset\": \"regression\"", "\"dataset\": \"spirals\""))
                  .find("unknown dataset 'spirals' (known: regression)"),
              std::string::npos);
    EXPECT_NE(fill_error(fake_manifest_with("\"shape\": [100, 1], \"offset\": 704", "\"shape\": [50, 2], \"offset\": 704"))
                  .find("dataset 'regression' produces 'y' of shape [N, 1], the model expects [50, 2]"),
              std::string::npos);
    EXPECT_NE(fill_error(fake_manifest_with("\"shape\": [100, 1], \"offset\": 704", "\"shape\": [90, 1], \"offset\": 704"))
                  .find("same number of rows"),
              std::string::npos);
    EXPECT_NE(fill_error(fake_manifest_with("\"name\": \"prediction\", \"role\": \"output\"", "\"name\": \"z\", \"role\": \"input\""))
                  .find("the model's input 'z' is not provided by dataset 'regression'"),
              std::string::npos);
}

}  // namespace
