#include "tlv.h"
int
tlv_placeholder(void)
{
  return 0;
}
