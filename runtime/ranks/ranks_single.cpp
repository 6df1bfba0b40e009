// One process (contract in kiln/ranks.h): the build of every model not compiled with --ranks.
#include "kiln/ranks.h"

#include <fmt/format.h>

#include <cstdlib>

#include "kiln/error.h"

namespace kiln {
namespace {

RankInfo one;

// The number of processes Open MPI's mpirun started with this one; 1 when none. (Other
// launchers are left alone: they also start independent runs.)
long launched_processes() {
  if (const char *v = std::getenv("OMPI_COMM_WORLD_SIZE"))
    if (long n = std::strtol(v, nullptr, 10); n > 0)
      return n;
  return 1;
}

} // namespace

void start_ranks(const Manifest &manifest) {
  if (manifest.ranks > 1)
    throw UserError(fmt::format("model '{}' was compiled for {} ranks, but this binary was linked without MPI",
                                manifest.model, manifest.ranks));
  if (long n = launched_processes(); n > 1)
    throw UserError(fmt::format("started as one of {} processes (mpirun -np {}), but model '{}' was compiled for "
                                "one: each would train a model of its own. Compile it with `kiln compile --ranks {}` "
                                "to train one model on {} processes",
                                n, n, manifest.model, n, n));
}

const RankInfo &ranks() { return one; }
void set_comm_timeout(double) {}
void sum_over_ranks(double *, size_t) {}
void sum_over_ranks(float *, size_t) {}
void sum_over_ranks(int32_t *, size_t) {}
void broadcast_from_rank0(void *, size_t) {}
std::vector<uint64_t> gather_over_ranks(uint64_t value) { return {value}; }
void fail_ranks(const std::string &) {}
void finish_ranks() {}
CommStats comm_stats() { return {}; }
double blocking_all_reduce_ms(const std::vector<int64_t> &, int) { return 0; }

} // namespace kiln
