// The command line: values, defaults, --help and the exit code 2 for every malformed flag.
#include "kiln/flags.h"

#include <gtest/gtest.h>

#include "fake_model.h"
#include "kiln/error.h"
#include "test_util.h"

namespace {

kiln::Options parse(std::vector<std::string> args) {
  args.insert(args.begin(), "prog");
  std::vector<char *> argv;
  for (std::string &a : args)
    argv.push_back(a.data());
  return kiln::parse_flags(int(argv.size()), argv.data());
}

TEST(Flags, ParsesEveryFlag) {
  kiln::Options o = parse({"--steps",
                           "7",
                           "--epochs",
                           "3",
                           "--lr=0.25",
                           "--seed",
                           "42",
                           "--threads",
                           "4",
                           "--init",
                           "i.st",
                           "--data",
                           "d.st",
                           "--metrics",
                           "m.jsonl",
                           "--kernel-times",
                           "k.json",
                           "--dump-kernels",
                           "d.safetensors",
                           "--output",
                           "none",
                           "--save",
                           "s.st",
                           "--save-net",
                           "n.st",
                           "--predictions",
                           "p.csv",
                           "--shuffle",
                           "off",
                           "--drop-last",
                           "--print-batches",
                           "--denormals",
                           "keep",
                           "--quiet"});
  EXPECT_EQ(*o.steps, 7);
  EXPECT_EQ(*o.epochs, 3);
  EXPECT_EQ(o.save_net, "n.st");
  EXPECT_EQ(o.predictions, "p.csv");
  EXPECT_EQ(o.shuffle, false);
  EXPECT_TRUE(o.drop_last);
  EXPECT_TRUE(o.print_batches);
  EXPECT_DOUBLE_EQ(*o.lr, 0.25);
  EXPECT_EQ(o.seed, 42u);
  EXPECT_EQ(o.threads, 4);
  EXPECT_FALSE(o.flush_denormals);
  EXPECT_EQ(o.init, "i.st");
  EXPECT_EQ(o.data, "d.st");
  EXPECT_EQ(o.metrics, "m.jsonl");
  EXPECT_EQ(o.kernel_times, "k.json");
  EXPECT_EQ(o.dump_kernels, "d.safetensors");
  EXPECT_EQ(o.save, "s.st");
  EXPECT_TRUE(o.quiet);
  EXPECT_FALSE(o.help);
  kiln::Manifest m = kiln::parse_manifest(fake::model().manifest);
  EXPECT_EQ(kiln::output_path(o, m), "");
}

TEST(Flags, DefaultsComeFromTheModel) {
  kiln::Options o = parse({});
  EXPECT_FALSE(o.steps);
  EXPECT_FALSE(o.epochs);
  EXPECT_FALSE(o.lr);
  EXPECT_FALSE(o.shuffle);
  EXPECT_FALSE(o.drop_last);
  EXPECT_FALSE(o.print_batches);
  EXPECT_EQ(o.seed, 0u);
  EXPECT_EQ(o.threads, 1);
  EXPECT_TRUE(o.flush_denormals);
  kiln::Manifest m = kiln::parse_manifest(fake::model().manifest);
  EXPECT_EQ(kiln::output_path(o, m), "fake_linear.svg");
}

// A model compiled without pictures draws none by default and refuses --output before training.
TEST(Flags, NoPictureUnlessTheModelDraws) {
  kiln::Manifest m = kiln::parse_manifest(fake::model().manifest);
  m.train.draw = false;
  EXPECT_EQ(kiln::output_path(parse({}), m), "");
  EXPECT_EQ(kiln::output_path(parse({"--output", "none"}), m), "");
  try {
    kiln::output_path(parse({"--output", "fit.svg"}), m);
    ADD_FAILURE() << "--output accepted";
  } catch (const kiln::UserError &e) {
    EXPECT_NE(std::string(e.what()).find("'fake_linear' was compiled without pictures"), std::string::npos) << e.what();
  }
}

TEST(Flags, MalformedCommandLinesExitWith2) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{"--foo"}, "error: unknown flag '--foo' (see --help)\n"},
      {{"--foo=3"}, "error: unknown flag '--foo' (see --help)\n"},
      {{"--steps"}, "error: flag '--steps' needs a value (N) (see --help)\n"},
      {{"--steps", "ten"}, "error: invalid value 'ten' for --steps: expected a non-negative integer (see --help)\n"},
      {{"--steps", "12x"}, "error: invalid value '12x' for --steps: expected a non-negative integer (see --help)\n"},
      {{"--steps", "-1"}, "error: invalid value '-1' for --steps: expected a non-negative integer (see --help)\n"},
      {{"--epochs", "-2"}, "error: invalid value '-2' for --epochs: expected a non-negative integer (see --help)\n"},
      {{"--steps", "99999999999999999999"},
       "error: invalid value '99999999999999999999' for --steps: expected a non-negative integer (see --help)\n"},
      {{"--shuffle", "yes"}, "error: invalid value 'yes' for --shuffle: expected on or off (see --help)\n"},
      {{"--denormals", "zero"}, "error: invalid value 'zero' for --denormals: expected flush or keep (see --help)\n"},
      {{"--drop-last=1"}, "error: flag '--drop-last' takes no value (see --help)\n"},
      {{"--lr", "fast"}, "error: invalid value 'fast' for --lr: expected a non-negative number (see --help)\n"},
      {{"--lr", "nan"}, "error: invalid value 'nan' for --lr: expected a non-negative number (see --help)\n"},
      {{"--seed", "-1"}, "error: invalid value '-1' for --seed: expected a non-negative integer (see --help)\n"},
      {{"--threads", "0"}, "error: invalid value '0' for --threads: expected an integer from 1 to 4096 (see --help)\n"},
      {{"--quiet=yes"}, "error: flag '--quiet' takes no value (see --help)\n"},
      {{"extra"}, "error: unexpected argument 'extra' (see --help)\n"},
  };
  for (const Case &c : cases) {
    testutil::RunResult r = testutil::run(fake::model(), c.args);
    EXPECT_EQ(r.code, 2) << c.args[0];
    EXPECT_EQ(r.err, c.message);
    EXPECT_EQ(r.out, "") << "nothing may run before the command line is accepted";
  }
}

TEST(Flags, HelpListsEveryFlagWithItsDefault) {
  testutil::RunResult r = testutil::run(fake::model(), {"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "");
  for (const char *flag : {"--steps N",
                           "--epochs N",
                           "--shuffle on|off",
                           "--drop-last",
                           "--print-batches",
                           "--lr F",
                           "--seed N",
                           "--threads N",
                           "--denormals flush|keep",
                           "--comm-timeout SECONDS",
                           "--print-param-hash",
                           "--device N",
                           "--init FILE",
                           "--data FILE",
                           "--metrics FILE",
                           "--kernel-times FILE",
                           "--dump-kernels FILE",
                           "--on-nonfinite stop|warn",
                           "--checkpoint-every N",
                           "--checkpoint-keep K",
                           "--output FILE",
                           "--save FILE",
                           "--save-net FILE",
                           "--predictions FILE",
                           "--quiet",
                           "--help"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << " missing from:\n" << r.out;
  EXPECT_NE(r.out.find("(default: from --epochs)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(default: 25, from the model)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(default: on, from the model)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(default: 0.5, from the model)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(default: fake_linear.svg)"), std::string::npos) << r.out;
  // Every flag but --help itself states a default.
  size_t lines_with_default = 0, pos = 0;
  while ((pos = r.out.find("(default: ", pos)) != std::string::npos)
    ++lines_with_default, ++pos;
  EXPECT_EQ(lines_with_default, 29u);
}

} // namespace
