// The processes of a data-parallel run, on MPI (contract in kiln/ranks.h), and the all-reduces
// the compiled step places (kiln/model_abi.h).
//
// Every exchange is non-blocking (MPI_I*) and waited for by polling MPI_Test against a deadline,
// so a rank that died or stopped turns into an error that names the exchange rather than a hang.
#include "kiln/ranks.h"

#include <HalideRuntime.h>
#include <mpi.h>
#include <sched.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "kiln/error.h"
#include "kiln/model_abi.h"

// A CUDA build's all-reduces go through NCCL (ranks_nccl.cpp, linked into such builds only).
extern "C" const char *kiln_nccl_start(int rank, int size) __attribute__((weak));
extern "C" const char *kiln_nccl_all_reduce(const halide_buffer_t *input, halide_buffer_t *output, int64_t elements)
    __attribute__((weak));
extern "C" void kiln_nccl_finish(void) __attribute__((weak));

namespace kiln {
namespace {

using Clock = std::chrono::steady_clock;

RankInfo info;
bool started = false;
bool on_gpu = false;       // a CUDA build: the step's buffers are device memory, exchanged by NCCL
bool nccl_started = false; // at the first all-reduce, once the kernels' context exists
double timeout_s = 300;
CommStats stats;
int64_t steps_started = 0;

// The step's all-reduces, by entry and position: what each adds up, and the one in flight.
struct StepCollective {
  std::string what;     // "the all-reduce of fc.weight.grad in train_step"
  int64_t elements = 0; // f32 values, from the manifest
  MPI_Request request = MPI_REQUEST_NULL;
};
std::vector<std::vector<StepCollective>> step_collectives;

bool launched_by_mpirun() { return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMIX_RANK"); }

[[noreturn]] void stop_every_rank(const std::string &message) {
  std::fflush(stdout);
  fmt::print(stderr, "rank {}: error: {}\n", info.rank, message);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

void check(int rc, const std::string &what) {
  if (rc == MPI_SUCCESS)
    return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  stop_every_rank(fmt::format("{} failed: {}", what, std::string(text, size_t(length))));
}

// Waits for `request` at most the timeout, giving the CPU away while the others catch up.
void wait(MPI_Request &request, const std::string &what) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  for (uint64_t spin = 0;; ++spin) {
    int done = 0;
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), what);
    if (done)
      return;
    if (spin % 1024 == 1023 && Clock::now() > deadline)
      stop_every_rank(fmt::format("{} has waited {:g} s for the other ranks: one of them has died or stopped "
                                  "(--comm-timeout sets the limit)",
                                  what, timeout_s));
    if (spin > 4096)
      sched_yield();
  }
}

} // namespace

void start_ranks(const Manifest &manifest) {
  if (!launched_by_mpirun()) {
    if (manifest.ranks > 1)
      throw UserError(fmt::format("model '{}' was compiled for {} ranks (kiln compile --ranks {}): start it with "
                                  "`mpirun -np {}` and this binary",
                                  manifest.model, manifest.ranks, manifest.ranks, manifest.ranks));
    return;
  }
  on_gpu = manifest.device != "host";
  if (on_gpu && (manifest.device != "cuda" || !kiln_nccl_start))
    throw UserError(fmt::format("model '{}' was built for --target={} without NCCL; data-parallel GPU builds "
                                "need --target=cuda",
                                manifest.model, manifest.device));
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw UserError("MPI could not start (MPI_Init_thread failed)");
  started = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &info.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &info.size);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, info.rank, MPI_INFO_NULL, &local);
  MPI_Comm_size(local, &info.local_size);
  MPI_Comm_rank(local, &info.local_rank);
  MPI_Comm_free(&local);
  if (info.size != manifest.ranks)
    throw UserError(fmt::format("started as {} process{}, but model '{}' was compiled for {} ranks: run "
                                "`mpirun -np {}`, or compile it with `kiln compile --ranks {}`",
                                info.size, info.size == 1 ? "" : "es", manifest.model, manifest.ranks, manifest.ranks,
                                info.size));
  step_collectives.clear();
  for (const EntrySpec &e : manifest.entries) {
    step_collectives.emplace_back();
    for (const CollectiveSpec &c : e.collectives) {
      if (c.elements > INT32_MAX) // MPI counts are ints
        throw UserError(
            fmt::format("the all-reduce of {} in {} holds {} values, more than MPI counts", c.of, e.name, c.elements));
      step_collectives.back().push_back({fmt::format("the all-reduce of {} in {}", c.of, e.name), c.elements});
    }
  }
}

const RankInfo &ranks() { return info; }

void set_comm_timeout(double seconds) { timeout_s = seconds; }

namespace {

template <typename T> void sum_in_place(T *values, size_t n, MPI_Datatype type, const char *what) {
  if (!started || info.size == 1 || n == 0)
    return;
  for (size_t done = 0; done < n;) { // MPI counts are ints
    const int count = int(std::min<size_t>(n - done, size_t(1) << 30));
    MPI_Request r;
    check(MPI_Iallreduce(MPI_IN_PLACE, values + done, count, type, MPI_SUM, MPI_COMM_WORLD, &r), what);
    wait(r, what);
    done += size_t(count);
  }
}

} // namespace

void sum_over_ranks(double *values, size_t n) { sum_in_place(values, n, MPI_DOUBLE, "the sum of the evaluation"); }
void sum_over_ranks(float *values, size_t n) { sum_in_place(values, n, MPI_FLOAT, "the gathering of the outputs"); }
void sum_over_ranks(int32_t *values, size_t n) { sum_in_place(values, n, MPI_INT32_T, "the gathering of the outputs"); }

void broadcast_from_rank0(void *data, size_t bytes) {
  if (!started || info.size == 1)
    return;
  auto *p = static_cast<uint8_t *>(data);
  for (size_t done = 0; done < bytes;) {
    const int count = int(std::min<size_t>(bytes - done, size_t(1) << 30));
    MPI_Request r;
    check(MPI_Ibcast(p + done, count, MPI_BYTE, 0, MPI_COMM_WORLD, &r), "the broadcast of the parameters");
    wait(r, "the broadcast of the parameters from rank 0");
    done += size_t(count);
  }
}

std::vector<uint64_t> gather_over_ranks(uint64_t value) {
  std::vector<uint64_t> all(size_t(info.size), value);
  if (!started || info.size == 1)
    return all;
  MPI_Request r;
  check(MPI_Iallgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD, &r),
        "the comparison of the parameters");
  wait(r, "the comparison of the parameters");
  return all;
}

void fail_ranks(const std::string &message) {
  if (started && info.size > 1)
    stop_every_rank(message);
  finish_ranks();
}

void finish_ranks() {
  if (nccl_started)
    kiln_nccl_finish();
  if (started)
    MPI_Finalize();
  started = false;
}

CommStats comm_stats() { return stats; }

double blocking_all_reduce_ms(const std::vector<int64_t> &elements, int repeats) {
  if (!started || info.size == 1)
    return 0;
  std::vector<std::vector<float>> buffers;
  for (int64_t n : elements)
    buffers.emplace_back(size_t(n), 1.0f);
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    MPI_Request barrier;
    check(MPI_Ibarrier(MPI_COMM_WORLD, &barrier), "a barrier");
    wait(barrier, "the barrier before timing the all-reduce");
    const auto start = Clock::now();
    for (std::vector<float> &b : buffers)
      sum_in_place(b.data(), b.size(), MPI_FLOAT, "the timed all-reduce");
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times.empty() ? 0 : times[times.size() / 2];
}

} // namespace kiln

using kiln::step_collectives;

namespace {

// Collective k of an entry, or null when the run has no such one.
kiln::StepCollective *collective(int entry, int k) {
  if (!kiln::started || entry < 0 || size_t(entry) >= step_collectives.size() || k < 0 ||
      size_t(k) >= step_collectives[size_t(entry)].size())
    return nullptr;
  return &step_collectives[size_t(entry)][size_t(k)];
}

} // namespace

extern "C" int kiln_all_reduce_start(int entry, int k, halide_buffer_t *input, halide_buffer_t *output) {
  kiln::StepCollective *found = collective(entry, k);
  if (!found)
    return -1;
  kiln::StepCollective &c = *found;
  if (k == 0) { // a step's first exchange: the stats count from the second step on
    if (++kiln::steps_started == 2)
      kiln::stats = {};
    kiln::stats.steps += kiln::steps_started >= 2;
  }
  kiln::stats.all_reduces += 1;
  kiln::stats.bytes += c.elements * 4;
  if (kiln::on_gpu) {
    if (!kiln::nccl_started) {
      if (const char *error = kiln_nccl_start(kiln::info.rank, kiln::info.size))
        kiln::stop_every_rank(fmt::format("NCCL could not start: {}", error));
      kiln::nccl_started = true;
    }
    if (const char *error = kiln_nccl_all_reduce(input, output, c.elements))
      kiln::stop_every_rank(fmt::format("{} failed: {}", c.what, error));
    return 0; // queued on the stream of the kernels that read it: nothing to wait for
  }
  kiln::check(
      MPI_Iallreduce(input->host, output->host, int(c.elements), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &c.request),
      c.what);
  return 0;
}

extern "C" int kiln_all_reduce_wait(int entry, int k) {
  kiln::StepCollective *found = collective(entry, k);
  if (!found)
    return -1;
  kiln::StepCollective &c = *found;
  if (kiln::on_gpu)
    return 0;
  const auto start = kiln::Clock::now();
  int done = 0;
  kiln::check(MPI_Test(&c.request, &done, MPI_STATUS_IGNORE), c.what);
  if (done)
    kiln::stats.bytes_done_before_wait += c.elements * 4;
  kiln::wait(c.request, c.what);
  kiln::stats.wait_ms += std::chrono::duration<double, std::milli>(kiln::Clock::now() - start).count();
  return 0;
}

extern "C" void kiln_all_reduce_poll(void) {
  for (auto &entry : step_collectives)
    for (kiln::StepCollective &c : entry)
      if (c.request != MPI_REQUEST_NULL) {
        int done = 0;
        MPI_Test(&c.request, &done, MPI_STATUS_IGNORE);
        return; // one test moves every exchange on
      }
}
