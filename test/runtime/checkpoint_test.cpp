// Checkpoints: --save (parameters) and --save-net (whole net) round trips through --init, every
// refusal of a damaged checkpoint, and a writer killed mid-write never leaving a torn file.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

#include "checkpoint_content.h"
#include "fake_model.h"
#include "kiln/error.h"
#include "kiln/model_abi.h"
#include "kiln/safetensors.h"
#include "test_util.h"

namespace {

using testutil::RunResult;
using testutil::TempDir;

TEST(Checkpoint, ParamsAndWholeNetRoundTrip) {
  TempDir dir;
  const std::string params = dir / "params.safetensors", net = dir / "net.safetensors";
  RunResult r = testutil::run(fake::model(), {"--steps", "20", "--save", params, "--save-net", net, "--predictions",
                                              dir / "trained.csv", "--output", "none"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\nsaved parameters to " + params + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nsaved the whole net to " + net + "\n"), std::string::npos) << r.out;

  kiln::SafetensorsFile p = kiln::SafetensorsFile::read(params), n = kiln::SafetensorsFile::read(net);
  ASSERT_EQ(p.tensors().size(), 2u) << "parameters only: no optimizer state";
  ASSERT_EQ(n.tensors().size(), 2u);
  for (const char *name : {"fc.weight", "fc.bias"}) {
    ASSERT_NE(p.find(name), nullptr) << name;
    ASSERT_NE(n.find(name), nullptr) << name;
    EXPECT_EQ(std::memcmp(p.data(*p.find(name)), n.data(*n.find(name)), 4), 0) << name;
  }
  EXPECT_EQ(p.metadata().at("kiln.format"), "params");
  EXPECT_EQ(n.metadata().at("kiln.format"), "whole-net");
  EXPECT_EQ(n.metadata().at("kiln.model"), "fake_linear");
  EXPECT_EQ(n.metadata().at("kiln.ir"), std::string(kiln_model_ir));

  // Lesson 7: trained, restored from the whole net, restored from the parameters -- one curve.
  for (const std::string &init : {params, net}) {
    r = testutil::run(fake::model(), {"--steps", "0", "--init", init, "--predictions", dir / "restored.csv", "--output",
                                      "none", "--quiet"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(testutil::read_file(dir / "restored.csv"), testutil::read_file(dir / "trained.csv")) << init;
  }
  // Without --init the predictions differ, so the comparison above can fail.
  r = testutil::run(fake::model(), {"--steps", "0", "--predictions", dir / "fresh.csv", "--output", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(testutil::read_file(dir / "fresh.csv"), testutil::read_file(dir / "trained.csv"));
}

// A copy of a good checkpoint with its header or bytes changed; refused by --init with a message
// naming the file and, where there is one, the tensor.
TEST(Checkpoint, DamagedCheckpointsAreRefused) {
  TempDir dir;
  const std::string good = dir / "good.safetensors";
  RunResult r = testutil::run(fake::model(), {"--steps", "1", "--save", good, "--output", "none", "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string bytes = testutil::read_file(good);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  const std::string header = bytes.substr(8, n), buffer = bytes.substr(8 + n);
  auto with_header = [&](std::string h) {
    uint64_t len = h.size();
    return std::string(reinterpret_cast<const char *>(&len), 8) + h + buffer;
  };
  auto replaced = [&](const std::string &from, const std::string &to) {
    std::string h = header;
    size_t at = h.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos)
      h.replace(at, from.size(), to);
    return with_header(h);
  };
  std::string oversized = bytes;
  const uint64_t huge = uint64_t(1) << 40;
  std::memcpy(oversized.data(), &huge, 8);
  std::string corrupt_json = header;
  corrupt_json[corrupt_json.find('}')] = ']';

  struct Case {
    const char *what;
    std::string file, message;
  } cases[] = {
      {"truncated", bytes.substr(0, bytes.size() - 3),
       "tensor 'fc.bias' has data_offsets [4, 8] outside the data buffer of 5 bytes"},
      {"cut in the header", bytes.substr(0, 20), "header length " + std::to_string(n) + " exceeds the file size 20"},
      {"oversized header length", oversized, "header length 1099511627776 exceeds the file size"},
      {"wrong shape", replaced("\"shape\":[1,1]", "\"shape\":[1]"),
       "tensor 'fc.weight' has shape [1], the model expects [1, 1]"},
      {"wrong name", replaced("\"fc.weight\"", "\"fc.w\""), "no tensor 'fc.weight', which the model needs"},
      {"wrong dtype", replaced("\"dtype\":\"F32\"", "\"dtype\":\"I32\""),
       "tensor 'fc.weight' has dtype I32, the model expects F32"},
      {"size mismatch", replaced("\"shape\":[1,1]", "\"shape\":[2,1]"),
       "tensor 'fc.weight' has data_offsets [0, 4] (4 bytes), but dtype F32 and shape [2, 1] need 8 bytes"},
      {"corrupted JSON", with_header(corrupt_json), "header is not valid JSON"},
  };
  for (const Case &c : cases) {
    const std::string path = dir / "bad.safetensors";
    testutil::write_file(path, c.file);
    r = testutil::run(fake::model(), {"--init", path, "--output", "none"});
    EXPECT_EQ(r.code, 1) << c.what;
    EXPECT_EQ(r.err.rfind("error: " + path + ": ", 0), 0u) << c.what << ": " << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.what << ": expected " << c.message << "\n got " << r.err;
    EXPECT_EQ(r.out, "") << c.what << ": nothing may train from a refused checkpoint";
  }
}

TEST(Checkpoint, ShapeMismatchNamesTheTensor) {
  // A well-formed file whose tensor has the wrong shape for the model.
  TempDir dir;
  const std::string path = dir / "p.safetensors";
  const float w[2] = {1, 2}, b = 0;
  kiln::write_safetensors(path, {{"fc.weight", "F32", {2, 1}, w}, {"fc.bias", "F32", {1}, &b}});
  RunResult r = testutil::run(fake::model(), {"--init", path, "--output", "none"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: " + path + ": tensor 'fc.weight' has shape [2, 1], the model expects [1, 1]\n");
}

// ---- The kill test: a real process, SIGKILLed while it writes -------------------------------

constexpr int kMegabytes = 24;
constexpr size_t kFloats = size_t(kMegabytes) * (1 << 20) / 4;

pid_t spawn_writer(const std::string &path, bool atomic) {
  std::string mb = std::to_string(kMegabytes);
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<const char *> argv = {KILN_CHECKPOINT_WRITER, path.c_str(), mb.c_str()};
    if (!atomic)
      argv.push_back("--non-atomic");
    argv.push_back(nullptr);
    ::execv(KILN_CHECKPOINT_WRITER, const_cast<char *const *>(argv.data()));
    _exit(127);
  }
  return pid;
}

// "" when the file is a complete checkpoint holding content A or B, else what is wrong.
std::string check_checkpoint(const std::string &path, const std::vector<float> (&contents)[2]) {
  try {
    kiln::SafetensorsFile f = kiln::SafetensorsFile::read(path);
    const std::string &which = f.metadata().at("content");
    const std::vector<float> &want = contents[which == "A" ? 0 : 1];
    const uint8_t *data = f.expect("w", "F32", {int64_t(kFloats)});
    if (std::memcmp(data, want.data(), kFloats * 4) != 0)
      return "the data is not content " + which;
    return "";
  } catch (const std::exception &e) {
    return e.what();
  }
}

struct KillStats {
  int rounds = 0, torn = 0, mid_write = 0;
  int stale = 0; // temporary files still there after the next successful write
  std::string first_problem;
};

// Kills the writer at several points; after each kill the file must be checked by `path`.
KillStats kill_rounds(const std::string &dir, bool atomic) {
  const std::string path = dir + "/ckpt.safetensors";
  const std::vector<float> contents[2] = {checkpoint_content(0, kFloats), checkpoint_content(1, kFloats)};
  KillStats stats;
  for (int delay_ms : {0, 2, 7, 15, 31, 55, 90, 140}) {
    std::filesystem::remove(path);
    pid_t pid = spawn_writer(path, atomic);
    EXPECT_GT(pid, 0);
    if (pid <= 0)
      break;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!std::filesystem::exists(path) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the writer exited on its own: " << status;
    ++stats.rounds;
    // A temp file left behind means the kill landed inside write_safetensors.
    auto temporaries = [&] {
      int n = 0;
      for (const auto &entry : std::filesystem::directory_iterator(dir))
        n += entry.path().filename().string().rfind("ckpt.safetensors.tmp.", 0) == 0;
      return n;
    };
    const bool killed_mid_write = temporaries() > 0;
    stats.mid_write += killed_mid_write;
    std::string problem = check_checkpoint(path, contents);
    if (!problem.empty()) {
      ++stats.torn;
      if (stats.first_problem.empty())
        stats.first_problem = problem;
    }
    // The next successful write of the checkpoint removes what the killed one left.
    if (killed_mid_write && atomic) {
      const float one = 1.0f;
      kiln::write_safetensors(path, {{"w", "F32", {1}, &one}});
      stats.stale += temporaries();
    }
  }
  return stats;
}

TEST(Checkpoint, KilledWriterNeverLeavesATornFile) {
  TempDir dir;
  KillStats s = kill_rounds(dir.path(), /*atomic=*/true);
  EXPECT_EQ(s.rounds, 8);
  EXPECT_EQ(s.torn, 0) << "first problem: " << s.first_problem;
  EXPECT_GE(s.mid_write, 1) << "no kill landed during a write, so the test proved nothing";
  EXPECT_EQ(s.stale, 0) << "a killed write's temporary file survived the next write";
  std::printf("killed the writer %d times, %d of them inside write_safetensors\n", s.rounds, s.mid_write);
}

// The control: the same kills against a writer that rewrites the file in place must find torn
// files, or the check above could not fail.
TEST(Checkpoint, KillTestCatchesANonAtomicWriter) {
  TempDir dir;
  KillStats s = kill_rounds(dir.path(), /*atomic=*/false);
  EXPECT_EQ(s.rounds, 8);
  EXPECT_GE(s.torn, 1) << "killing an in-place writer never tore the file";
  std::printf("in-place writer: %d of %d kills left a torn file\n", s.torn, s.rounds);
}

} // namespace
