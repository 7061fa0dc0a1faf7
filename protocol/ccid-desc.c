#include "ccid-desc.h"
int
ccid_desc_placeholder(void)
{
  return 0;
}
