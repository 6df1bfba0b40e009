// NCCL for the all-reduces of a data-parallel CUDA build (kiln compile --target=cuda --ranks R):
// the gradients stay on the GPU, one GPU per rank. ranks_mpi.cpp calls these; MPI carries
// NCCL's bootstrap id.
//
// The kernels run in the CUDA context Halide's runtime made; NCCL (through the CUDA runtime)
// adopts the context current on the thread, so it is made current first and NCCL's kernels
// can use the step's buffers. Each all-reduce is queued on that context's default stream, the
// one the step's kernels use, so the kernels after it see the mean with no host wait.
#include <HalideRuntime.h>
#include <dlfcn.h>
#include <mpi.h>
#include <nccl.h>

#include <string>

extern "C" int halide_cuda_acquire_context(void *user_context, void **ctx, bool create);
extern "C" int halide_cuda_release_context(void *user_context);

namespace {

ncclComm_t comm = nullptr;
std::string failure;

const char *fail(std::string message) {
  failure = std::move(message);
  return failure.c_str();
}

} // namespace

// Null, or what went wrong.
extern "C" const char *kiln_nccl_start(int rank, int size) {
  void *ctx = nullptr;
  if (halide_cuda_acquire_context(nullptr, &ctx, true) != 0 || !ctx)
    return fail("Halide's runtime could not create a CUDA context");
  halide_cuda_release_context(nullptr);
  void *cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (!cuda)
    cuda = dlopen("libcuda.so.1", RTLD_NOW);
  auto set_current = cuda ? reinterpret_cast<int (*)(void *)>(dlsym(cuda, "cuCtxSetCurrent")) : nullptr;
  if (!set_current || set_current(ctx) != 0)
    return fail("the CUDA driver could not make Halide's context current");
  ncclUniqueId id{};
  if (rank == 0)
    if (ncclResult_t rc = ncclGetUniqueId(&id); rc != ncclSuccess)
      return fail(std::string("ncclGetUniqueId: ") + ncclGetErrorString(rc));
  if (MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
    return fail("MPI_Bcast of NCCL's id");
  if (ncclResult_t rc = ncclCommInitRank(&comm, size, id, rank); rc != ncclSuccess)
    return fail(std::string("ncclCommInitRank: ") + ncclGetErrorString(rc));
  return nullptr;
}

// The sum over ranks of `elements` f32 values of `input`'s device memory into `output`'s,
// queued on the default stream. Null, or what went wrong.
extern "C" const char *kiln_nccl_all_reduce(const halide_buffer_t *input, halide_buffer_t *output, int64_t elements) {
  if (!comm)
    return fail("NCCL was not started");
  if (!input->device || !output->device)
    return fail("a buffer of the all-reduce is not on the GPU");
  ncclResult_t rc =
      ncclAllReduce(reinterpret_cast<const void *>(input->device), reinterpret_cast<void *>(output->device),
                    size_t(elements), ncclFloat32, ncclSum, comm, nullptr);
  return rc == ncclSuccess ? nullptr : fail(std::string("ncclAllReduce: ") + ncclGetErrorString(rc));
}

extern "C" void kiln_nccl_finish(void) {
  if (comm)
    ncclCommDestroy(comm);
  comm = nullptr;
}
