/* placeholder */
typedef int check_atr_placeholder;
