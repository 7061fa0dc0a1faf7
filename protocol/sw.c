#include "sw.h"
int
sw_placeholder(void)
{
  return 0;
}
