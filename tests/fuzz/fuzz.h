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
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: if it does not hold, say where and
 * abort, so that libFuzzer keeps the input and the regression run fails. */
#define FUZZ_ASSERT(cond)                                                                \
  do                                                                                     \
    {                                                                                    \
      if (!(cond))                                                                       \
        {                                                                                \
          fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);   \
          abort();                                                                       \
        }                                                                                \
    }                                                                                    \
  while (0)

#endif /* DUALSCD_TESTS_FUZZ_H */
