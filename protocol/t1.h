/* t1.h - placeholder, replaced by the module */
#ifndef DUALSCD_PROTOCOL_T1_H
#define DUALSCD_PROTOCOL_T1_H
int t1_placeholder(void);
#endif
