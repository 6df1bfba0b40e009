// main() of every kiln training binary: the logic lives in kiln_runtime_main() so tests can call it.
#include "kiln/runtime_main.h"

int main(int argc, char **argv) { return kiln_runtime_main(argc, argv); }
