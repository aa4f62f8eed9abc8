#include "fw_uart.h"

#include <avr/interrupt.h>
#include <avr/io.h>

#define RX_RING 64  /* a power of two */
#define TX_RING 128 /* a power of two */
#define UBRR_VALUE (F_CPU / (8 * FW_BAUD) - 1)
#if F_CPU % (8 * FW_BAUD) != 0
#error "FW_BAUD is not exact at this F_CPU"
#endif

static volatile uint8_t rx[RX_RING];
static volatile uint8_t rx_head, rx_tail;
static volatile uint8_t tx[TX_RING];
static volatile uint8_t tx_head, tx_tail;

void fw_uart_init(void)
{
    /* Double speed first: the hardware does not care about the order, but
     * an emulator may work out the baud rate when UBRR is written. */
    UCSR0A = _BV(U2X0);
    UBRR0 = UBRR_VALUE;
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00); /* 8N1 */
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

ISR(USART_RX_vect)
{
    uint8_t b = UDR0;
    uint8_t next = (rx_head + 1) & (RX_RING - 1);
    if (next != rx_tail) { /* a full ring drops the byte */
        rx[rx_head] = b;
        rx_head = next;
    }
}

/* The data register is empty: send the next queued byte. */
ISR(USART_UDRE_vect)
{
    uint8_t t = tx_tail;
    if (t == tx_head) { /* nothing left (the check also covers fw_uart_put's race) */
        UCSR0B &= (uint8_t)~_BV(UDRIE0);
        return;
    }
    UDR0 = tx[t];
    tx_tail = (t + 1) & (TX_RING - 1);
}

void fw_uart_put(uint8_t b)
{
    uint8_t next = (tx_head + 1) & (TX_RING - 1);
    while (next == tx_tail) /* full: wait for the interrupt to make room */
        ;
    tx[tx_head] = b;
    tx_head = next;
    UCSR0B |= _BV(UDRIE0);
}

void fw_uart_write(const uint8_t *p, size_t n)
{
    while (n--)
        fw_uart_put(*p++);
}

void fw_uart_puts(const char *s)
{
    while (*s)
        fw_uart_put((uint8_t)*s++);
}

uint8_t fw_uart_pending(void)
{
    return rx_head != rx_tail;
}

int fw_uart_get(void)
{
    uint8_t t = rx_tail;
    if (t == rx_head)
        return -1;
    uint8_t b = rx[t];
    rx_tail = (t + 1) & (RX_RING - 1);
    return b;
}
