/* ccid-msg.h - placeholder, replaced by the module */
#ifndef DUALSCD_PROTOCOL_CCID_MSG_H
#define DUALSCD_PROTOCOL_CCID_MSG_H
int ccid_msg_placeholder(void);
#endif
