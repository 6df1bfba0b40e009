// Output paths checked before a run (kiln/output_paths.h).
#include "kiln/output_paths.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <fmt/format.h>

#include "kiln/error.h"

namespace kiln {

void require_regular_or_absent(const std::string &path, const char *what) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0)
    return;
  if (S_ISDIR(st.st_mode))
    throw UserError(fmt::format("{}: cannot write the {} there: it is a directory", path, what));
  if (!S_ISREG(st.st_mode))
    throw UserError(fmt::format("{}: cannot write the {} there: it is not a regular file (the {} replaces the "
                                "file whole, so it would replace this device or pipe)",
                                path, what, what));
}

void check_output_path(const std::string &path, const char *what, OutputKind kind, uint64_t bytes) {
  const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
  if (::access(dir.c_str(), W_OK) != 0)
    throw UserError(
        fmt::format("{}: cannot write the {} there: directory '{}' is missing or not writable", path, what, dir));
  struct stat st{};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode))
    throw UserError(fmt::format("{}: cannot write the {} there: it is a directory", path, what));
  if (exists && ::access(path.c_str(), W_OK) != 0)
    throw UserError(fmt::format("{}: cannot write the {} there: the file is not writable", path, what));
  if (kind != OutputKind::replace)
    return;
  require_regular_or_absent(path, what);
  // The new file is written whole beside the old one before it replaces it.
  struct statvfs fs{};
  if (bytes > 0 && ::statvfs(dir.c_str(), &fs) == 0) {
    const uint64_t available = uint64_t(fs.f_bavail) * uint64_t(fs.f_frsize);
    if (available < bytes)
      throw UserError(fmt::format("{}: cannot write the {} there: its filesystem has {} bytes free, and the "
                                  "{} takes {} bytes",
                                  path, what, available, what, bytes));
  }
}

} // namespace kiln
