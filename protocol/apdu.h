/* apdu.h - placeholder, replaced by the module */
#ifndef DUALSCD_PROTOCOL_APDU_H
#define DUALSCD_PROTOCOL_APDU_H
int apdu_placeholder(void);
#endif
