// Everything a model file uses: tensors and traces, torch.nn-style layers, KILN_MODEL.
#ifndef KILN_KILN_H
#define KILN_KILN_H

#include "kiln/Tensor.h"
#include "kiln/model.h"
#include "kiln/nn.h"

#endif
