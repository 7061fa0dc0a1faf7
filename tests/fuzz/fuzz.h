/* fuzz.h - the entry point every harness provides
 *
 * Each fuzz-*.c defines LLVMFuzzerTestOneInput and nothing else that has
 * external linkage.  libFuzzer calls it with mutated inputs; regress-main.c
 * calls it with every file of the committed corpus.
 */
#ifndef DUALSCD_TESTS_FUZZ_H
#define DUALSCD_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* DUALSCD_TESTS_FUZZ_H */
