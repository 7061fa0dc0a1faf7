#include "atr.h"
int
atr_placeholder(void)
{
  return 0;
}
