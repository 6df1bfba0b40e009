// All kiln op families, one file each.
#ifndef KILN_OPS_TD
#define KILN_OPS_TD
include "ir/ElementwiseOps.td"
include "ir/ShapeOps.td"
include "ir/ReductionOps.td"
include "ir/ContractionOps.td"
include "ir/PoolingOps.td"
include "ir/KernelOps.td"
include "ir/CommunicationOps.td"
include "ir/RandomOps.td"
#endif
