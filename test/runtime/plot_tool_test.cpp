// kiln-plot (kiln::plot_tool_main): loss curves of several metrics files, and its errors.
#include "kiln/plot_tool.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "fake_model.h"
#include "kiln/error.h"
#include "kiln/metrics.h"
#include "test_util.h"

namespace {

using testutil::RunResult;
using testutil::TempDir;

RunResult plot(std::vector<std::string> args) {
  args.insert(args.begin(), "kiln-plot");
  std::vector<char *> argv;
  for (std::string &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int code = kiln::plot_tool_main(int(args.size()), argv.data());
  RunResult r{code, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
  return r;
}

std::string svg_text(const std::string &s) {
  std::string out;
  for (char c : s)
    out += fmt::format("&#x{:x};", int(c));
  return out;
}

TEST(PlotTool, ReadsTheLossCurveOfAMetricsFile) {
  TempDir dir;
  testutil::write_file(dir / "m.jsonl", "{\"step\": 1, \"epoch\": 0, \"loss\": 0.5, \"step_ms\": 1, \"lr\": 0.1}\n"
                                        "{\"step\": 2, \"epoch\": 0, \"loss\": null, \"step_ms\": 1, \"lr\": 0.1}\n"
                                        "\n"
                                        "{\"step\": 3, \"epoch\": 1, \"loss\": 0.25, \"step_ms\": 1, \"lr\": 0.1}\n"
                                        "{\"final\": true, \"step\": 3, \"eval_loss\": 0.2}\n");
  kiln::LossCurve c = kiln::read_loss_curve(dir / "m.jsonl");
  EXPECT_EQ(c.step, (std::vector<double>{1, 3}));
  EXPECT_EQ(c.loss, (std::vector<double>{0.5, 0.25}));
}

TEST(PlotTool, DrawsOneCurvePerRunWithALegend) {
  TempDir dir;
  // Two real runs of the fake model, as lesson 9 compares optimizers.
  for (const char *lr : {"0.5", "0.05"}) {
    RunResult r = testutil::run(
        fake::model(), {"--lr", lr, "--metrics", dir / fmt::format("lr{}.jsonl", lr), "--output", "none", "--quiet"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  const std::string svg = dir / "losses.svg";
  RunResult r = plot({"--output", svg, "--title", "SGD by lr", "--ylog", "fast=" + dir / "lr0.5.jsonl",
                      "slow=" + dir / "lr0.05.jsonl"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "wrote " + svg + "\n");
  EXPECT_EQ(r.err, "");
  std::string text = testutil::read_file(svg);
  EXPECT_NE(text.find("<svg"), std::string::npos);
  for (const char *label : {"SGD by lr", "fast", "slow", "step", "loss"})
    EXPECT_NE(text.find(svg_text(label)), std::string::npos) << label;
  // One polyline per curve at least: PLplot writes lines as <polyline>.
  EXPECT_GE(std::count(text.begin(), text.end(), 'p'), 2);
  EXPECT_NE(text.find("polyline"), std::string::npos);
}

TEST(PlotTool, ClearErrors) {
  TempDir dir;
  testutil::write_file(dir / "good.jsonl", "{\"step\": 1, \"loss\": 0.5}\n{\"step\": 2, \"loss\": 0.4}\n");
  testutil::write_file(dir / "bad.jsonl", "{\"step\": 1, \"loss\": 0.5}\nnot json\n");
  testutil::write_file(dir / "noloss.jsonl", "{\"step\": 1, \"accuracy\": 0.5}\n");
  testutil::write_file(dir / "empty.jsonl", "{\"final\": true, \"step\": 0, \"eval_loss\": 1}\n");
  const std::string svg = dir / "p.svg", good = "a=" + dir / "good.jsonl";
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string err;
  } cases[] = {
      {{good}, 2, "error: --output FILE.svg is required (see --help)\n"},
      {{"--output", svg}, 2, "error: no curves: give at least one LABEL=metrics.jsonl (see --help)\n"},
      {{"--output", svg, dir / "good.jsonl"},
       2,
       "error: '" + dir / "good.jsonl" + "' is not LABEL=FILE (for example adam=adam.jsonl) (see --help)\n"},
      {{"--output", svg, "=" + dir / "good.jsonl"},
       2,
       "error: '=" + dir / "good.jsonl" + "' has an empty label (see --help)\n"},
      {{"--output", svg, good, good}, 2, "error: label 'a' is given twice (see --help)\n"},
      {{"--output", svg, "--color", "red", good}, 2, "error: unknown flag '--color' (see --help)\n"},
      {{"--output"}, 2, "error: flag '--output' needs a value (FILE) (see --help)\n"},
      {{"--output", svg, "a=" + dir / "missing.jsonl"},
       1,
       "error: " + dir / "missing.jsonl" + ": cannot open: No such file or directory\n"},
      {{"--output", svg, "a=" + dir / "bad.jsonl"},
       1,
       "error: " + dir / "bad.jsonl" + ":2: not a JSON object (is this a metrics file?)\n"},
      {{"--output", svg, "a=" + dir / "noloss.jsonl"},
       1,
       "error: " + dir / "noloss.jsonl" + ":1: a metrics line needs a numeric \"step\" and \"loss\"\n"},
      {{"--output", svg, "a=" + dir / "empty.jsonl"},
       1,
       "error: " + dir / "empty.jsonl" + ": has no finite loss to draw\n"},
      {{"--output", dir / "p.png", good},
       1,
       "error: " + dir / "p.png" + ": pictures are written as SVG; use a name ending in .svg\n"},
  };
  for (const Case &c : cases) {
    RunResult r = plot(c.args);
    EXPECT_EQ(r.code, c.code) << c.err;
    EXPECT_EQ(r.err, c.err);
    EXPECT_EQ(r.out, "");
  }
  EXPECT_FALSE(std::filesystem::exists(svg)) << "no picture from a failed run";

  RunResult help = plot({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_EQ(help.out.rfind("usage: kiln-plot --output FILE.svg", 0), 0u) << help.out;
}

} // namespace
