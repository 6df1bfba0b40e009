// The files --data reads besides safetensors: NumPy's .npz and .npy, and CSV.
//
// Contract:
//   - read_npz(path): every array of a NumPy .npz archive (np.savez, stored or deflated, as
//     np.savez_compressed writes), named by its member without ".npy".
//   - read_npy(path, name): one .npy array.
//   Both accept little-endian C-order arrays of f4, f8, i4, i8 and u1 (dtype spelled as in
//   safetensors: F32, F64, I32, I64, U8) and throw UserError naming the file and what is wrong
//   (not a zip or npy file, a Fortran-order or big-endian array, an unsupported dtype or
//   compression, sizes that disagree, truncation, a member whose CRC-32 does not match).
//   - read_csv(path): a table of numbers, one row per line, fields separated by commas; a first
//     line that is not all numbers is a header and skipped; blank lines are skipped; every row
//     must have the same number of fields. Throws UserError with the line number otherwise.
#ifndef KILN_DATA_FILES_H
#define KILN_DATA_FILES_H

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

struct DataArray {
  std::string name;
  std::string dtype; // F32, F64, I32, I64 or U8
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes; // little-endian, row-major
};

std::vector<DataArray> read_npz(const std::string &path);
DataArray read_npy(const std::string &path, const std::string &name);

struct CsvTable {
  int64_t rows = 0, columns = 0;
  std::vector<double> values; // rows x columns, row-major
  std::vector<int> lines;     // the file line of each row, for messages
};

CsvTable read_csv(const std::string &path);

} // namespace kiln

#endif
