// Arrays printed the way numpy prints them, for output a tutorial reader recognises.
//
// Contract: numpy_array() returns what `print(a)` shows for a float32 or int32 numpy array of
// `shape` with numpy's default print options: floats in positional notation with the fewest
// digits that round-trip the float32 (at most 8 after the point), "5." for integral values, the
// integer parts right-aligned and the fractions left-aligned (padded with spaces) to a common
// width; scientific notation ("1.5e-05") when a nonzero |value| is below 1e-4, the largest is
// 1e8 or more, or largest/smallest exceeds 1e3; nan/inf as numpy spells them. Elements are
// separated by one space, rows of a matrix by a newline and one space more per nesting level, and
// lines wrap before 75 characters like numpy's. No summarisation ("...") is done.
#ifndef KILN_NUMPY_PRINT_H
#define KILN_NUMPY_PRINT_H

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

std::string numpy_array(const float *data, const std::vector<int64_t> &shape);
std::string numpy_array(const int32_t *data, const std::vector<int64_t> &shape);

} // namespace kiln

#endif
