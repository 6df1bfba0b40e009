// Whole input files, read with bounds: kiln's readers take data, parameters and models from
// regular files of at most max_input_bytes(), so that a device such as /dev/zero or a runaway
// file is refused instead of read until memory runs out.
//
// Contract: max_input_bytes() is KILN_MAX_INPUT_BYTES when set (a positive integer, else
// UserError), or 4 GiB. read_input_file() returns the bytes of the regular file `path` or throws
// UserError naming the path and the reason: missing, a directory, not a regular file (a device,
// a pipe), larger than the limit (saying how to raise it), or a read error. json_depth() is the
// deepest nesting of [ and { in JSON text, outside strings (JSON readers recurse once per level).
#ifndef KILN_INPUT_FILE_H
#define KILN_INPUT_FILE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

uint64_t max_input_bytes();
std::vector<uint8_t> read_input_file(const std::string &path);
size_t json_depth(const char *begin, const char *end);

} // namespace kiln

#endif
