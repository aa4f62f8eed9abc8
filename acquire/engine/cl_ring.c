/*
 * cl_ring: SPSC ring buffer.  head is written only by the producer, tail
 * only by the consumer; each side reads the other's index with acquire
 * ordering and publishes its own with release ordering, so a record's bytes
 * are visible before the index that hands it over.  Indices run freely and
 * are masked on access; capacity is a power of two.  Large slot arrays
 * are aligned to 2 MiB and offered to the kernel for huge pages: the
 * producer walks the whole array before reusing a slot, so with 4 kB pages
 * a slow stream pays a page fault every few records for its first lap.
 */
#include "engine/cl_ring.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

struct cl_ring {
    _Alignas(64) atomic_size_t head; /* next slot to write (producer) */
    _Alignas(64) atomic_size_t tail; /* next slot to read (consumer) */
    _Alignas(64) size_t mask;
    size_t record_size;
    unsigned char *slots;
};

cl_ring *cl_ring_new(size_t min_records, size_t record_size)
{
    size_t cap = 2;
    cl_ring *r;

    if (record_size == 0 || min_records > SIZE_MAX / 2)
        return NULL;
    while (cap < min_records)
        cap <<= 1;
    if (cap > SIZE_MAX / record_size)
        return NULL;
    r = aligned_alloc(64, sizeof *r);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    size_t bytes = cap * record_size;
    if (bytes >= HUGE_PAGE) {
        bytes = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        r->slots = aligned_alloc(HUGE_PAGE, bytes);
        if (r->slots)
            madvise(r->slots, bytes, MADV_HUGEPAGE); /* a hint: failure is harmless */
    } else {
        r->slots = malloc(bytes);
    }
    if (!r->slots) {
        free(r);
        return NULL;
    }
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->mask = cap - 1;
    r->record_size = record_size;
    return r;
}

void cl_ring_free(cl_ring *r)
{
    if (!r)
        return;
    free(r->slots);
    free(r);
}

size_t cl_ring_capacity(const cl_ring *r) { return r->mask + 1; }

bool cl_ring_push(cl_ring *r, const void *record)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

    if (head - tail > r->mask)
        return false;
    memcpy(r->slots + (head & r->mask) * r->record_size, record, r->record_size);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return true;
}

size_t cl_ring_pop(cl_ring *r, void *out, size_t max)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t n = head - tail, cap = r->mask + 1;
    unsigned char *dst = out;

    if (n > max)
        n = max;
    for (size_t done = 0; done < n;) {
        size_t idx = (tail + done) & r->mask;
        size_t run = cap - idx; /* contiguous records before wrapping */
        if (run > n - done)
            run = n - done;
        memcpy(dst + done * r->record_size, r->slots + idx * r->record_size,
               run * r->record_size);
        done += run;
    }
    atomic_store_explicit(&r->tail, tail + n, memory_order_release);
    return n;
}

size_t cl_ring_used(const cl_ring *r)
{
    size_t head = atomic_load_explicit(&((cl_ring *)r)->head, memory_order_acquire);
    size_t tail = atomic_load_explicit(&((cl_ring *)r)->tail, memory_order_acquire);
    return head - tail;
}
