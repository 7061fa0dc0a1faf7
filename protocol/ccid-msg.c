#include "ccid-msg.h"
int
ccid_msg_placeholder(void)
{
  return 0;
}
