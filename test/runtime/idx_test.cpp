// The idx reader: plain and gzip round trips, every refusal with its message, and the real
// Fashion-MNIST files Debian installs.
#include "kiln/idx.h"

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <string>

#include "kiln/error.h"
#include "idx_util.h"
#include "test_util.h"

namespace {

using testutil::idx_bytes;
using testutil::TempDir;

using testutil::error_of;

// Three 2x3 images and their labels, as bytes in the file.
const std::vector<uint8_t> kPixels = {0, 1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 60, 255, 254, 253, 252, 251, 250};
const std::vector<uint8_t> kLabels = {7, 0, 9};

TEST(Idx, PlainAndGzipRoundTrip) {
  TempDir dir;
  for (bool gzip : {false, true}) {
    const std::string images = dir / (gzip ? "i.gz" : "i"), labels = dir / (gzip ? "l.gz" : "l");
    if (gzip) {
      testutil::write_gzip(images, idx_bytes(0x803, {3, 2, 3}, kPixels));
      testutil::write_gzip(labels, idx_bytes(0x801, {3}, kLabels));
      ASSERT_EQ(testutil::read_file(images).substr(0, 2), "\x1f\x8b") << "really gzip";
    } else {
      testutil::write_file(images, idx_bytes(0x803, {3, 2, 3}, kPixels));
      testutil::write_file(labels, idx_bytes(0x801, {3}, kLabels));
    }
    kiln::IdxArray a = kiln::read_idx_images(images);
    EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 3})) << gzip;
    EXPECT_EQ(a.data, kPixels) << gzip;
    kiln::IdxArray b = kiln::read_idx_labels(labels);
    EXPECT_EQ(b.dims, (std::vector<int64_t>{3})) << gzip;
    EXPECT_EQ(b.data, kLabels) << gzip;
  }
}

TEST(Idx, RefusalsNameTheFileAndTheReason) {
  TempDir dir;
  const std::string good_images = idx_bytes(0x803, {3, 2, 3}, kPixels);
  struct Case {
    const char *what;
    std::string bytes;
    bool gzip, labels;
    std::string message;
  } cases[] = {
      {"labels given as images", idx_bytes(0x801, {3}, kLabels), false, false,
       "magic number 0x00000801 (that is an idx1 labels file), expected 0x00000803 for images"},
      {"images given as labels", good_images, false, true,
       "magic number 0x00000803 (that is an idx3 images file), expected 0x00000801 for labels"},
      {"not idx at all", "PK\x03\x04 some zip archive", false, false,
       "magic number 0x504b0304 (not an idx file), expected 0x00000803 for images"},
      {"floats, not bytes", idx_bytes(0x0d03, {3, 2, 3}, kPixels), false, false,
       "magic number 0x00000d03 (an idx file of another element type; only unsigned bytes, type 0x08, are read)"},
      {"empty file", "", false, false, "truncated: 0 bytes, too short for an idx header"},
      {"cut in the header", good_images.substr(0, 9), false, false, "truncated: 9 bytes, the idx3 header needs 16"},
      {"truncated data", good_images.substr(0, good_images.size() - 4), false, false,
       "truncated: the header promises 3 images of 2x3 (18 bytes of data), only 14 follow"},
      {"truncated labels", idx_bytes(0x801, {5}, kLabels), false, true,
       "truncated: the header promises 5 labels (5 bytes of data), only 3 follow"},
      {"trailing bytes", good_images + "xyz", false, false, "3 bytes follow the 3 images of 2x3 the header describes"},
      {"absurd header", idx_bytes(0x803, {0xffffffffu, 0xffffffffu, 28}, {}), false, false,
       "describe more than 16 GiB; the file is damaged"},
      {"no images", idx_bytes(0x803, {0, 28, 28}, {}), false, false, "the header says the file holds no images"},
  };
  for (const Case &c : cases) {
    const std::string path = dir / "f";
    testutil::write_file(path, c.bytes);
    std::string err = error_of([&] { c.labels ? kiln::read_idx_labels(path) : kiln::read_idx_images(path); });
    EXPECT_EQ(err.rfind(path + ": ", 0), 0u) << c.what << ": " << err;
    EXPECT_NE(err.find(c.message), std::string::npos) << c.what << ": expected " << c.message << "\n got " << err;
  }

  // A gzip stream cut short: fewer bytes than promised, and zlib's own diagnosis.
  const std::string gz = dir / "cut.gz";
  testutil::write_gzip(gz, idx_bytes(0x803, {3, 2, 3}, kPixels));
  std::string whole = testutil::read_file(gz);
  testutil::write_file(gz, whole.substr(0, whole.size() - 12));
  std::string err = error_of([&] { kiln::read_idx_images(gz); });
  EXPECT_EQ(err.rfind(gz + ": truncated", 0), 0u) << err;

  // A gzip file whose compressed bytes are damaged.
  std::string damaged = whole;
  for (size_t i = 12; i < damaged.size() - 8; ++i)
    damaged[i] = char(0xff);
  testutil::write_file(gz, damaged);
  err = error_of([&] { kiln::read_idx_images(gz); });
  EXPECT_EQ(err.rfind(gz + ": ", 0), 0u) << err;
  EXPECT_NE(err, "") << "damaged gzip accepted";

  err = error_of([&] { kiln::read_idx_images(dir / "missing"); });
  EXPECT_EQ(err, dir / "missing" + ": cannot open: No such file or directory");
  err = error_of([&] { kiln::read_idx_images(dir.path()); });
  EXPECT_EQ(err, dir.path() + ": is a directory, not an idx file");
}

// The files of Debian's dataset-fashion-mnist, installed by the project's setup.
TEST(Idx, RealFashionMnistFiles) {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  for (auto [prefix, n] : {std::pair<const char *, int64_t>{"train", 60000}, {"t10k", 10000}}) {
    kiln::IdxArray images = kiln::read_idx_images(dir + prefix + "-images-idx3-ubyte.gz");
    kiln::IdxArray labels = kiln::read_idx_labels(dir + prefix + "-labels-idx1-ubyte.gz");
    EXPECT_EQ(images.dims, (std::vector<int64_t>{n, 28, 28})) << prefix;
    EXPECT_EQ(images.data.size(), size_t(n * 784)) << prefix;
    EXPECT_EQ(labels.dims, (std::vector<int64_t>{n})) << prefix;
    std::array<int64_t, 10> per_class{};
    for (uint8_t l : labels.data) {
      ASSERT_LT(l, 10) << prefix;
      ++per_class[l];
    }
    for (int64_t c : per_class)
      EXPECT_EQ(c, n / 10) << prefix << ": Fashion-MNIST is balanced";
    // Fashion-MNIST's first test image is an ankle boot (class 9), its first training image too.
    EXPECT_EQ(labels.data[0], 9) << prefix;
  }
}

} // namespace
