/*
 * fw_sampler: timed sampling of ADC0..ADC(n-1).  Timer1 (CTC, clock/64,
 * one tick = 4 us) interrupts once per frame; its handler stamps the frame
 * with its sequence number and device time and starts the first
 * conversion.  The ADC-complete handler sums FW_OVERSAMPLE conversions per
 * channel, decimates the sum to FW_ADC_BITS bits, moves the multiplexer on
 * and starts the next conversion; after the last channel the frame goes into
 * a ring the main loop empties.  The ADC clock is the slowest (most
 * accurate) of 125, 250, 500 kHz and 1 MHz that keeps the conversions within
 * half of the frame period.
 *
 * A frame whose tick finds the previous scan still running, or the ring
 * full, is not taken; its sequence number is skipped, so the receiver sees
 * the loss as a gap.
 */
#ifndef FW_SAMPLER_H
#define FW_SAMPLER_H

#include <stdint.h>

#include "fw_config.h"

#define FW_OVERSAMPLE 4 /* conversions summed per channel and frame */
#define FW_ADC_BITS 11  /* 10 bits + log4(FW_OVERSAMPLE) */
/* The reference is AVCC, the board's supply: 5 V nominal (USB or the
 * regulator), announced as adc_reference_mv. */
#define FW_AVCC_MV 5000
#define FW_TIMER_PRESCALE 64
#define FW_TICK_US (FW_TIMER_PRESCALE / (F_CPU / 1000000UL))

typedef struct fw_frame {
    uint32_t seq;
    uint32_t time_s;  /* device time of the tick: whole seconds */
    uint32_t time_us; /* ... and microseconds, 0..999999 */
    uint16_t v[FW_CHANNELS_MAX];
} fw_frame;

/* (Re)start sampling: `rate_hz` frames per second of `channels` channels
 * (a combination fw_config_check() accepts).  Sequence numbers and device
 * time carry on. */
void fw_sampler_start(uint16_t rate_hz, uint8_t channels);
/* Non-zero if a finished frame is waiting. */
uint8_t fw_sampler_pending(void);
/* Copy the oldest finished frame into *f; 0 if there is none. */
uint8_t fw_sampler_pop(fw_frame *f);
/* Frame period in microseconds, and the ADC clock in Hz, as configured. */
uint32_t fw_sampler_period_us(void);
uint32_t fw_sampler_adc_clock_hz(void);
/* Frames not taken since boot. */
uint32_t fw_sampler_dropped(void);

#endif
