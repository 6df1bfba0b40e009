// NumPy .npz/.npy and CSV readers for --data (contract in kiln/data_files.h).
#include "kiln/data_files.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "kiln/error.h"
#include "kiln/input_file.h"

namespace kiln {
namespace {

uint64_t le(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i)
    v = v << 8 | p[i];
  return v;
}

struct NpyType {
  const char *descr, *dtype;
  uint64_t size;
};
constexpr NpyType kNpyTypes[] = {
    {"<f4", "F32", 4}, {"<f8", "F64", 8}, {"<i4", "I32", 4}, {"<i8", "I64", 8}, {"|u1", "U8", 1}, {"<u1", "U8", 1},
};

// The value of `key` in the header dict, e.g. 'descr': '<f4' -> "'<f4'".
std::string dict_value(const std::string &header, const std::string &key, const std::string &where) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos)
    throw UserError(fmt::format("{}: the npy header has no '{}'", where, key));
  size_t colon = header.find(':', k);
  size_t start = header.find_first_not_of(' ', colon + 1);
  if (colon == std::string::npos || start == std::string::npos)
    throw UserError(fmt::format("{}: malformed npy header", where));
  size_t end = header[start] == '(' ? header.find(')', start) + 1 : header.find_first_of(",}", start);
  if (end == std::string::npos || end == 0)
    throw UserError(fmt::format("{}: malformed npy header", where));
  return header.substr(start, end - start);
}

DataArray parse_npy(const uint8_t *data, size_t size, const std::string &name, const std::string &where) {
  static const char magic[] = "\x93NUMPY";
  if (size < 10 || std::memcmp(data, magic, 6) != 0)
    throw UserError(fmt::format("{}: not a .npy array (no \\x93NUMPY magic)", where));
  const int major = data[6];
  const size_t length_bytes = major == 1 ? 2 : 4, start = 8 + length_bytes;
  if (major < 1 || major > 3 || size < start)
    throw UserError(fmt::format("{}: unsupported .npy version {}", where, major));
  const uint64_t header_length = le(data + 8, int(length_bytes));
  if (header_length > size - start)
    throw UserError(fmt::format("{}: the npy header ({} bytes) is longer than the file", where, header_length));
  const std::string header(reinterpret_cast<const char *>(data + start), header_length);

  DataArray a;
  a.name = name;
  std::string descr = dict_value(header, "descr", where);
  if (descr.size() < 2 || (descr.front() != '\'' && descr.front() != '"'))
    throw UserError(fmt::format("{}: dtype {} is not a plain type", where, descr));
  descr = descr.substr(1, descr.size() - 2);
  uint64_t item = 0;
  for (const NpyType &t : kNpyTypes)
    if (descr == t.descr)
      a.dtype = t.dtype, item = t.size;
  if (!item)
    throw UserError(fmt::format("{}: dtype '{}' is not supported (use float32, float64, int32, int64 or uint8, "
                                "little-endian)",
                                where, descr));
  if (dict_value(header, "fortran_order", where) != "False")
    throw UserError(
        fmt::format("{}: the array is in Fortran order; save it C-contiguous (np.ascontiguousarray)", where));
  const std::string shape = dict_value(header, "shape", where);
  // A tuple: "(3, 2)", "(3,)", "()". (Without its closing parenthesis the field scan never
  // ended: the fuzzer's hang.)
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
    throw UserError(fmt::format("{}: bad shape {}", where, shape));
  uint64_t numel = 1;
  for (size_t i = 1; i + 1 < shape.size();) {
    size_t j = shape.find_first_of(",)", i);
    std::string field = shape.substr(i, j - i);
    field.erase(0, field.find_first_not_of(' '));
    if (!field.empty()) {
      char *end = nullptr;
      errno = 0;
      long long d = std::strtoll(field.c_str(), &end, 10);
      if (errno || *end != '\0' || d < 0 || (d > 0 && numel > (uint64_t(1) << 62) / uint64_t(d)))
        throw UserError(fmt::format("{}: bad shape {}", where, shape));
      a.shape.push_back(d);
      numel *= uint64_t(d);
    }
    i = j + 1;
  }
  const uint64_t bytes = numel * item, offset = start + header_length;
  if (bytes != size - offset)
    throw UserError(fmt::format("{}: shape {} of {} needs {} bytes of data, the file has {}", where, shape, a.dtype,
                                bytes, size - offset));
  a.bytes.assign(data + offset, data + size);
  return a;
}

// The member's bytes, grown as the stream yields them: the size its directory entry declares
// (up to 4 GiB) is not allocated before the data backs it (the fuzzer found a 100-byte archive
// zero-filling gigabytes), and a stream that yields more or fewer bytes is refused.
std::vector<uint8_t> inflate_raw(const uint8_t *src, size_t size, size_t expected, const std::string &where) {
  if (expected > max_input_bytes())
    throw UserError(fmt::format("{}: {} bytes uncompressed, over the limit of {} for an input (set "
                                "KILN_MAX_INPUT_BYTES to raise it)",
                                where, expected, max_input_bytes()));
  std::vector<uint8_t> out;
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK)
    throw UserError(fmt::format("{}: zlib cannot start", where));
  z.next_in = const_cast<uint8_t *>(src);
  z.avail_in = uInt(size);
  int rc = Z_OK;
  while (rc == Z_OK && out.size() < expected) {
    const size_t have = out.size(), chunk = std::min<size_t>(expected - have, size_t(1) << 20);
    out.resize(have + chunk);
    z.next_out = out.data() + have;
    z.avail_out = uInt(chunk);
    rc = inflate(&z, Z_NO_FLUSH);
    out.resize(have + chunk - z.avail_out);
    if (rc == Z_BUF_ERROR && z.avail_in == 0)
      break; // the input ran out
  }
  if (rc == Z_OK && out.size() == expected) { // all that was declared: the stream must end here
    uint8_t probe;
    z.next_out = &probe;
    z.avail_out = 1;
    rc = inflate(&z, Z_FINISH);
    if (z.avail_out == 0)
      rc = Z_DATA_ERROR; // more than declared
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END || out.size() != expected)
    throw UserError(fmt::format("{}: the compressed data is corrupt or truncated", where));
  return out;
}

bool parse_number(const std::string &field, double &value) {
  size_t a = field.find_first_not_of(" \t\r"), b = field.find_last_not_of(" \t\r");
  if (a == std::string::npos)
    return false;
  const std::string text = field.substr(a, b - a + 1);
  char *end = nullptr;
  errno = 0;
  value = std::strtod(text.c_str(), &end);
  return errno == 0 && *end == '\0';
}

} // namespace

std::vector<DataArray> read_npz(const std::string &path) {
  const std::vector<uint8_t> zip = read_input_file(path);
  // The end-of-central-directory record: the last 22+ bytes, after which only a comment follows.
  size_t eocd = std::string::npos;
  for (size_t i = zip.size() >= 22 ? zip.size() - 22 : std::string::npos;
       i != std::string::npos && zip.size() - i <= 22 + 65535; --i) {
    if (le(&zip[i], 4) == 0x06054b50) {
      eocd = i;
      break;
    }
    if (i == 0)
      break;
  }
  if (eocd == std::string::npos)
    throw UserError(fmt::format("{}: no zip directory at its end: not a .npz archive, or a truncated one", path));
  const uint64_t count = le(&zip[eocd + 10], 2), cd_size = le(&zip[eocd + 12], 4), cd = le(&zip[eocd + 16], 4);
  if (cd == 0xffffffff || count == 0xffff)
    throw UserError(fmt::format("{}: a zip64 archive (over 4 GB) is not supported", path));
  if (cd + cd_size > eocd)
    throw UserError(fmt::format("{}: the zip directory lies outside the file", path));
  std::vector<DataArray> arrays;
  size_t at = cd;
  for (uint64_t n = 0; n < count; ++n) {
    if (at + 46 > eocd || le(&zip[at], 4) != 0x02014b50)
      throw UserError(fmt::format("{}: corrupt zip directory entry {}", path, n));
    const uint64_t method = le(&zip[at + 10], 2), crc = le(&zip[at + 16], 4), packed = le(&zip[at + 20], 4),
                   size = le(&zip[at + 24], 4);
    const uint64_t name_len = le(&zip[at + 28], 2), extra_len = le(&zip[at + 30], 2),
                   comment_len = le(&zip[at + 32], 2), local = le(&zip[at + 42], 4);
    if (at + 46 + name_len > eocd)
      throw UserError(fmt::format("{}: corrupt zip directory entry {}", path, n));
    std::string member(reinterpret_cast<const char *>(&zip[at + 46]), name_len);
    at += 46 + name_len + extra_len + comment_len;
    const std::string where = path + ":" + member;
    if (local + 30 > zip.size() || le(&zip[local], 4) != 0x04034b50)
      throw UserError(fmt::format("{}: corrupt zip entry", where));
    const uint64_t data = local + 30 + le(&zip[local + 26], 2) + le(&zip[local + 28], 2);
    if (data + packed > zip.size())
      throw UserError(fmt::format("{}: truncated", where));
    std::vector<uint8_t> bytes;
    if (method == 0) {
      if (packed != size)
        throw UserError(fmt::format("{}: stored sizes disagree", where));
      bytes.assign(zip.begin() + long(data), zip.begin() + long(data + packed));
    } else if (method == 8) {
      bytes = inflate_raw(&zip[data], packed, size, where);
    } else {
      throw UserError(fmt::format("{}: zip compression method {} is not supported (stored or deflate)", where, method));
    }
    if (crc32(0, bytes.data(), uInt(bytes.size())) != crc)
      throw UserError(fmt::format("{}: the data does not match its checksum (corrupt archive)", where));
    std::string name = member.size() > 4 && member.compare(member.size() - 4, 4, ".npy") == 0
                           ? member.substr(0, member.size() - 4)
                           : member;
    arrays.push_back(parse_npy(bytes.data(), bytes.size(), name, where));
  }
  return arrays;
}

DataArray read_npy(const std::string &path, const std::string &name) {
  const std::vector<uint8_t> bytes = read_input_file(path);
  return parse_npy(bytes.data(), bytes.size(), name, path);
}

CsvTable read_csv(const std::string &path) {
  const std::vector<uint8_t> bytes = read_input_file(path);
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  CsvTable t;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    std::vector<double> row;
    bool numeric = true;
    std::stringstream fields(line);
    for (std::string field; std::getline(fields, field, ',');) {
      double v;
      if (!parse_number(field, v))
        numeric = false;
      row.push_back(v);
    }
    if (!line.empty() && line.back() == ',')
      numeric = false; // an empty last field
    if (!numeric) {
      if (t.rows == 0 && t.lines.empty() && number == 1)
        continue; // a header
      throw UserError(fmt::format("{}:{}: not a row of numbers: '{}'", path, number, line));
    }
    if (t.rows > 0 && int64_t(row.size()) != t.columns)
      throw UserError(fmt::format("{}:{}: {} fields, the rows above have {}", path, number, row.size(), t.columns));
    t.columns = int64_t(row.size());
    t.values.insert(t.values.end(), row.begin(), row.end());
    t.lines.push_back(number);
    ++t.rows;
  }
  if (t.rows == 0)
    throw UserError(fmt::format("{}: no rows of numbers", path));
  return t;
}

} // namespace kiln
