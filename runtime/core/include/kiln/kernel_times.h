// Kernel-by-kernel times of a compiled model's entries, through kiln_kernel_clock.
//
// Contract: from construction until stop() (or destruction), kiln_run reports each kernel call
// (model_abi.h) and its duration is kept per (entry, call). write() writes one
// JSON object: {"entries": [{"name": E, "runs": R, "kernels": [{"name": K, "median_us": M,
// "total_us": T, "subnormal_runs": S}, ...]}, ...]} for the entries that ran a kernel, their
// kernels named from the manifest (or "call N" where it names none); it throws UserError naming
// the file when it cannot be written. Only one KernelTimes may be alive at a time.
// Where the manifest gives a call's work, its kernel also has "flops" and "bytes"; where the
// machine's limits for the model's vector width and `threads` were measured on this CPU (by
// `kiln bench`, kiln/roofline.h), "bound_us", "share" (of that bound reached) and "limit"
// (compute, memory or schedule) too.
// S counts the runs in which the kernel took a subnormal (denormal) operand on the calling
// thread (x86's MXCSR flag; always 0 elsewhere, or where denormals are flushed): some CPUs take
// a slow assist for each one. With one thread every kernel runs on the calling thread.
#ifndef KILN_KERNEL_TIMES_H
#define KILN_KERNEL_TIMES_H

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/manifest.h"

namespace kiln {

class KernelTimes {
public:
  KernelTimes(const Manifest &manifest, int threads);
  ~KernelTimes();
  void stop(); // unhooks the clock; the times so far are kept
  KernelTimes(const KernelTimes &) = delete;
  KernelTimes &operator=(const KernelTimes &) = delete;

  void write(const std::string &path) const;

private:
  static void tick(int entry, int call);

  const Manifest &manifest_;
  int threads_;
  std::vector<std::vector<std::vector<float>>> us_;  // entry -> call -> one duration per run
  std::vector<std::vector<int64_t>> subnormal_runs_; // entry -> call -> runs with a subnormal operand
  int64_t last_ns_ = 0;
};

} // namespace kiln

#endif
