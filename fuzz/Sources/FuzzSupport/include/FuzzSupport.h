#ifndef LOOM_FUZZ_SUPPORT_H
#define LOOM_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's built-in mutation (dictionary entries included), for use inside
 * LLVMFuzzerCustomMutator. Defined by the libFuzzer runtime (-sanitize=fuzzer). */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#endif
