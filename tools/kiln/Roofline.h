// Each kernel's time against its roofline: the time its FLOPs take at the machine's measured
// multiply-add peak, or its bytes at the measured memory bandwidth, whichever is longer.
#ifndef KILN_TOOLS_KILN_ROOFLINE_H
#define KILN_TOOLS_KILN_ROOFLINE_H

#include "codegen/KernelSpec.h"

#include <string>

namespace kiln {

// measureMachineLimits(threads), kept in the user's cache folder (~/.cache/kiln, or
// $XDG_CACHE_HOME/kiln) per CPU, vector width and thread count, so the probe runs once.
MachineLimits machineLimits(int threads);

struct Roofline {
  double boundUs = 0;  // the longer of compute and memory time at the limits
  double fraction = 0; // boundUs over the measured time
  // "compute" or "memory", whichever bounds the kernel, when it reaches at least half of that
  // bound; else "schedule": neither limit explains its time.
  const char *limit = "schedule";
};
Roofline rooflineOf(const FusedKernel &kernel, double us, const MachineLimits &limits);

} // namespace kiln

#endif
