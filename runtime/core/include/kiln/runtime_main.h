// The training binary's entry point, as a library function.
//
// Contract: kiln_runtime_main() is everything main() does for the model linked into this
// executable (the kiln_* symbols of model_abi.h); run_model() does the same for any ModelAbi.
// In order: parse flags; validate the manifest; refuse outputs that could not be written; allocate
// and bind the arena; initialise params (random or --init, which takes a params or a whole-net
// checkpoint); build the dataset (synthetic set or --data); train for the resolved number of
// steps (flags.h: total_steps); run the eval entry, if any, over the dataset and print
// "full-data loss L" and, for classification, "accuracy A (correct/total)", also as the final
// metrics line; then write --save, --save-net, --predictions and the picture. They never throw
// and never abort on bad input: they print "error: ..." on stderr and return 1 for a user error,
// 2 for a bad command line, 0 on success (also for --help).
#ifndef KILN_RUNTIME_MAIN_H
#define KILN_RUNTIME_MAIN_H

#include "kiln/train.h"

namespace kiln {

ModelAbi linked_model();
int run_model(const ModelAbi &model, int argc, char **argv);

} // namespace kiln

int kiln_runtime_main(int argc, char **argv);

#endif
