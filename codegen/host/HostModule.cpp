// Emits the host module with LLVM's IRBuilder and compiles it with LLVM's code generator.
//
// Each arena buffer is a static halide_buffer_t (the layout of the HalideRuntime.h it is built
// against, checked below) whose host pointer kiln_bind fills in; the step passes those
// descriptors to the kernels.
#include "codegen/host/HostModule.h"

#include "HalideRuntime.h"

#include <cstddef>

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

using namespace llvm;

namespace kiln {
namespace {

// The LLVM types below spell Halide's descriptors field by field: a Halide whose layout differs
// fails to build here instead of handing its kernels misread buffers.
static_assert(sizeof(halide_dimension_t) == 16 && offsetof(halide_dimension_t, min) == 0 &&
                  offsetof(halide_dimension_t, extent) == 4 && offsetof(halide_dimension_t, stride) == 8 &&
                  offsetof(halide_dimension_t, flags) == 12,
              "halide_dimension_t is no longer {i32 min, extent, stride, flags}");
static_assert(sizeof(halide_type_t) == 4 && offsetof(halide_type_t, code) == 0 && offsetof(halide_type_t, bits) == 1 &&
                  offsetof(halide_type_t, lanes) == 2,
              "halide_type_t is no longer {u8 code, u8 bits, u16 lanes}");
static_assert(sizeof(halide_buffer_t) == 56 && offsetof(halide_buffer_t, device) == 0 &&
                  offsetof(halide_buffer_t, device_interface) == 8 && offsetof(halide_buffer_t, host) == 16 &&
                  offsetof(halide_buffer_t, flags) == 24 && offsetof(halide_buffer_t, type) == 32 &&
                  offsetof(halide_buffer_t, dimensions) == 36 && offsetof(halide_buffer_t, dim) == 40 &&
                  offsetof(halide_buffer_t, padding) == 48,
              "halide_buffer_t is no longer {u64 device, ptr interface, ptr host, u64 flags, type, i32 dimensions, "
              "ptr dim, ptr padding}");

// halide_type_t's {code, bits} of each element type.
std::array<int, 2> halideTypeCode(DType t) {
  switch (t) {
  case DType::f32: return {halide_type_float, 32};
  case DType::i32: return {halide_type_int, 32};
  case DType::i1: return {halide_type_uint, 8};
  }
  return {halide_type_float, 32};
}

struct Emitter {
  const StepPlan &plan;
  LLVMContext &ctx;
  Device device;
  std::unique_ptr<Module> module;
  StructType *dimType, *typeType, *bufferType;
  std::vector<GlobalVariable *> descriptors;
  std::vector<Function *> kernels;

  Emitter(const StepPlan &p, LLVMContext &c, Device d)
      : plan(p), ctx(c), device(d), module(std::make_unique<Module>("kiln_host", c)) {
    Type *i8 = Type::getInt8Ty(c), *i16 = Type::getInt16Ty(c), *i32 = Type::getInt32Ty(c), *i64 = Type::getInt64Ty(c),
         *ptr = PointerType::getUnqual(c);
    dimType = StructType::create(c, {i32, i32, i32, i32}, "halide_dimension_t");
    typeType = StructType::create(c, {i8, i8, i16}, "halide_type_t");
    bufferType = StructType::create(c, {i64, ptr, ptr, i64, typeType, i32, ptr, ptr}, "halide_buffer_t");
  }

  void declareBuffers() {
    Type *i32 = Type::getInt32Ty(ctx);
    for (auto [i, b] : llvm::enumerate(plan.buffers)) {
      // Halide's dimension 0 is the innermost, so the shape is listed in reverse.
      std::vector<Constant *> dims;
      int64_t stride = 1;
      for (auto it = b.desc.shape.rbegin(); it != b.desc.shape.rend(); ++it) {
        dims.push_back(ConstantStruct::get(dimType, {ConstantInt::get(i32, 0), ConstantInt::get(i32, *it),
                                                     ConstantInt::get(i32, stride), ConstantInt::get(i32, 0)}));
        stride *= *it;
      }
      auto *dimArrayType = ArrayType::get(dimType, dims.size());
      auto *dimArray = new GlobalVariable(*module, dimArrayType, false, GlobalValue::InternalLinkage,
                                          ConstantArray::get(dimArrayType, dims), "dims." + std::to_string(i));
      auto code = halideTypeCode(b.desc.dtype);
      Constant *type = ConstantStruct::get(typeType, {ConstantInt::get(Type::getInt8Ty(ctx), code[0]),
                                                      ConstantInt::get(Type::getInt8Ty(ctx), code[1]),
                                                      ConstantInt::get(Type::getInt16Ty(ctx), 1)});
      Constant *null = ConstantPointerNull::get(PointerType::getUnqual(ctx));
      Constant *init = ConstantStruct::get(bufferType, {ConstantInt::get(Type::getInt64Ty(ctx), 0), null, null,
                                                        ConstantInt::get(Type::getInt64Ty(ctx), 0), type,
                                                        ConstantInt::get(i32, b.desc.shape.size()), dimArray, null});
      descriptors.push_back(
          new GlobalVariable(*module, bufferType, false, GlobalValue::InternalLinkage, init, "buffer." + b.name));
    }
  }

  void declareKernels() {
    for (const FusedKernel &k : plan.kernels) {
      std::vector<Type *> params(k.inputs.size() + k.outputs.size(), PointerType::getUnqual(ctx));
      auto *type = FunctionType::get(Type::getInt32Ty(ctx), params, false);
      kernels.push_back(Function::Create(type, Function::ExternalLinkage, k.name, *module));
    }
  }

  // The runtime's hook `symbol` (an external function pointer, null unless set) loaded, and a
  // branch on it: the builder is left where the hook is set; the caller branches to the
  // returned block, where both paths meet, when done.
  std::pair<Value *, BasicBlock *> ifHookSet(IRBuilder<> &b, Function *fn, StringRef symbol) {
    Type *ptr = PointerType::getUnqual(ctx);
    GlobalVariable *g = module->getGlobalVariable(symbol);
    if (!g)
      g = new GlobalVariable(*module, ptr, false, GlobalValue::ExternalLinkage, nullptr, symbol);
    Value *hook = b.CreateLoad(ptr, g);
    BasicBlock *set = BasicBlock::Create(ctx, symbol + ".set", fn),
               *next = BasicBlock::Create(ctx, symbol + ".done", fn);
    b.CreateCondBr(b.CreateIsNotNull(hook), set, next);
    b.SetInsertPoint(set);
    return {hook, next};
  }

  // kiln_kernel_clock(entry, i) before call i of an entry and (entry, calls) after the last,
  // when the runtime has set it: a load and a branch per call otherwise. A GPU build first waits
  // for the device (kernels launch asynchronously), so that each call's time is its kernel's.
  void emitClock(IRBuilder<> &b, Function *fn, int entry, int call) {
    Type *i32 = b.getInt32Ty(), *ptr = PointerType::getUnqual(ctx);
    auto *clockType = FunctionType::get(b.getVoidTy(), {i32, i32}, false);
    auto [hook, next] = ifHookSet(b, fn, "kiln_kernel_clock");
    if (GlobalVariable *arena = module->getGlobalVariable("device_arena", true)) {
      FunctionCallee sync =
          module->getOrInsertFunction("halide_device_sync", FunctionType::get(i32, {ptr, ptr}, false));
      returnIfFailed(b, fn, b.CreateCall(sync, {null(), arena}));
    }
    b.CreateCall(clockType, hook, {b.getInt32(entry), b.getInt32(call)});
    b.CreateBr(next);
    b.SetInsertPoint(next);
  }

  // Returns `rc` from `fn` when it is not zero.
  void returnIfFailed(IRBuilder<> &b, Function *fn, Value *rc) {
    BasicBlock *fail = BasicBlock::Create(ctx, "fail", fn);
    BasicBlock *next = BasicBlock::Create(ctx, "next", fn);
    b.CreateCondBr(b.CreateICmpNE(rc, b.getInt32(0)), fail, next);
    b.SetInsertPoint(fail);
    b.CreateRet(rc);
    b.SetInsertPoint(next);
  }

  // GPU: every buffer is a crop of one device arena at its plan offset, made at bind; a view
  // shares its base's. Values stay on the device between calls and steps; only what the runtime writes or
  // reads crosses, copied explicitly (Halide's host and device dirty flags are set to force the
  // direction, since a view's writes do not mark its base).
  Value *null() { return ConstantPointerNull::get(PointerType::getUnqual(ctx)); }

  Value *deviceInterface(IRBuilder<> &b) {
    FunctionCallee get = module->getOrInsertFunction(device == Device::cuda ? "halide_cuda_device_interface"
                                                                            : "halide_opencl_device_interface",
                                                     FunctionType::get(PointerType::getUnqual(ctx), {}, false));
    return b.CreateCall(get);
  }

  void setDirty(IRBuilder<> &b, GlobalVariable *d, uint64_t set) {
    Value *flags = b.CreateStructGEP(bufferType, d, 3);
    Value *cleared =
        b.CreateAnd(b.CreateLoad(b.getInt64Ty(), flags),
                    b.getInt64(~uint64_t(halide_buffer_flag_host_dirty | halide_buffer_flag_device_dirty)));
    b.CreateStore(b.CreateOr(cleared, b.getInt64(set)), flags);
  }

  // kiln_device_bytes (a pointer, so that kiln's own test binaries can leave it out) and the
  // counter it points at.
  GlobalVariable *bytesCounter() {
    if (GlobalVariable *g = module->getGlobalVariable("kiln_device_bytes.count", true))
      return g;
    auto *count = new GlobalVariable(*module, Type::getInt64Ty(ctx), false, GlobalValue::InternalLinkage,
                                     ConstantInt::get(Type::getInt64Ty(ctx), 0), "kiln_device_bytes.count");
    new GlobalVariable(*module, PointerType::getUnqual(ctx), false, GlobalValue::ExternalLinkage, count,
                       "kiln_device_bytes");
    return count;
  }

  void countBytes(IRBuilder<> &b, int buffer) {
    GlobalVariable *count = bytesCounter();
    Value *n = b.CreateAdd(b.CreateLoad(b.getInt64Ty(), count), b.getInt64(plan.buffers[buffer].desc.bytes()));
    b.CreateStore(n, count);
  }

  void toDevice(IRBuilder<> &b, Function *fn, int buffer) {
    Type *ptr = PointerType::getUnqual(ctx);
    countBytes(b, buffer);
    setDirty(b, descriptors[buffer], halide_buffer_flag_host_dirty);
    FunctionCallee copy =
        module->getOrInsertFunction("halide_copy_to_device", FunctionType::get(b.getInt32Ty(), {ptr, ptr, ptr}, false));
    returnIfFailed(b, fn, b.CreateCall(copy, {null(), descriptors[buffer], deviceInterface(b)}));
  }

  void toHost(IRBuilder<> &b, Function *fn, int buffer) {
    Type *ptr = PointerType::getUnqual(ctx);
    countBytes(b, buffer);
    setDirty(b, descriptors[buffer], halide_buffer_flag_device_dirty);
    FunctionCallee copy =
        module->getOrInsertFunction("halide_copy_to_host", FunctionType::get(b.getInt32Ty(), {ptr, ptr}, false));
    returnIfFailed(b, fn, b.CreateCall(copy, {null(), descriptors[buffer]}));
  }

  // A buffer with its own bytes that lives across steps: a parameter or optimizer state.
  bool resident(const PlannedBuffer &buf) const { return buf.viewOf < 0 && buf.entry < 0; }

  // kiln_to_device / kiln_to_host: every resident buffer, one way.
  void defineTransfers() {
    auto *type = FunctionType::get(Type::getInt32Ty(ctx), {}, false);
    for (bool in : {true, false}) {
      Function *fn = Function::Create(type, Function::ExternalLinkage, in ? "kiln_to_device" : "kiln_to_host", *module);
      IRBuilder<> b(BasicBlock::Create(ctx, "entry", fn));
      if (device != Device::host)
        for (auto [i, buf] : llvm::enumerate(plan.buffers))
          if (resident(buf))
            in ? toDevice(b, fn, int(i)) : toHost(b, fn, int(i));
      b.CreateRet(b.getInt32(0));
    }
  }

  // Device copies of the entry's (source, destination) buffers; memcpy on the host.
  void emitCopies(IRBuilder<> &b, Function *fn, const std::vector<std::pair<int, int>> &copies) {
    Type *ptr = PointerType::getUnqual(ctx);
    for (auto [from, to] : copies) {
      if (device != Device::host) {
        FunctionCallee copy = module->getOrInsertFunction(
            "halide_buffer_copy", FunctionType::get(b.getInt32Ty(), {ptr, ptr, ptr, ptr}, false));
        returnIfFailed(b, fn, b.CreateCall(copy, {null(), descriptors[from], deviceInterface(b), descriptors[to]}));
        continue;
      }
      auto host = [&](int buf) { return b.CreateLoad(ptr, b.CreateStructGEP(bufferType, descriptors[buf], 2)); };
      b.CreateMemCpy(host(to), Align(64), host(from), Align(64), plan.buffers[from].desc.bytes());
    }
  }

  // kiln_kernel_probe(entry, call, output, dtype (a kiln::DType), rank, shape, data) after call `index` of an
  // entry, once per output, when the runtime has set it (--dump-kernels): a load and a branch
  // per call otherwise. A GPU build copies the outputs to the host first (copies that only
  // probing makes, so kiln_device_bytes leaves them out).
  void emitProbe(IRBuilder<> &b, Function *fn, int entry, int index, const KernelCall &call) {
    Type *i32 = b.getInt32Ty(), *ptr = PointerType::getUnqual(ctx);
    auto *probeType = FunctionType::get(b.getVoidTy(), {i32, i32, i32, i32, i32, ptr, ptr}, false);
    auto [hook, next] = ifHookSet(b, fn, "kiln_kernel_probe");
    const size_t inputs = plan.kernels[call.kernel].inputs.size();
    for (size_t k = 0; k < call.values.size(); ++k) {
      int buf = call.buffers[inputs + k];
      if (device != Device::host) {
        setDirty(b, descriptors[buf], halide_buffer_flag_device_dirty);
        FunctionCallee copy =
            module->getOrInsertFunction("halide_copy_to_host", FunctionType::get(b.getInt32Ty(), {ptr, ptr}, false));
        returnIfFailed(b, fn, b.CreateCall(copy, {null(), descriptors[buf]}));
      }
      const std::vector<int64_t> &shape = call.written[k].shape;
      Value *dims = null();
      if (!shape.empty()) {
        auto *type = ArrayType::get(b.getInt64Ty(), shape.size());
        dims = new GlobalVariable(*module, type, true, GlobalValue::PrivateLinkage,
                                  ConstantDataArray::get(ctx, ArrayRef<int64_t>(shape)), "shape");
      }
      Value *data = b.CreateLoad(ptr, b.CreateStructGEP(bufferType, descriptors[buf], 2));
      b.CreateCall(probeType, hook,
                   {b.getInt32(entry), b.getInt32(index), b.getInt32(int(k)), b.getInt32(int(call.written[k].dtype)),
                    b.getInt32(int(shape.size())), dims, data});
    }
    b.CreateBr(next);
    b.SetInsertPoint(next);
  }

  // The runtime's collectives placed before call `i` of entry `e` (i = calls: after the last):
  // kiln_all_reduce_start(entry, k, input, output) for those that start there, then
  // kiln_all_reduce_wait(entry, k) for those waited for there. Returns whether one is still in
  // flight after them.
  bool emitCollectives(IRBuilder<> &b, Function *fn, int entry, const EntryPlan &e, size_t i) {
    Type *i32 = b.getInt32Ty(), *ptr = PointerType::getUnqual(ctx);
    bool inFlight = false;
    for (auto [k, c] : llvm::enumerate(e.collectives))
      if (size_t(c.start) == i) {
        FunctionCallee start =
            module->getOrInsertFunction("kiln_all_reduce_start", FunctionType::get(i32, {i32, i32, ptr, ptr}, false));
        returnIfFailed(
            b, fn,
            b.CreateCall(start, {b.getInt32(entry), b.getInt32(int(k)), descriptors[c.input], descriptors[c.output]}));
      }
    for (auto [k, c] : llvm::enumerate(e.collectives)) {
      if (size_t(c.wait) == i) {
        FunctionCallee wait =
            module->getOrInsertFunction("kiln_all_reduce_wait", FunctionType::get(i32, {i32, i32}, false));
        returnIfFailed(b, fn, b.CreateCall(wait, {b.getInt32(entry), b.getInt32(int(k))}));
      }
      inFlight |= size_t(c.start) <= i && size_t(c.wait) > i;
    }
    return inFlight;
  }

  // Emits the calls in order; a non-zero return code is returned at once. An entry's calls
  // (entry >= 0) are timed through kiln_kernel_clock and probed through kiln_kernel_probe, and
  // its collectives placed between them; while one is in flight, kiln_all_reduce_poll() after
  // each call lets the exchange move on while kernels run.
  void emitCalls(IRBuilder<> &b, Function *fn, const std::vector<KernelCall> &calls, int entry = -1,
                 const EntryPlan *e = nullptr) {
    for (auto [i, call] : llvm::enumerate(calls)) {
      bool inFlight = e && emitCollectives(b, fn, entry, *e, i);
      if (entry >= 0)
        emitClock(b, fn, entry, int(i));
      std::vector<Value *> args;
      for (int buf : call.buffers)
        args.push_back(descriptors[buf]);
      returnIfFailed(b, fn, b.CreateCall(kernels[call.kernel], args));
      if (entry >= 0)
        emitProbe(b, fn, entry, int(i), call);
      if (inFlight)
        b.CreateCall(module->getOrInsertFunction("kiln_all_reduce_poll", FunctionType::get(b.getVoidTy(), false)));
    }
    if (e)
      emitCollectives(b, fn, entry, *e, calls.size());
    if (entry >= 0)
      emitClock(b, fn, entry, int(calls.size()));
  }

  void defineString(const std::string &value, const char *symbol) {
    Constant *text = ConstantDataArray::getString(ctx, value, true);
    new GlobalVariable(*module, text->getType(), true, GlobalValue::ExternalLinkage, text, symbol);
  }

  // A 1-D byte buffer's descriptor over `bytes` bytes, its dimension's min and extent writable.
  GlobalVariable *byteBuffer(const std::string &name, int64_t bytes) {
    Type *i32 = Type::getInt32Ty(ctx);
    auto *dimArrayType = ArrayType::get(dimType, 1);
    Constant *dim = ConstantStruct::get(dimType, {ConstantInt::get(i32, 0), ConstantInt::get(i32, bytes),
                                                  ConstantInt::get(i32, 1), ConstantInt::get(i32, 0)});
    auto *dims = new GlobalVariable(*module, dimArrayType, false, GlobalValue::InternalLinkage,
                                    ConstantArray::get(dimArrayType, {dim}), name + ".dims");
    Constant *u8 = ConstantStruct::get(typeType, {ConstantInt::get(Type::getInt8Ty(ctx), 1),
                                                  ConstantInt::get(Type::getInt8Ty(ctx), 8),
                                                  ConstantInt::get(Type::getInt16Ty(ctx), 1)});
    Constant *nullPtr = ConstantPointerNull::get(PointerType::getUnqual(ctx));
    Constant *init = ConstantStruct::get(bufferType, {ConstantInt::get(Type::getInt64Ty(ctx), 0), nullPtr, nullPtr,
                                                      ConstantInt::get(Type::getInt64Ty(ctx), 0), u8,
                                                      ConstantInt::get(i32, 1), dims, nullPtr});
    return new GlobalVariable(*module, bufferType, false, GlobalValue::InternalLinkage, init, name);
  }

  // The device arena: one allocation of the plan's arena bytes, and every buffer a crop of it
  // at the buffer's offset (a view shares its base's), so the device holds what the plan lays
  // out, scratch bytes reused as on the host.
  void bindDeviceArena(IRBuilder<> &b, Function *fn, Value *hostArena) {
    Type *ptr = PointerType::getUnqual(ctx), *i32 = b.getInt32Ty(), *i64 = b.getInt64Ty();
    GlobalVariable *arena = byteBuffer("device_arena", std::max<int64_t>(plan.arenaBytes, 1));
    GlobalVariable *crop = byteBuffer("device_arena.crop", 0);
    b.CreateStore(hostArena, b.CreateStructGEP(bufferType, arena, 2));
    FunctionCallee malloc =
        module->getOrInsertFunction("halide_device_malloc", FunctionType::get(i32, {ptr, ptr, ptr}, false));
    FunctionCallee cropOf =
        module->getOrInsertFunction("halide_device_crop", FunctionType::get(i32, {ptr, ptr, ptr}, false));
    returnIfFailed(b, fn, b.CreateCall(malloc, {null(), arena, deviceInterface(b)}));
    Value *cropDim = b.CreateLoad(ptr, b.CreateStructGEP(bufferType, crop, 6));
    for (auto [i, buf] : llvm::enumerate(plan.buffers)) {
      if (buf.viewOf >= 0)
        continue;
      b.CreateStore(b.getInt32(int32_t(buf.offset)), b.CreateStructGEP(dimType, cropDim, 0));
      b.CreateStore(b.getInt32(int32_t(std::max<int64_t>(buf.desc.bytes(), 1))),
                    b.CreateStructGEP(dimType, cropDim, 1));
      b.CreateStore(b.CreateInBoundsGEP(b.getInt8Ty(), hostArena, b.getInt64(buf.offset)),
                    b.CreateStructGEP(bufferType, crop, 2));
      b.CreateStore(b.getInt64(0), b.CreateStructGEP(bufferType, crop, 0)); // a crop needs a destination without one
      returnIfFailed(b, fn, b.CreateCall(cropOf, {null(), arena, crop}));
      for (unsigned field : {0u, 1u}) // the crop's device handle and interface
        b.CreateStore(b.CreateLoad(field == 0 ? i64 : ptr, b.CreateStructGEP(bufferType, crop, field)),
                      b.CreateStructGEP(bufferType, descriptors[i], field));
    }
    for (auto [i, buf] : llvm::enumerate(plan.buffers))
      if (buf.viewOf >= 0)
        for (unsigned field : {0u, 1u}) // the device handle and interface of its base
          b.CreateStore(
              b.CreateLoad(field == 0 ? i64 : ptr, b.CreateStructGEP(bufferType, descriptors[buf.viewOf], field)),
              b.CreateStructGEP(bufferType, descriptors[i], field));
  }

  void defineBind() {
    auto *type = FunctionType::get(Type::getInt32Ty(ctx), {PointerType::getUnqual(ctx)}, false);
    Function *fn = Function::Create(type, Function::ExternalLinkage, "kiln_bind", *module);
    IRBuilder<> b(BasicBlock::Create(ctx, "entry", fn));
    Value *arena = fn->getArg(0);
    for (auto [i, buf] : llvm::enumerate(plan.buffers)) {
      Value *host = b.CreateInBoundsGEP(b.getInt8Ty(), arena, b.getInt64(buf.offset));
      b.CreateStore(host, b.CreateStructGEP(bufferType, descriptors[i], 2));
    }
    if (device != Device::host)
      bindDeviceArena(b, fn, arena);
    emitCalls(b, fn, plan.once);
    // Constants live in resident buffers: the host's copy must hold them before kiln_to_device.
    if (device != Device::host)
      for (const KernelCall &call : plan.once)
        for (size_t a = plan.kernels[call.kernel].inputs.size(); a < call.buffers.size(); ++a)
          toHost(b, fn, call.buffers[a]);
    b.CreateRet(b.getInt32(0));
  }

  // One internal function per entry, and kiln_run(i) dispatching to them.
  void defineEntries() {
    auto *entryType = FunctionType::get(Type::getInt32Ty(ctx), {}, false);
    std::vector<Function *> fns;
    for (auto [index, entry] : llvm::enumerate(plan.entries)) {
      Function *fn = Function::Create(entryType, Function::InternalLinkage, "entry." + entry.name, *module);
      IRBuilder<> b(BasicBlock::Create(ctx, "entry", fn));
      if (device != Device::host)
        for (int buf : entry.hostWrites)
          toDevice(b, fn, buf);
      emitCalls(b, fn, entry.calls, int(index), &entry);
      // Outputs that are arguments are saved before the updates; then updated params and
      // state go back to their slots, once nothing reads the old values.
      std::vector<std::pair<int, int>> copies = entry.outputCopies;
      copies.insert(copies.end(), entry.copies.begin(), entry.copies.end());
      emitCopies(b, fn, copies);
      if (device != Device::host)
        for (int buf : entry.hostReads)
          toHost(b, fn, buf);
      b.CreateRet(b.getInt32(0));
      fns.push_back(fn);
    }
    auto *runType = FunctionType::get(Type::getInt32Ty(ctx), {Type::getInt32Ty(ctx)}, false);
    Function *run = Function::Create(runType, Function::ExternalLinkage, "kiln_run", *module);
    IRBuilder<> b(BasicBlock::Create(ctx, "entry", run));
    BasicBlock *unknown = BasicBlock::Create(ctx, "unknown", run);
    SwitchInst *sw = b.CreateSwitch(run->getArg(0), unknown, fns.size());
    for (auto [i, fn] : llvm::enumerate(fns)) {
      BasicBlock *bb = BasicBlock::Create(ctx, "run." + plan.entries[i].name, run);
      sw->addCase(b.getInt32(i), bb);
      IRBuilder<> cb(bb);
      cb.CreateRet(cb.CreateCall(fn));
    }
    IRBuilder<> ub(unknown);
    ub.CreateRet(ub.getInt32(-1));
  }
};

} // namespace

std::unique_ptr<llvm::Module> emitHostModule(const StepPlan &plan, LLVMContext &ctx, Device device) {
  Emitter e(plan, ctx, device);
  e.declareBuffers();
  e.declareKernels();
  e.defineString(plan.manifest, "kiln_manifest");
  e.defineString(plan.modelIR, "kiln_model_ir");
  e.defineBind();
  e.defineEntries();
  e.defineTransfers();
  e.bytesCounter();
  e.module->setTargetTriple(Triple(sys::getDefaultTargetTriple()));
  return std::move(e.module);
}

std::string emitObjectFile(llvm::Module &module, const std::string &path) {
  InitializeNativeTarget();
  InitializeNativeTargetAsmPrinter();
  std::string error;
  Triple triple(sys::getDefaultTargetTriple());
  const Target *target = TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return "no LLVM target for " + triple.str() + ": " + error;
  std::unique_ptr<TargetMachine> machine(
      target->createTargetMachine(triple, "generic", "", TargetOptions(), Reloc::PIC_));
  module.setDataLayout(machine->createDataLayout());
  std::string verifyErrors;
  raw_string_ostream verifyStream(verifyErrors);
  if (verifyModule(module, &verifyStream))
    return "internal error: invalid host module: " + verifyErrors;
  std::error_code ec;
  raw_fd_ostream out(path, ec, sys::fs::OF_None);
  if (ec)
    return "cannot write " + path + ": " + ec.message();
  legacy::PassManager pm;
  if (machine->addPassesToEmitFile(pm, out, nullptr, CodeGenFileType::ObjectFile))
    return "LLVM cannot emit objects for " + triple.str();
  pm.run(module);
  return "";
}

} // namespace kiln
