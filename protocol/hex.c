/* hex.c - hexadecimal text to bytes and back */
#include "hex.h"

static int
hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static int
is_separator(char c)
{
  return c == ' ' || c == '\t' || c == ':' || c == '\n' || c == '\r';
}

gpg_error_t
hex_decode(const char *text, int lenient, uint8_t *out, size_t outsize, size_t *outlen,
           size_t *errpos)
{
  size_t i = 0, n = 0;

  *outlen = 0;
  if (errpos)
    *errpos = 0;
  while (text[i])
    {
      int hi, lo;

      if (lenient)
        {
          if (is_separator(text[i]))
            {
              i++;
              continue;
            }
          if (text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X')
              && (i == 0 || is_separator(text[i - 1])))
            {
              i += 2;
              continue;
            }
        }
      hi = hex_value(text[i]);
      lo = hi < 0 ? -1 : hex_value(text[i + 1]);
      if (lo < 0)
        {
          if (errpos)
            *errpos = hi < 0 ? i : i + 1;
          return gpg_error(GPG_ERR_INV_VALUE);
        }
      if (n == outsize)
        {
          if (errpos)
            *errpos = i;
          return gpg_error(GPG_ERR_BUFFER_TOO_SHORT);
        }
      out[n++] = (uint8_t)(hi << 4 | lo);
      i += 2;
    }
  *outlen = n;
  return 0;
}

char *
hex_encode(const uint8_t *data, size_t len, char *out)
{
  static const char digits[] = "0123456789ABCDEF";
  size_t i;

  for (i = 0; i < len; i++)
    {
      out[2 * i] = digits[data[i] >> 4];
      out[2 * i + 1] = digits[data[i] & 0x0f];
    }
  out[2 * len] = '\0';
  return out;
}
