// Preloaded into a model binary by stale_lanes.py: every block malloc returns is filled with the
// smallest subnormal float (bits 0x00000001), so a kernel that multiplies memory nobody wrote
// (the padded lanes of a vector, scratch computed over too few elements) takes a subnormal
// operand, which the binary's --kernel-times counts. Only for tests: it slows every malloc.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

extern void *__libc_malloc(size_t size);

void *malloc(size_t size) {
  void *block = __libc_malloc(size);
  if (block) {
    const uint32_t subnormal = 1;
    unsigned char *bytes = block;
    for (size_t i = 0; i + 4 <= size; i += 4)
      memcpy(bytes + i, &subnormal, 4);
  }
  return block;
}
