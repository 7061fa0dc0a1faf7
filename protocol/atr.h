/* atr.h - placeholder, replaced by the module */
#ifndef DUALSCD_PROTOCOL_ATR_H
#define DUALSCD_PROTOCOL_ATR_H
int atr_placeholder(void);
#endif
