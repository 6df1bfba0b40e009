// Output paths: what is refused before a run, and that a device is never replaced by a file.
#include "kiln/output_paths.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "kiln/error.h"
#include "kiln/safetensors.h"
#include "test_util.h"

namespace {

using kiln::OutputKind;
using kiln::UserError;
using testutil::TempDir;

std::string refusal(const std::string &path, OutputKind kind, uint64_t bytes = 0) {
  try {
    kiln::check_output_path(path, "checkpoint", kind, bytes);
  } catch (const UserError &e) {
    return e.what();
  }
  return "";
}

TEST(OutputPaths, AcceptsNewAndExistingFiles) {
  TempDir dir;
  EXPECT_EQ(refusal(dir / "new.safetensors", OutputKind::replace, 1000), "");
  const float a[1] = {1};
  kiln::write_safetensors(dir / "old.safetensors", {{"a", "F32", {1}, a}});
  EXPECT_EQ(refusal(dir / "old.safetensors", OutputKind::replace, 1000), "");
  // A stream may go to a device: /dev/null takes metrics as a file would.
  EXPECT_EQ(refusal("/dev/null", OutputKind::stream), "");
}

TEST(OutputPaths, RefusesFoldersAndMissingFolders) {
  TempDir dir;
  std::string err = refusal(dir / "missing/c.safetensors", OutputKind::replace);
  EXPECT_NE(err.find("missing/c.safetensors: cannot write the checkpoint there: directory"), std::string::npos) << err;
  std::filesystem::create_directory(dir / "taken");
  err = refusal(dir / "taken", OutputKind::stream);
  EXPECT_NE(err.find("taken: cannot write the checkpoint there: it is a directory"), std::string::npos) << err;
}

TEST(OutputPaths, RefusesToReplaceWhatIsNotARegularFile) {
  // A checkpoint is renamed over its path: over a device or a pipe that would replace the node
  // (a pipe stands in for /dev/full here, which the test must not risk).
  TempDir dir;
  std::string pipe = dir / "pipe";
  ASSERT_EQ(::mkfifo(pipe.c_str(), 0666), 0);
  std::string err = refusal(pipe, OutputKind::replace);
  EXPECT_NE(err.find("pipe: cannot write the checkpoint there: it is not a regular file"), std::string::npos) << err;
  const float a[1] = {1};
  try {
    kiln::write_safetensors(pipe, {{"a", "F32", {1}, a}});
    FAIL() << "write_safetensors replaced a pipe";
  } catch (const UserError &e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
  struct stat st{};
  ASSERT_EQ(::stat(pipe.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the pipe is still a pipe";
}

TEST(OutputPaths, RefusesWhenTheFilesystemIsShortOfSpace) {
  // No filesystem here has 2^62 bytes free: the check compares with what statvfs reports.
  TempDir dir;
  std::string err = refusal(dir / "c.safetensors", OutputKind::replace, uint64_t(1) << 62);
  EXPECT_NE(err.find("c.safetensors: cannot write the checkpoint there: its filesystem has "), std::string::npos)
      << err;
  EXPECT_NE(err.find("bytes free, and the checkpoint takes 4611686018427387904 bytes"), std::string::npos) << err;
}

} // namespace
