// A model file in one definition:
//
//   #include "kiln/kiln.h"
//   KILN_MODEL(mynet, trace) {
//     ... trace.input(...), layers, trace.optimizer(...), trace.train(...) ...
//     return loss;   // the loss of the last entry traced
//   }
//
// kiln supplies main() (libkiln_model_main): the program takes OUT.mlir, traces the body into
// a Trace named after the model and writes it there. `kiln compile mynet.cpp` builds and runs
// that program, then compiles what it wrote.
#ifndef KILN_MODEL_H
#define KILN_MODEL_H

#include "kiln/Tensor.h"

namespace kiln {

using ModelBody = Tensor (*)(Trace &);

// Records the program's one model; a second definition is refused when main() runs.
struct ModelDefinition {
  ModelDefinition(const char *name, ModelBody body);
};

} // namespace kiln

#define KILN_MODEL(name, trace)                                                                                        \
  static ::kiln::Tensor kiln_model_body_(::kiln::Trace &trace);                                                        \
  static const ::kiln::ModelDefinition kiln_model_definition_(#name, kiln_model_body_);                                \
  static ::kiln::Tensor kiln_model_body_(::kiln::Trace &trace)

#endif
