// The training binary's entry point, as a library function.
//
// Contract: kiln_runtime_main() is everything main() does for the model linked into this
// executable (the kiln_* symbols of model_abi.h); run_model() does the same for any ModelAbi.
// They parse flags, validate the manifest, allocate and bind the arena, initialise params
// (random or --init), fill inputs (synthetic set or --data), train, then write --save, the
// picture and the summary. They never throw and never abort on bad input: they print
// "error: ..." on stderr and return 1 for a user error, 2 for a bad command line, 0 on success
// (also for --help).
#ifndef KILN_RUNTIME_MAIN_H
#define KILN_RUNTIME_MAIN_H

#include "kiln/train.h"

namespace kiln {

ModelAbi linked_model();
int run_model(const ModelAbi &model, int argc, char **argv);

}  // namespace kiln

int kiln_runtime_main(int argc, char **argv);

#endif
