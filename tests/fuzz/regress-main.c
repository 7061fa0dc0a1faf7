/* regress-main.c - run every file of a corpus directory through a harness
 *
 * Usage: regress-NAME CORPUS-DIR-OR-FILE...
 * Exits non-zero if an input cannot be read; a crash or a sanitizer report
 * ends the process, which meson counts as a failure.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Corpus files are seeds, not data sets: anything above this is a mistake. */
#define MAX_INPUT (1024 * 1024)

static int
run_file(const char *path)
{
  FILE *fp;
  uint8_t *buf;
  size_t len;
  int rc = 0;

  fp = fopen(path, "rb");
  if (!fp)
    {
      fprintf(stderr, "%s: %s\n", path, strerror(errno));
      return -1;
    }
  buf = malloc(MAX_INPUT);
  if (!buf)
    {
      fclose(fp);
      return -1;
    }
  len = fread(buf, 1, MAX_INPUT, fp);
  if (ferror(fp) || !feof(fp))
    {
      fprintf(stderr, "%s: read error or larger than %d bytes\n", path, MAX_INPUT);
      rc = -1;
    }
  else
    {
      /* Hand the harness an exact-size copy so ASan sees overreads. */
      uint8_t *exact = malloc(len ? len : 1);
      if (!exact)
        rc = -1;
      else
        {
          memcpy(exact, buf, len);
          LLVMFuzzerTestOneInput(exact, len);
          free(exact);
        }
    }
  free(buf);
  fclose(fp);
  return rc;
}

static int
cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of DIR in name order; returns the count run or -1. */
static long
run_dir(const char *dir)
{
  DIR *dp;
  struct dirent *de;
  char **names = NULL;
  size_t n = 0, cap = 0, i;
  long count = 0;

  dp = opendir(dir);
  if (!dp)
    {
      fprintf(stderr, "%s: %s\n", dir, strerror(errno));
      return -1;
    }
  while ((de = readdir(dp)))
    {
      if (de->d_name[0] == '.')
        continue;
      if (n == cap)
        {
          char **tmp;
          cap = cap ? 2 * cap : 64;
          tmp = realloc(names, cap * sizeof *names);
          if (!tmp)
            {
              count = -1;
              goto leave;
            }
          names = tmp;
        }
      names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2);
      if (!names[n])
        {
          count = -1;
          goto leave;
        }
      sprintf(names[n], "%s/%s", dir, de->d_name);
      n++;
    }
  qsort(names, n, sizeof *names, cmp_names);
  for (i = 0; i < n && count >= 0; i++)
    {
      if (run_file(names[i]))
        count = -1;
      else
        count++;
    }

leave:
  for (i = 0; i < n; i++)
    free(names[i]);
  free(names);
  closedir(dp);
  return count;
}

int
main(int argc, char **argv)
{
  long total = 0;
  int i;

  if (argc < 2)
    {
      fprintf(stderr, "usage: %s CORPUS-DIR-OR-FILE...\n", argv[0]);
      return 2;
    }
  for (i = 1; i < argc; i++)
    {
      struct stat st;
      long n;

      if (stat(argv[i], &st))
        {
          fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
          return 1;
        }
      n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : (run_file(argv[i]) ? -1 : 1);
      if (n < 0)
        return 1;
      total += n;
    }
  if (!total)
    {
      fprintf(stderr, "no corpus inputs found\n");
      return 1;
    }
  printf("%ld inputs run without a crash\n", total);
  return 0;
}
