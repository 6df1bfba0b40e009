// Links a compiled model with the system C++ driver.
#ifndef KILN_TOOLS_KILN_LINK_H
#define KILN_TOOLS_KILN_LINK_H

#include <string>
#include <vector>

namespace kiln {

// objects + libkiln_runtime.a + its libraries -> a standalone executable. "" or the error.
std::string linkExecutable(const std::vector<std::string> &objects, const std::string &exe);

// objects -> one relocatable object (ld -r). "" or the error.
std::string linkRelocatable(const std::vector<std::string> &objects, const std::string &out);

} // namespace kiln

#endif
