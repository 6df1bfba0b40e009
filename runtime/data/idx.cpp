// idx files through zlib, which reads plain and gzip files alike (contract in kiln/idx.h).
#include "kiln/idx.h"

#include <sys/stat.h>
#include <zlib.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <type_traits>
#include <algorithm>
#include <memory>
#include <new>

#include "kiln/error.h"
#include "kiln/manifest.h"

namespace kiln {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803, kLabelsMagic = 0x00000801;
// Far above any idx data set (MNIST-size sets are 47 MB); a header beyond it is damaged.
constexpr uint64_t kMaxBytes = uint64_t(1) << 34;

struct GzClose {
  void operator()(gzFile f) const { gzclose(f); }
};
using Gz = std::unique_ptr<std::remove_pointer_t<gzFile>, GzClose>;

// Reads up to n bytes; returns how many, and throws for a decoding error. A gzip stream that
// ends early is reported as truncated by the caller, from the short count and `cut`.
uint64_t read_some(gzFile f, uint8_t *dst, uint64_t n, const std::string &path, bool &cut) {
  uint64_t got = 0;
  while (got < n) {
    const unsigned chunk = unsigned(std::min<uint64_t>(n - got, uint64_t(1) << 30));
    int r = gzread(f, dst + got, chunk);
    int errnum = Z_OK;
    const char *msg = gzerror(f, &errnum);
    if (errnum == Z_BUF_ERROR) { // zlib's "unexpected end of file": the compressed stream is cut
      cut = true;
      return got + uint64_t(std::max(r, 0));
    }
    if (r < 0 || (errnum != Z_OK && errnum != Z_STREAM_END))
      throw UserError(fmt::format("{}: cannot read: {}", path,
                                  errnum == Z_ERRNO ? std::strerror(errno) : (msg ? msg : "zlib error")));
    if (r == 0)
      break;
    got += uint64_t(r);
  }
  return got;
}

// "images of 28x28" or "labels", after the count.
std::string describe(const std::vector<int64_t> &dims, const char *kind) {
  return dims.size() == 3 ? fmt::format("{} of {}x{}", kind, dims[1], dims[2]) : std::string(kind);
}

std::string what_it_is(uint32_t magic) {
  if (magic == kImagesMagic)
    return " (that is an idx3 images file)";
  if (magic == kLabelsMagic)
    return " (that is an idx1 labels file)";
  if ((magic >> 16) == 0 && ((magic >> 8) & 0xff) == 0x08)
    return fmt::format(" (an idx file of rank {})", magic & 0xff);
  if ((magic >> 16) == 0)
    return " (an idx file of another element type; only unsigned bytes, type 0x08, are read)";
  return " (not an idx file)";
}

IdxArray read_idx(const std::string &path, uint32_t magic, const char *kind) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0)
    throw UserError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode))
    throw UserError(fmt::format("{}: is a directory, not an idx file", path));
  Gz f(gzopen(path.c_str(), "rb"));
  if (!f)
    throw UserError(fmt::format("{}: cannot open: {}", path, errno ? std::strerror(errno) : "zlib failed"));
  gzbuffer(f.get(), 1 << 17);

  const uint32_t rank = magic & 0xff;
  const uint64_t header_bytes = 4 + 4 * uint64_t(rank);
  uint8_t header[4 + 4 * 3];
  bool cut = false;
  uint64_t got = read_some(f.get(), header, 4, path, cut);
  if (got < 4)
    throw UserError(fmt::format("{}: truncated: {} bytes, too short for an idx header", path, got));
  const uint32_t found = uint32_t(header[0]) << 24 | uint32_t(header[1]) << 16 | uint32_t(header[2]) << 8 | header[3];
  if (found != magic)
    throw UserError(fmt::format("{}: magic number 0x{:08x}{}, expected 0x{:08x} for {}", path, found, what_it_is(found),
                                magic, kind));
  got += read_some(f.get(), header + 4, header_bytes - 4, path, cut);
  if (got < header_bytes)
    throw UserError(fmt::format("{}: truncated: {} bytes, the idx{} header needs {}", path, got, rank, header_bytes));

  IdxArray out;
  uint64_t total = 1;
  for (uint32_t d = 0; d < rank; ++d) {
    const uint8_t *p = header + 4 + 4 * d;
    const uint32_t dim = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
    out.dims.push_back(int64_t(dim));
    total *= dim; // at most three factors below 2^32 each: checked against kMaxBytes one by one
    if (total > kMaxBytes)
      throw UserError(fmt::format("{}: the header's dimensions {} describe more than {} GiB; the file is damaged", path,
                                  shape_string(out.dims), kMaxBytes >> 30));
  }
  if (out.dims[0] == 0)
    throw UserError(fmt::format("{}: the header says the file holds no {}", path, kind));

  // Filled as bytes arrive, so that a damaged header costs no memory the file does not back:
  // capacity up front only for what a real data set needs (Fashion-MNIST's 47 MB), doubling
  // beyond (the fuzzer found headers promising gigabytes allocating them at once).
  try {
    out.data.reserve(size_t(std::min<uint64_t>(total, uint64_t(64) << 20)));
  } catch (const std::bad_alloc &) {
    throw UserError(fmt::format("{}: cannot allocate the {} bytes the header describes", path, total));
  }
  uint64_t have = 0;
  while (have < total && !cut) {
    const uint64_t chunk = std::min<uint64_t>(total - have, uint64_t(1) << 24);
    out.data.resize(size_t(have + chunk));
    const uint64_t n = read_some(f.get(), out.data.data() + have, chunk, path, cut);
    have += n;
    if (n < chunk)
      break;
  }
  if (have < total) {
    out.data.clear();
    throw UserError(fmt::format("{}: truncated: the header promises {} {} ({} bytes of data), only {} follow{}", path,
                                out.dims[0], describe(out.dims, kind), total, have,
                                cut ? " (the gzip stream ends early)" : ""));
  }
  uint8_t extra[4096];
  uint64_t more = 0, n;
  while ((n = read_some(f.get(), extra, sizeof extra, path, cut)) > 0)
    more += n;
  if (more > 0)
    throw UserError(fmt::format("{}: {} bytes follow the {} {} the header describes; the file is damaged or "
                                "not what its header says",
                                path, more, out.dims[0], describe(out.dims, kind)));
  return out;
}

} // namespace

IdxArray read_idx_images(const std::string &path) { return read_idx(path, kImagesMagic, "images"); }
IdxArray read_idx_labels(const std::string &path) { return read_idx(path, kLabelsMagic, "labels"); }

} // namespace kiln
