// main() for a model file written with KILN_MODEL: `PROGRAM OUT.mlir` traces the model there.
#include "kiln/model.h"

#include <cstdio>
#include <string>
#include <vector>

namespace kiln {
namespace {

struct Definition {
  const char *name;
  ModelBody body;
};

std::vector<Definition> &definitions() {
  static std::vector<Definition> all;
  return all;
}

} // namespace

ModelDefinition::ModelDefinition(const char *name, ModelBody body) { definitions().push_back({name, body}); }

} // namespace kiln

int main(int argc, char **argv) {
  const auto &models = kiln::definitions();
  if (argc != 2 || std::string(argv[1]).rfind('-', 0) == 0) {
    std::fprintf(stderr,
                 "usage: %s OUT.mlir\n  traces the model defined with KILN_MODEL and writes its IR to OUT.mlir\n",
                 argv[0]);
    return 2;
  }
  if (models.size() != 1) {
    std::fprintf(stderr, "error: %s\n",
                 models.empty() ? "no model is defined: a model file defines one with KILN_MODEL(name, trace)"
                                : ("two models are defined (" + std::string(models[0].name) + ", " + models[1].name +
                                   "): a program traces one KILN_MODEL")
                                      .c_str());
    return 1;
  }
  try {
    kiln::Trace trace(models[0].name);
    kiln::Tensor loss = models[0].body(trace);
    trace.write(argv[1], loss);
  } catch (const kiln::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
