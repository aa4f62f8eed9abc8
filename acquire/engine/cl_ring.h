/*
 * cl_ring: a bounded single-producer/single-consumer ring of fixed-size
 * records, the hand-off between the serial reader and the file writer.
 * Push never blocks: when the ring is full it fails and the producer counts
 * an overrun, so a slow disk can never stall the serial reads.  Lock-free
 * (C11 atomics); exactly one producer thread and one consumer thread.
 */
#ifndef CL_RING_H
#define CL_RING_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cl_ring cl_ring;

/* A ring holding at least `min_records` records of `record_size` bytes
 * (capacity is rounded up to a power of two).  NULL on allocation failure. */
cl_ring *cl_ring_new(size_t min_records, size_t record_size);
void cl_ring_free(cl_ring *r); /* accepts NULL */

size_t cl_ring_capacity(const cl_ring *r);

/* Producer: copy one record in; false (and nothing copied) when full. */
bool cl_ring_push(cl_ring *r, const void *record);

/* Consumer: copy up to `max` records out into `out`; returns how many. */
size_t cl_ring_pop(cl_ring *r, void *out, size_t max);

/* Records currently queued (a snapshot; exact only when both sides are idle). */
size_t cl_ring_used(const cl_ring *r);

#endif
