#include "apdu.h"
int
apdu_placeholder(void)
{
  return 0;
}
