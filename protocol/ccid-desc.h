/* ccid-desc.h - placeholder, replaced by the module */
#ifndef DUALSCD_PROTOCOL_CCID_DESC_H
#define DUALSCD_PROTOCOL_CCID_DESC_H
int ccid_desc_placeholder(void);
#endif
