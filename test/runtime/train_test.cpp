// The whole runtime around the fake model: training, metrics, console, --init/--data/--save,
// failures, divergence and the picture.
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
#include "test_util.h"

namespace {

using testutil::RunResult;
using testutil::TempDir;

std::vector<nlohmann::json> metrics_lines(const std::string &path) {
    std::vector<nlohmann::json> out;
    std::istringstream in(testutil::read_file(path));
    std::string line;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
        out.push_back(j);
    }
    return out;
}

// The lowest MSE a line w*x + b can reach on (x, y): the fixed point the fake model's SGD approaches.
double least_squares_loss(const std::vector<float> &x, const std::vector<float> &y) {
    double n = double(x.size()), sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < x.size(); ++i) sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
    double w = (n * sxy - sx * sy) / (n * sxx - sx * sx), b = (sy - w * sx) / n, loss = 0;
    for (size_t i = 0; i < x.size(); ++i) loss += std::pow(w * x[i] + b - y[i], 2) / n;
    return loss;
}

TEST(Train, FakeModelTrainsAndWritesMetrics) {
    TempDir dir;
    RunResult r = testutil::run(fake::model(), {"--metrics", dir / "m.jsonl", "--output", "none"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");

    std::vector<nlohmann::json> lines = metrics_lines(dir / "m.jsonl");
    ASSERT_EQ(lines.size(), 100u);
    for (size_t i = 0; i < lines.size(); ++i) {
        ASSERT_EQ(lines[i]["step"].get<int64_t>(), int64_t(i + 1));
        ASSERT_TRUE(lines[i]["loss"].is_number());
        ASSERT_TRUE(lines[i]["step_ms"].is_number());
        ASSERT_GE(lines[i]["step_ms"].get<double>(), 0.0);
    }
    double first = lines.front()["loss"], last = lines.back()["loss"];
    EXPECT_LT(last, first);
    kiln::RegressionData d = kiln::make_regression(100, 0);
    EXPECT_NEAR(last, least_squares_loss(d.x, d.y), 1e-4) << "SGD should have converged to the best line";

    // Console: step 1, every 5th, the last, then the summary.
    EXPECT_EQ(r.out.rfind("step   1  loss ", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("\nstep   5  loss "), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("\nstep   6  loss "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nstep 100  loss "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("final loss "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" after 100 steps, median step "), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1 + 20 + 1) << r.out;
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
        for (const auto &j : metrics_lines(dir / "m.jsonl")) out.push_back(j["loss"]);
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

TEST(Train, InitDataAndSaveGoThroughSafetensors) {
    TempDir dir;
    // Data on an exact line y = 3x + 1, so the trained params are known.
    std::vector<float> x = kiln::linspace(-1, 1, 100), y(100);
    for (size_t i = 0; i < 100; ++i) y[i] = 3 * x[i] + 1;
    kiln::write_safetensors(dir / "data.safetensors", {{"x", "F32", {100, 1}, x.data()}, {"y", "F32", {100, 1}, y.data()}});
    const float w = 0.5f, b = -0.25f;
    kiln::write_safetensors(dir / "init.safetensors", {{"fc.weight", "F32", {1, 1}, &w}, {"fc.bias", "F32", {1}, &b}});

    RunResult r = testutil::run(fake::model(), {"--data", dir / "data.safetensors", "--init", dir / "init.safetensors",
                                                "--metrics", dir / "m.jsonl", "--save", dir / "out.safetensors",
                                                "--steps", "200", "--output", "none"});
    ASSERT_EQ(r.code, 0) << r.err;
    std::vector<nlohmann::json> lines = metrics_lines(dir / "m.jsonl");
    double expected_first = 0;
    for (size_t i = 0; i < 100; ++i) expected_first += std::pow(double(w * x[i] + b) - y[i], 2) / 100;
    EXPECT_NEAR(lines[0]["loss"].get<double>(), expected_first, 1e-6 * expected_first) << "--init was not used";

    kiln::SafetensorsFile saved = kiln::SafetensorsFile::read(dir / "out.safetensors");
    EXPECT_EQ(saved.tensors().size(), 2u) << "only params are saved";
    EXPECT_EQ(saved.metadata().at("model"), "fake_linear");
    float sw, sb;
    std::memcpy(&sw, saved.expect("fc.weight", "F32", {1, 1}), 4);
    std::memcpy(&sb, saved.expect("fc.bias", "F32", {1}), 4);
    EXPECT_NEAR(sw, 3.0f, 1e-4);
    EXPECT_NEAR(sb, 1.0f, 1e-4);
    EXPECT_NE(r.out.find("saved parameters to "), std::string::npos);

    // A saved checkpoint feeds --init: the run starts at the trained loss.
    r = testutil::run(fake::model(), {"--data", dir / "data.safetensors", "--init", dir / "out.safetensors", "--steps", "1",
                                      "--metrics", dir / "m.jsonl", "--output", "none"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_LT(metrics_lines(dir / "m.jsonl")[0]["loss"].get<double>(), 1e-7);
}

TEST(Train, RefusedFilesAreUserErrors) {
    TempDir dir;
    std::vector<float> x(50, 0.f), y(100, 0.f);
    std::string data = dir / "data.safetensors";
    kiln::write_safetensors(data, {{"x", "F32", {50, 1}, x.data()}, {"y", "F32", {100, 1}, y.data()}});
    RunResult r = testutil::run(fake::model(), {"--data", data, "--output", "none"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err, "error: " + data + ": tensor 'x' has shape [50, 1], the model expects [100, 1]\n");
    EXPECT_EQ(r.out, "") << "no training after a refused file";

    std::string missing = dir / "nope.safetensors";
    r = testutil::run(fake::model(), {"--init", missing, "--output", "none"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err.rfind("error: " + missing + ": cannot open", 0), 0u) << r.err;

    r = testutil::run(fake::model(), {"--metrics", dir / "no/such/dir/m.jsonl", "--output", "none"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("cannot open for metrics"), std::string::npos) << r.err;

    r = testutil::run(fake::model(), {"--save", dir / "no/such/dir/p.safetensors", "--output", "none"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("not writable"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << "a path that cannot be written is refused before training";
}

TEST(Train, BadManifestAndFailingStepAreUserErrors) {
    RunResult r = testutil::run(fake::model_with_manifest("{\"model\": 3}"), {"--output", "none"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err.rfind("error: model manifest: ", 0), 0u) << r.err;

    fake::fail_at_step = 3;
    r = testutil::run(fake::model(), {"--output", "none"});
    fake::fail_at_step = 0;
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err, "error: training step 3 failed with error code -7\n");
}

TEST(Train, DivergenceWarnsOnceAndContinues) {
    TempDir dir;
    RunResult r = testutil::run(fake::model(), {"--lr", "1000", "--steps", "60", "--metrics", dir / "m.jsonl",
                                                "--output", "none"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err.rfind("warning: the loss is ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    std::vector<nlohmann::json> lines = metrics_lines(dir / "m.jsonl");
    ASSERT_EQ(lines.size(), 60u);
    EXPECT_TRUE(lines.back()["loss"].is_null()) << "a non-finite loss is written as null";
}

TEST(Train, DrawsThePicture) {
    TempDir dir;
    std::string svg = dir / "fit.svg";
    RunResult r = testutil::run(fake::model(), {"--output", svg, "--steps", "20"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    std::string text = testutil::read_file(svg);
    EXPECT_NE(text.find("<svg"), std::string::npos);
    // PLplot's SVG spells text as character references: "fa" is "&#x66;&#x61;".
    std::string title_ref;
    for (char c : std::string("fake_linear: final loss")) title_ref += fmt::format("&#x{:x};", int(c));
    EXPECT_NE(text.find(title_ref), std::string::npos) << "the title names the model and the loss";
    // Only the runtime's own lines on stdout: PLplot must not print.
    std::istringstream out(r.out);
    for (std::string line; std::getline(out, line);)
        EXPECT_TRUE(line.rfind("step ", 0) == 0 || line.rfind("final loss ", 0) == 0 || line == "wrote " + svg) << line;
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1) << "no temp file left";

    r = testutil::run(fake::model(), {"--output", dir / "fit.png"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("use a name ending in .svg"), std::string::npos) << r.err;
    r = testutil::run(fake::model(), {"--output", dir / "missing/fit.svg"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.out, "");
}

TEST(Train, PlotFailureIsAnErrorNotACrash) {
    TempDir dir;
    kiln::FitPlot plot{"t", {0, 1}, {0, 1}, {0, 1}};
    // A directory where the file should be: rename fails, PLplot cannot be blamed, we still get a message.
    std::filesystem::create_directory(dir / "taken.svg");
    try {
        kiln::plot_fit_svg(dir / "taken.svg", plot);
        FAIL() << "drawing over a directory succeeded";
    } catch (const kiln::UserError &e) {
        EXPECT_NE(std::string(e.what()).find("cannot draw the picture"), std::string::npos) << e.what();
    }
}

}  // namespace
