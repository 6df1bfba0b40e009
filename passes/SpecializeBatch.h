// Re-specialising a traced entry to another batch size.
#ifndef KILN_PASSES_SPECIALIZEBATCH_H
#define KILN_PASSES_SPECIALIZEBATCH_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace kiln {

// The batch size of a traced entry: the first dimension its inputs (kiln.input) share.
mlir::FailureOr<int64_t> tracedBatch(mlir::func::FuncOp entry);

// Rewrites `entry` (a traced forward or eval function) in place for `batch` rows: every
// dimension linked to the inputs' first one takes the new size. Fails, with a diagnostic at
// the op that prevents it, when the batch cannot change.
// With `shares` > 1 the entry computes one of that many equal shares of a batch of
// batch * shares rows (a rank of a data-parallel run): every mean over the batch is also
// divided by `shares`, and so is every term that does not depend on the batch where it is
// added to one the batch was reduced into, so that the shares' losses, and their gradients,
// add up to the whole batch's, whether the loss averages or sums over the rows.
mlir::LogicalResult specializeBatch(mlir::func::FuncOp entry, int64_t batch, int64_t shares = 1);

} // namespace kiln

#endif
