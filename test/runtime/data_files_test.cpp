// --data in NumPy's and CSV formats: the readers against hand-built files, good and bad.
// (test/torch/user_models_crosscheck.py checks files NumPy itself wrote.)
#include "kiln/data_files.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <fstream>

#include "fake_model.h"
#include "kiln/datasets.h"
#include "kiln/error.h"
#include "test_util.h"

namespace {

using testutil::TempDir;

std::string npy(const std::string &descr, const std::string &shape, const std::string &payload,
                const char *fortran = "False") {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
  header += std::string(63 - (10 + header.size()) % 64, ' ') + "\n";
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += char(header.size() & 0xff);
  out += char(header.size() >> 8);
  return out + header + payload;
}

std::string floats(std::vector<float> v) { return std::string(reinterpret_cast<const char *>(v.data()), v.size() * 4); }

void put(std::string &s, uint64_t v, int n) {
  for (int i = 0; i < n; ++i)
    s += char((v >> (8 * i)) & 0xff);
}

// A zip archive storing each member uncompressed, as np.savez writes it.
std::string stored_zip(const std::vector<std::pair<std::string, std::string>> &members) {
  std::string out, directory;
  for (const auto &[name, data] : members) {
    const uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef *>(data.data()), uInt(data.size())));
    const uint64_t offset = out.size();
    put(out, 0x04034b50, 4), put(out, 20, 2), put(out, 0, 2), put(out, 0, 2), put(out, 0, 4);
    put(out, crc, 4), put(out, data.size(), 4), put(out, data.size(), 4), put(out, name.size(), 2), put(out, 0, 2);
    out += name + data;
    put(directory, 0x02014b50, 4), put(directory, 20, 2), put(directory, 20, 2), put(directory, 0, 2);
    put(directory, 0, 2), put(directory, 0, 4), put(directory, crc, 4), put(directory, data.size(), 4);
    put(directory, data.size(), 4), put(directory, name.size(), 2), put(directory, 0, 2), put(directory, 0, 2);
    put(directory, 0, 2), put(directory, 0, 2), put(directory, 0, 4), put(directory, offset, 4);
    directory += name;
  }
  const uint64_t at = out.size();
  out += directory;
  put(out, 0x06054b50, 4), put(out, 0, 2), put(out, 0, 2), put(out, members.size(), 2), put(out, members.size(), 2);
  put(out, directory.size(), 4), put(out, at, 4), put(out, 0, 2);
  return out;
}

std::string write(const TempDir &dir, const std::string &name, const std::string &bytes) {
  std::string path = dir / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string error_of(const std::function<void()> &f) {
  try {
    f();
  } catch (const kiln::UserError &e) {
    return e.what();
  }
  return "";
}

TEST(DataFiles, NpyArrays) {
  TempDir dir;
  std::string path = write(dir, "a.npy", npy("<f4", "(2, 3)", floats({1, 2, 3, 4, 5, 6})));
  kiln::DataArray a = kiln::read_npy(path, "x");
  EXPECT_EQ(a.name, "x");
  EXPECT_EQ(a.dtype, "F32");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.bytes.size(), 24u);

  auto bad = [&](const std::string &bytes) {
    return error_of([&] { kiln::read_npy(write(dir, "b.npy", bytes), "x"); });
  };
  EXPECT_NE(bad("PK\x03\x04 not numpy").find("not a .npy array"), std::string::npos);
  EXPECT_NE(bad(npy("<f4", "(2, 3)", floats({1, 2, 3, 4, 5, 6}), "True")).find("Fortran order"), std::string::npos);
  EXPECT_NE(bad(npy(">f4", "(2,)", floats({1, 2}))).find("dtype '>f4' is not supported"), std::string::npos);
  EXPECT_NE(bad(npy("<c8", "(2,)", floats({1, 2, 3, 4}))).find("dtype '<c8' is not supported"), std::string::npos);
  EXPECT_NE(bad(npy("<f4", "(2, 3)", floats({1, 2, 3}))).find("needs 24 bytes of data, the file has 12"),
            std::string::npos);
  // A shape that is not a parenthesised tuple (the fuzzer's hang, its field scan never ending)
  // is refused.
  for (const char *shape : {"3, 2)", "3"}) {
    const std::string error = bad(npy("<f4", shape, floats({1, 2, 3, 4, 5, 6})));
    EXPECT_NE(error.find("bad shape"), std::string::npos) << shape << ": " << error;
  }
}

TEST(DataFiles, NpzArchives) {
  TempDir dir;
  std::string x = npy("<f4", "(2,)", floats({1.5f, -2})),
              y = npy("<i8", "(2,)", std::string("\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16));
  std::string path = write(dir, "d.npz", stored_zip({{"x.npy", x}, {"y.npy", y}}));
  std::vector<kiln::DataArray> arrays = kiln::read_npz(path);
  ASSERT_EQ(arrays.size(), 2u);
  EXPECT_EQ(arrays[0].name, "x");
  EXPECT_EQ(arrays[1].name, "y");
  EXPECT_EQ(arrays[1].dtype, "I64");

  auto bad = [&](const std::string &bytes) { return error_of([&] { kiln::read_npz(write(dir, "b.npz", bytes)); }); };
  EXPECT_NE(bad("not a zip file at all, just text").find("not a .npz archive, or a truncated one"), std::string::npos);
  std::string corrupt = stored_zip({{"x.npy", x}});
  corrupt[40 + 60] ^= 1; // a byte of the member's data
  EXPECT_NE(bad(corrupt).find("does not match its checksum"), std::string::npos) << bad(corrupt);
  std::string whole = stored_zip({{"x.npy", x}});
  EXPECT_NE(bad(whole.substr(0, whole.size() / 2)).find("or a truncated one"), std::string::npos);
}

TEST(DataFiles, CsvTables) {
  TempDir dir;
  kiln::CsvTable t = kiln::read_csv(write(dir, "a.csv", "f0, f1,label\n1.5,2,0\n\n-3,4e-1,1\n"));
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.columns, 3);
  EXPECT_EQ(t.values, (std::vector<double>{1.5, 2, 0, -3, 0.4, 1}));
  EXPECT_EQ(t.lines, (std::vector<int>{2, 4}));
  auto bad = [&](const std::string &text) { return error_of([&] { kiln::read_csv(write(dir, "b.csv", text)); }); };
  EXPECT_NE(bad("1,2\n3\n").find("b.csv:2: 1 fields, the rows above have 2"), std::string::npos) << bad("1,2\n3\n");
  EXPECT_NE(bad("1,2\n3,x\n").find("b.csv:2: not a row of numbers: '3,x'"), std::string::npos);
  EXPECT_NE(bad("a,b\n").find("no rows of numbers"), std::string::npos);
}

// A CSV's columns fill the model's inputs in order: x's 2 features, then the label y.
TEST(DataFiles, CsvColumnsFeedTheInputsInOrder) {
  TempDir dir;
  fake::Spec spec = fake::classifier_spec();
  kiln::Manifest m = kiln::parse_manifest(fake::manifest(spec));
  kiln::Dataset d = kiln::load_dataset(write(dir, "a.csv", "x0,x1,y\n0.5,1,1\n-2,3,0\n"), m);
  EXPECT_EQ(d.rows(), 2);
  EXPECT_EQ(d.find("x")->f32, (std::vector<float>{0.5f, 1, -2, 3}));
  EXPECT_EQ(d.find("y")->i32, (std::vector<int32_t>{1, 0}));
  std::string path = write(dir, "b.csv", "0.5,1\n");
  EXPECT_EQ(error_of([&] { kiln::load_dataset(path, m); }),
            path + ": 2 columns, the model's inputs take 3 (2 columns for 'x', 1 column for 'y')");
  path = write(dir, "c.csv", "0.5,1,0.5\n");
  EXPECT_EQ(error_of([&] { kiln::load_dataset(path, m); }),
            path + ":1: column 3 ('y') holds 0.5, not an integer label");
}

} // namespace
