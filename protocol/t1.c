#include "t1.h"
int
t1_placeholder(void)
{
  return 0;
}
