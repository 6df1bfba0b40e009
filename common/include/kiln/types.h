// The vocabulary the DSL, the compiler and the runtime share: element types and entry kinds.
#ifndef KILN_TYPES_H
#define KILN_TYPES_H

namespace kiln {

// A tensor's element type. i1 masks exist only inside the compiled step, one byte each.
enum class DType { f32, i1, i32 };

// A traced function is an entry of the compiled binary: "train" entries are differentiated
// and updated, "eval" entries only run forward (predictions, accuracy).
enum class EntryKind { train, eval };

} // namespace kiln

#endif
