/* sw.h - placeholder, replaced by the module */
#ifndef DUALSCD_PROTOCOL_SW_H
#define DUALSCD_PROTOCOL_SW_H
int sw_placeholder(void);
#endif
