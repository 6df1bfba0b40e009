// safetensors: the round trip, the atomic write, and every refusal naming the file and tensor.
#include "kiln/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "kiln/error.h"
#include "test_util.h"

namespace {

using kiln::SafetensorsFile;
using kiln::UserError;
using testutil::TempDir;

// A file from a raw header text and buffer, to build damaged files byte by byte.
std::string raw_file(const std::string &header, const std::string &buffer, uint64_t claimed_length) {
  std::string bytes(8, '\0');
  std::memcpy(bytes.data(), &claimed_length, 8);
  return bytes + header + buffer;
}
std::string raw_file(const std::string &header, const std::string &buffer) {
  return raw_file(header, buffer, header.size());
}

std::string floats(std::initializer_list<float> values) {
  std::string s(values.size() * 4, '\0');
  std::memcpy(s.data(), values.begin(), s.size());
  return s;
}

// The error text of reading `path`, or "" if it was accepted.
std::string read_error(const std::string &path) {
  try {
    SafetensorsFile::read(path);
  } catch (const UserError &e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, RoundTrip) {
  TempDir dir;
  std::string path = dir / "t.safetensors";
  const float w[6] = {1, -2, 3.5f, 0, 1e-20f, -0.0f};
  const int32_t labels[3] = {7, -1, 2};
  kiln::write_safetensors(path,
                          {{"w", "F32", {2, 3}, w}, {"labels", "I32", {3}, labels}, {"empty", "F32", {0, 4}, nullptr}},
                          {{"model", "test"}});

  std::string bytes = testutil::read_file(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "the data buffer should start 8-byte aligned";
  EXPECT_EQ(bytes.size(), 8 + n + sizeof w + sizeof labels);

  SafetensorsFile f = SafetensorsFile::read(path);
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.metadata().at("model"), "test");
  const uint8_t *pw = f.expect("w", "F32", {2, 3});
  EXPECT_EQ(std::memcmp(pw, w, sizeof w), 0);
  const uint8_t *pl = f.expect("labels", "I32", {3});
  EXPECT_EQ(std::memcmp(pl, labels, sizeof labels), 0);
  EXPECT_EQ(f.find("empty")->shape, (std::vector<int64_t>{0, 4}));

  // Nothing but the final file is left behind by the atomic write.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(Safetensors, WriteReplacesAtomicallyAndFailsCleanly) {
  TempDir dir;
  std::string path = dir / "t.safetensors";
  const float a[1] = {1}, b[2] = {2, 3};
  kiln::write_safetensors(path, {{"a", "F32", {1}, a}});
  kiln::write_safetensors(path, {{"b", "F32", {2}, b}});
  SafetensorsFile f = SafetensorsFile::read(path);
  EXPECT_EQ(f.find("a"), nullptr);
  EXPECT_NE(f.find("b"), nullptr);

  std::string bad = dir / "missing_dir/t.safetensors";
  try {
    kiln::write_safetensors(bad, {{"a", "F32", {1}, a}});
    FAIL() << "writing into a missing directory succeeded";
  } catch (const UserError &e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
}

TEST(Safetensors, RefusesMissingFile) {
  TempDir dir;
  std::string path = dir / "nope.safetensors";
  std::string err = read_error(path);
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_NE(err.find("cannot open"), std::string::npos) << err;
}

TEST(Safetensors, RefusesTruncatedFile) {
  TempDir dir;
  std::string path = dir / "t.safetensors";
  testutil::write_file(path, std::string("\x10\0\0", 3));
  std::string err = read_error(path);
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_NE(err.find("too short"), std::string::npos) << err;

  // Cut inside the data: the header is intact but the tensor's bytes are gone.
  const float w[4] = {1, 2, 3, 4};
  kiln::write_safetensors(path, {{"w", "F32", {4}, w}});
  std::string bytes = testutil::read_file(path);
  testutil::write_file(path, bytes.substr(0, bytes.size() - 3));
  err = read_error(path);
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_NE(err.find("tensor 'w'"), std::string::npos) << err;
}

TEST(Safetensors, RefusesHeaderLongerThanFile) {
  TempDir dir;
  std::string path = dir / "t.safetensors";
  testutil::write_file(path, raw_file("{}", "", 1000));
  std::string err = read_error(path);
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_NE(err.find("header length 1000 exceeds the file size 10"), std::string::npos) << err;
}

TEST(Safetensors, RefusesCorruptJson) {
  TempDir dir;
  std::string path = dir / "t.safetensors";
  testutil::write_file(path, raw_file(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4])", floats({1})));
  std::string err = read_error(path);
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_NE(err.find("not valid JSON"), std::string::npos) << err;

  testutil::write_file(path, raw_file("[1, 2]", ""));
  EXPECT_NE(read_error(path).find("not a JSON object"), std::string::npos);
}

TEST(Safetensors, RefusesOffsetsOutOfBounds) {
  TempDir dir;
  std::string path = dir / "t.safetensors";
  testutil::write_file(path, raw_file(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", floats({1})));
  std::string err = read_error(path);
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_NE(err.find("tensor 'w' has data_offsets [0, 8] outside the data buffer of 4 bytes"), std::string::npos)
      << err;

  testutil::write_file(path, raw_file(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})", floats({1})));
  EXPECT_NE(read_error(path).find("tensor 'w'"), std::string::npos);
}

TEST(Safetensors, RefusesInconsistentEntries) {
  TempDir dir;
  std::string path = dir / "t.safetensors";
  struct Case {
    const char *header;
    const char *message;
  } cases[] = {
      {R"({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", "need 12 bytes"},
      {R"({"w": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}})", "unknown dtype 'Q7'"},
      {R"({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", "bad shape"},
      {R"({"w": {"dtype": "F32", "shape": [2]}})", "data_offsets"},
      {R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
             "v": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
       "overlaps another tensor"},
      {R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", "leaves a gap"},
      {R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "__metadata__": {"a": 1}})", "metadata 'a'"},
  };
  for (const Case &c : cases) {
    testutil::write_file(path, raw_file(c.header, floats({1, 2})));
    std::string err = read_error(path);
    EXPECT_NE(err.find(path), std::string::npos) << c.header << " -> " << err;
    EXPECT_NE(err.find(c.message), std::string::npos) << c.header << " -> " << err;
  }
}

// The model's view: name, dtype, shape, with the exact message format users see.
TEST(Safetensors, ExpectRefusesWrongNameDtypeShape) {
  TempDir dir;
  std::string path = dir / "data.safetensors";
  std::vector<float> x(50, 0.f);
  std::vector<double> y(100, 0.0);
  kiln::write_safetensors(path, {{"x", "F32", {50, 1}, x.data()}, {"y", "F64", {100, 1}, y.data()}});
  SafetensorsFile f = SafetensorsFile::read(path);
  auto expect_error = [&](const std::string &name, const std::string &dtype, std::vector<int64_t> shape) {
    try {
      f.expect(name, dtype, shape);
    } catch (const UserError &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(expect_error("x", "F32", {100, 1}), path + ": tensor 'x' has shape [50, 1], the model expects [100, 1]");
  EXPECT_EQ(expect_error("y", "F32", {100, 1}), path + ": tensor 'y' has dtype F64, the model expects F32");
  EXPECT_EQ(expect_error("z", "F32", {1}), path + ": no tensor 'z', which the model needs");
  EXPECT_EQ(expect_error("x", "F32", {50, 1}), "");
}

} // namespace
