/* check.h - a small TAP producer for the unit tests
 *
 * A test program is a list of static void functions run with RUN(fn).  Each
 * CHECK* that fails prints a "# file:line: ..." diagnostic and marks the
 * current case "not ok"; the program exits 1 if any case failed.  meson reads
 * the TAP stream (protocol: 'tap').
 */
#ifndef DUALSCD_TESTS_CHECK_H
#define DUALSCD_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpg-error.h>

static int check_case_failures;
static int check_cases;
static int check_failed_cases;

static inline void
check_fail_(const char *file, int line, const char *what)
{
  check_case_failures++;
  printf("# %s:%d: check failed: %s\n", file, line, what);
}

static inline void
check_fail_long_(const char *file, int line, const char *what, long long got,
                 long long want)
{
  check_case_failures++;
  printf("# %s:%d: check failed: %s (got %lld / 0x%llx, want %lld / 0x%llx)\n", file,
         line, what, got, (unsigned long long)got, want, (unsigned long long)want);
}

static inline void
check_fail_mem_(const char *file, int line, const char *what, const void *got,
                size_t glen, const void *want, size_t wlen)
{
  size_t i;

  check_case_failures++;
  printf("# %s:%d: check failed: %s\n#   got  (%zu):", file, line, what, glen);
  for (i = 0; i < glen && i < 64; i++)
    printf(" %02X", ((const unsigned char *)got)[i]);
  printf("\n#   want (%zu):", wlen);
  for (i = 0; i < wlen && i < 64; i++)
    printf(" %02X", ((const unsigned char *)want)[i]);
  printf("\n");
}

/* Plain truth. */
#define CHECK(cond)                                                                      \
  do                                                                                     \
    {                                                                                    \
      if (!(cond))                                                                       \
        check_fail_(__FILE__, __LINE__, #cond);                                          \
    }                                                                                    \
  while (0)

/* Integer equality, both values shown on failure. */
#define CHECK_INT(got, want)                                                             \
  do                                                                                     \
    {                                                                                    \
      long long g_ = (long long)(got), w_ = (long long)(want);                           \
      if (g_ != w_)                                                                      \
        check_fail_long_(__FILE__, __LINE__, #got " == " #want, g_, w_);                 \
    }                                                                                    \
  while (0)

/* A gpg_error_t whose code must be WANT (GPG_ERR_NO_ERROR for success). */
#define CHECK_ERR(expr, want)                                                            \
  do                                                                                     \
    {                                                                                    \
      gpg_error_t e_ = (expr);                                                           \
      if (gpg_err_code(e_) != (want))                                                    \
        {                                                                                \
          check_fail_long_(__FILE__, __LINE__, #expr " -> " #want, gpg_err_code(e_),     \
                           (want));                                                      \
          printf("#   (%s)\n", gpg_strerror(e_));                                        \
        }                                                                                \
    }                                                                                    \
  while (0)

#define CHECK_OK(expr) CHECK_ERR((expr), GPG_ERR_NO_ERROR)

/* Byte-string equality, both shown in hex on failure. */
#define CHECK_MEM(got, glen, want, wlen)                                                 \
  do                                                                                     \
    {                                                                                    \
      size_t gl_ = (size_t)(glen), wl_ = (size_t)(wlen);                                 \
      if (gl_ != wl_ || (gl_ && memcmp((got), (want), gl_)))                             \
        check_fail_mem_(__FILE__, __LINE__, #got " == " #want, (got), gl_, (want), wl_); \
    }                                                                                    \
  while (0)

#define CHECK_STR(got, want)                                                             \
  do                                                                                     \
    {                                                                                    \
      const char *gs_ = (got), *ws_ = (want);                                            \
      if (!gs_ || strcmp(gs_, ws_))                                                      \
        {                                                                                \
          check_fail_(__FILE__, __LINE__, #got " == " #want);                            \
          printf("#   got \"%s\", want \"%s\"\n", gs_ ? gs_ : "(null)", ws_);            \
        }                                                                                \
    }                                                                                    \
  while (0)

static inline void
check_run_(void (*fn)(void), const char *name)
{
  check_case_failures = 0;
  fn();
  check_cases++;
  if (check_case_failures)
    {
      check_failed_cases++;
      printf("not ok %d - %s\n", check_cases, name);
    }
  else
    printf("ok %d - %s\n", check_cases, name);
  fflush(stdout);
}

#define RUN(fn) check_run_((fn), #fn)

/* Prints the TAP plan and returns main's exit status. */
static inline int
check_done(void)
{
  printf("1..%d\n", check_cases);
  return check_failed_cases ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* DUALSCD_TESTS_CHECK_H */
