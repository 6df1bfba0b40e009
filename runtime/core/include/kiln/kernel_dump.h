// Every kernel call's outputs in each entry's first run, through kiln_kernel_probe: what
// `kiln diff` compares between two builds of a model.
//
// Contract: from construction until stop() (or destruction), kiln_run hands each call's outputs
// to the dump (model_abi.h), which copies those of the first run of every entry (a run's calls
// come in increasing order; the first call that does not ends it). write() writes them as one
// safetensors file in call order, tensors named "ENTRY/CALL/KERNEL/OUTPUT" ("train_step/3/
// kiln_add_matmul_2/0"; the kernel from the manifest, "kernel" where it names none), f32 as F32,
// i32 as I32 and masks as BOOL; it throws UserError naming the file when it cannot be written.
// Only one KernelDump may be alive at a time.
#ifndef KILN_KERNEL_DUMP_H
#define KILN_KERNEL_DUMP_H

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/manifest.h"

namespace kiln {

class KernelDump {
public:
  explicit KernelDump(const Manifest &manifest);
  ~KernelDump();
  void stop(); // unhooks the probe; what was copied is kept
  KernelDump(const KernelDump &) = delete;
  KernelDump &operator=(const KernelDump &) = delete;

  void write(const std::string &path) const;

private:
  static void probe(int entry, int call, int output, int dtype, int rank, const int64_t *shape, const void *data);

  struct Output {
    std::string name, dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  const Manifest &manifest_;
  std::vector<Output> outputs_;
  std::vector<int> last_call_; // per entry: the last call copied; -1 before its first run
  std::vector<bool> done_;     // per entry: its first run is over
};

} // namespace kiln

#endif
