// safetensors reader and atomic writer (contract in kiln/safetensors.h).
#include "kiln/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <system_error>

#include "kiln/error.h"
#include "kiln/output_paths.h"
#include "kiln/input_file.h"
#include "kiln/manifest.h" // shape_string

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this reader copies it unchanged"
#endif

namespace kiln {
namespace {

// The format caps the header at 100 MB, which also bounds what a hostile length can make us parse.
constexpr uint64_t kMaxHeader = 100'000'000;
constexpr size_t kMaxHeaderDepth = 64;

struct DTypeSize {
  const char *name;
  uint64_t size;
};
constexpr DTypeSize kDTypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
    {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8},
};

SafetensorsEntry parse_entry(const std::string &path, const std::string &name, const nlohmann::json &j,
                             uint64_t buffer_bytes) {
  auto bad = [&](const std::string &what) { return UserError(fmt::format("{}: tensor '{}' {}", path, name, what)); };
  if (!j.is_object())
    throw bad("is not a JSON object");
  SafetensorsEntry e;

  auto dtype = j.find("dtype");
  if (dtype == j.end() || !dtype->is_string())
    throw bad("has no string \"dtype\"");
  e.dtype = dtype->get<std::string>();
  uint64_t elem = safetensors_dtype_size(e.dtype);
  if (elem == 0)
    throw bad(fmt::format("has unknown dtype '{}'", e.dtype));

  auto shape = j.find("shape");
  if (shape == j.end() || !shape->is_array())
    throw bad("has no \"shape\" array");
  uint64_t numel = 1;
  for (const auto &d : *shape) {
    if (!d.is_number_unsigned())
      throw bad(fmt::format("has a bad shape {}", shape->dump()));
    uint64_t v = d.get<uint64_t>();
    if (v != 0 && numel > std::numeric_limits<uint64_t>::max() / 8 / v)
      throw bad(fmt::format("has an impossibly large shape {}", shape->dump()));
    numel *= v;
    e.shape.push_back(int64_t(v));
  }

  auto offs = j.find("data_offsets");
  if (offs == j.end() || !offs->is_array() || offs->size() != 2 || !(*offs)[0].is_number_unsigned() ||
      !(*offs)[1].is_number_unsigned())
    throw bad("has no \"data_offsets\" pair of non-negative integers");
  e.begin = (*offs)[0].get<uint64_t>();
  e.end = (*offs)[1].get<uint64_t>();
  if (e.begin > e.end || e.end > buffer_bytes)
    throw bad(
        fmt::format("has data_offsets [{}, {}] outside the data buffer of {} bytes", e.begin, e.end, buffer_bytes));
  if (e.end - e.begin != numel * elem)
    throw bad(fmt::format("has data_offsets [{}, {}] ({} bytes), but dtype {} and shape {} need {} bytes", e.begin,
                          e.end, e.end - e.begin, e.dtype, shape_string(e.shape), numel * elem));
  return e;
}

// The format requires the tensors to cover the buffer exactly; anything else means a damaged file.
void check_tiling(const std::string &path, const std::map<std::string, SafetensorsEntry> &tensors,
                  uint64_t buffer_bytes) {
  std::vector<std::pair<const std::string *, const SafetensorsEntry *>> order;
  for (const auto &[name, e] : tensors)
    order.push_back({&name, &e});
  std::sort(order.begin(), order.end(), [](const auto &a, const auto &b) {
    return std::make_pair(a.second->begin, a.second->end) < std::make_pair(b.second->begin, b.second->end);
  });
  uint64_t expected = 0;
  for (const auto &[name, e] : order) {
    if (e->begin != expected)
      throw UserError(fmt::format("{}: tensor '{}' has data_offsets [{}, {}], which {} (the data so far ends "
                                  "at {}; tensors must tile the buffer)",
                                  path, *name, e->begin, e->end,
                                  e->begin < expected ? "overlaps another tensor" : "leaves a gap before it",
                                  expected));
    expected = e->end;
  }
  if (expected != buffer_bytes)
    throw UserError(
        fmt::format("{}: the data buffer has {} bytes, but the tensors cover only {}", path, buffer_bytes, expected));
}

void write_all(int fd, const void *data, size_t n) {
  const char *p = static_cast<const char *>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      throw std::system_error(errno, std::generic_category());
    p += w;
    n -= size_t(w);
  }
}

} // namespace

uint64_t safetensors_dtype_size(const std::string &dtype) {
  for (const DTypeSize &d : kDTypes)
    if (dtype == d.name)
      return d.size;
  return 0;
}

SafetensorsFile SafetensorsFile::read(const std::string &path) {
  SafetensorsFile f;
  f.path_ = path;
  f.bytes_ = read_input_file(path);
  const uint64_t size = f.bytes_.size();
  if (size < 8)
    throw UserError(fmt::format("{}: file is {} bytes, too short for a safetensors header", path, size));
  uint64_t n = 0;
  std::memcpy(&n, f.bytes_.data(), 8); // little-endian, checked at compile time
  if (n > size - 8)
    throw UserError(
        fmt::format("{}: header length {} exceeds the file size {} (truncated or not safetensors)", path, n, size));
  if (n > kMaxHeader)
    throw UserError(fmt::format("{}: header length {} is over the 100 MB limit", path, n));
  f.buffer_start_ = 8 + n;
  const uint64_t buffer_bytes = size - f.buffer_start_;

  // Real headers nest three deep; the JSON reader recurses once per level.
  const char *text = reinterpret_cast<const char *>(f.bytes_.data()) + 8;
  if (json_depth(text, text + n) > kMaxHeaderDepth)
    throw UserError(fmt::format("{}: header nests deeper than {} (not a safetensors header)", path, kMaxHeaderDepth));
  auto header = nlohmann::json::parse(f.bytes_.begin() + 8, f.bytes_.begin() + 8 + std::ptrdiff_t(n), nullptr,
                                      /*allow_exceptions=*/false);
  if (header.is_discarded())
    throw UserError(fmt::format("{}: header is not valid JSON", path));
  if (!header.is_object())
    throw UserError(fmt::format("{}: header is not a JSON object", path));

  for (const auto &[name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object())
        throw UserError(fmt::format("{}: \"__metadata__\" is not an object", path));
      for (const auto &[k, v] : value.items()) {
        if (!v.is_string())
          throw UserError(fmt::format("{}: metadata '{}' is not a string", path, k));
        f.metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    f.tensors_[name] = parse_entry(path, name, value, buffer_bytes);
  }
  check_tiling(path, f.tensors_, buffer_bytes);
  return f;
}

const SafetensorsEntry *SafetensorsFile::find(const std::string &name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const uint8_t *SafetensorsFile::expect(const std::string &name, const std::string &dtype,
                                       const std::vector<int64_t> &shape) const {
  const SafetensorsEntry *e = find(name);
  if (!e)
    throw UserError(fmt::format("{}: no tensor '{}', which the model needs", path_, name));
  if (e->dtype != dtype)
    throw UserError(fmt::format("{}: tensor '{}' has dtype {}, the model expects {}", path_, name, e->dtype, dtype));
  if (e->shape != shape)
    throw UserError(fmt::format("{}: tensor '{}' has shape {}, the model expects {}", path_, name,
                                shape_string(e->shape), shape_string(shape)));
  return data(*e);
}

namespace {

// Temporary files of earlier writes of `path` that were killed before their rename: this write
// replaced what they were meant to, so they are removed.
void remove_stale_temporaries(const std::string &path) {
  const std::filesystem::path target(path);
  const std::string prefix = target.filename().string() + ".tmp.";
  std::error_code ec;
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  for (const auto &entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().filename().string().rfind(prefix, 0) == 0 && entry.is_regular_file(ec))
      std::filesystem::remove(entry.path(), ec);
}

} // namespace

void write_safetensors(const std::string &path, const std::vector<SafetensorsTensor> &tensors,
                       const std::map<std::string, std::string> &metadata) {
  // Header first: it fixes each tensor's place in the buffer.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::vector<uint64_t> sizes;
  for (const SafetensorsTensor &t : tensors) {
    uint64_t elem = safetensors_dtype_size(t.dtype);
    if (elem == 0 || t.name.empty() || t.name == "__metadata__" || header.contains(t.name))
      throw std::invalid_argument(fmt::format("write_safetensors: bad tensor '{}' (dtype '{}')", t.name, t.dtype));
    uint64_t bytes = elem;
    for (int64_t d : t.shape)
      bytes *= uint64_t(d);
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    sizes.push_back(bytes);
    offset += bytes;
  }
  std::string text = header.dump();
  // Pad with spaces (valid JSON whitespace) so the buffer starts 8-byte aligned, like the reference writer.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint64_t n = text.size();

  require_regular_or_absent(path, "safetensors file");
  std::string tmp = path + ".tmp.XXXXXX"; // same directory, so rename() cannot cross filesystems
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    throw UserError(fmt::format("{}: cannot create a temporary file: {}", path, std::strerror(errno)));
  try {
    // mkstemp makes the file 0600; give it the mode a plain open() would have.
    mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);
    write_all(fd, &n, 8);
    write_all(fd, text.data(), text.size());
    for (size_t i = 0; i < tensors.size(); ++i)
      write_all(fd, tensors[i].data, sizes[i]);
    if (::fsync(fd) != 0)
      throw std::system_error(errno, std::generic_category());
    int rc = ::close(fd);
    fd = -1;
    if (rc != 0)
      throw std::system_error(errno, std::generic_category());
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      throw std::system_error(errno, std::generic_category());
  } catch (const std::system_error &e) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
    throw UserError(fmt::format("{}: cannot write: {}", path, e.code().message()));
  }
  // Persist the rename itself; failure here loses nothing already written, so it is not an error.
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  remove_stale_temporaries(path);
}

} // namespace kiln
