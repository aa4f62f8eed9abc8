/*
 * fw_uart: USART0 at FW_BAUD, 8N1.  1 000 000 baud is exact at 16 MHz in
 * double-speed mode: UBRR = F_CPU / (8 * baud) - 1 = 1 with no remainder
 * (115 200 baud would be 2.1 % off).  Both directions go through a ring
 * and an interrupt, so the next frame is encoded while the last one is
 * still on the wire; fw_uart_put waits only while the send ring is full.
 */
#ifndef FW_UART_H
#define FW_UART_H

#include <stddef.h>
#include <stdint.h>

#define FW_BAUD 1000000UL

void fw_uart_init(void);
void fw_uart_put(uint8_t b);
void fw_uart_write(const uint8_t *p, size_t n);
void fw_uart_puts(const char *s);
/* Non-zero if a received byte is waiting. */
uint8_t fw_uart_pending(void);
/* Next received byte, or -1 if none is waiting. */
int fw_uart_get(void);

#endif
