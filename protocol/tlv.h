/* tlv.h - placeholder, replaced by the module */
#ifndef DUALSCD_PROTOCOL_TLV_H
#define DUALSCD_PROTOCOL_TLV_H
int tlv_placeholder(void);
#endif
