/*
 * cl_portfind: a port named by who is on it, so that a recording finds the
 * same board after a replug when the kernel gives it another /dev name.
 * Besides a path, the name in a port spec may be a selector
 * (docs/recording.md, "Ports by identity"):
 *
 *   usb-serial=S    the port whose USB device reports serial number S
 *   usb=VVVV:PPPP   the port whose USB device has this vendor:product id
 *                   (hexadecimal); exactly one port may match
 *   device=S        the port whose device announces device serial S (the
 *                   identity key "device", docs/wire-protocols.md)
 *
 * USB selectors are resolved from libserialport's port list.  For device=
 * the finder opens the candidates (the USB serial ports the system lists
 * and the paths matching the caller's search patterns) and reads each until
 * it says who it is, without blocking, so it can run next to a recording,
 * for several wanted devices at once: a candidate is opened once however
 * many devices are wanted, one that announced another serial is not opened
 * again while it stays, and one that said nothing valid within the probe
 * time is tried again CL_PORTFIND_RETRY_S later.  What a found device sent
 * while it was probed is kept, with the host times it was read at, for the
 * caller to decode as if it had read it.
 */
#ifndef CL_PORTFIND_H
#define CL_PORTFIND_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cl_error.h"
#include "cl_port.h"
#include "engine/cl_acq.h"

#define CL_PORTFIND_RETRY_S 5.0 /* before a silent candidate is opened again */
#define CL_PORTFIND_SCAN_S 0.5  /* between two looks for new candidates */

typedef enum cl_portfind_kind {
    CL_PORTFIND_PATH = 0,
    CL_PORTFIND_USB_SERIAL,
    CL_PORTFIND_USB_ID,
    CL_PORTFIND_DEVICE,
} cl_portfind_kind;

typedef struct cl_portfind_sel {
    cl_portfind_kind kind;
    char value[128]; /* the path, or the serial of usb-serial= and device= */
    int vid, pid;    /* usb= */
} cl_portfind_sel;

/* What `name` selects.  CL_ERR_ARG with a one-line reason when a selector
 * is malformed (an empty serial, usb= without VVVV:PPPP); anything that is
 * not a selector is a path. */
int cl_portfind_parse(const char *name, cl_portfind_sel *sel, cl_error *err);

/* The one port of ports[0..n) that a USB selector names: CL_OK and *index;
 * CL_ERR_NOTFOUND when none matches; CL_ERR_ARG when several do (the error
 * lists them). */
int cl_portfind_usb(const cl_portfind_sel *sel, const cl_port_info *ports, size_t n,
                    size_t *index, cl_error *err);

/* What was read from a device, in order: bytes[0..n) arrived in chunks,
 * chunk i ending at end[i] and read at host time t[i].  Zero-initialised
 * it is empty; cl_portfind_read_add appends a chunk (CL_OK, or
 * CL_ERR_NOMEM with r unchanged), cl_portfind_read_free empties it. */
typedef struct cl_portfind_read {
    uint8_t *bytes;
    size_t n, cap;
    size_t *end;
    double *t;
    size_t nchunks, chunks_cap;
} cl_portfind_read;

int cl_portfind_read_add(cl_portfind_read *r, const uint8_t *b, size_t n, double t);
void cl_portfind_read_free(cl_portfind_read *r);

typedef struct cl_portfind cl_portfind;

/* A finder opening candidates with `port`'s baud rate and protocol (its
 * name is not used), probing each for at most probe_timeout_s; `search`:
 * glob(3) patterns of more candidate paths (the system's list holds only
 * real serial ports, not e.g. pseudo-terminals). */
int cl_portfind_create(cl_portfind **out, const cl_acq_port *port, const char *const *search,
                       size_t nsearch, double probe_timeout_s, cl_error *err);
void cl_portfind_destroy(cl_portfind *f); /* accepts NULL; closes what it holds */
/* The settings candidates are opened with (name NULL). */
const cl_acq_port *cl_portfind_port(const cl_portfind *f);

/* Look for the device announcing `serial` on behalf of caller's device
 * `dev` (at most CL_PORTFIND_WANTS at a time). */
#define CL_PORTFIND_WANTS 64
int cl_portfind_want(cl_portfind *f, size_t dev, const char *serial, cl_error *err);
/* Devices still wanted. */
size_t cl_portfind_wanted(const cl_portfind *f);

/* The descriptors to poll for POLLIN (at most cap); the count. */
size_t cl_portfind_pollfds(const cl_portfind *f, struct pollfd *pfd, size_t cap);

/* One step at host time `now`: look for new candidates (every
 * CL_PORTFIND_SCAN_S), skipping the devices in skip[0..nskip) (st_rdev of
 * the caller's open ports), open them, read what the open ones sent.  Sets
 * *dev to a wanted device that was found (then call cl_portfind_take)
 * and returns true; false when none was found in this step. */
bool cl_portfind_step(cl_portfind *f, double now, const dev_t *skip, size_t nskip, size_t *dev);

/* Hand over the port found for `dev` (open; the caller closes it) and what
 * was read from it (the caller frees it); NULL if none. */
cl_port *cl_portfind_take(cl_portfind *f, size_t dev, cl_portfind_read *read);

/* CL_ERR_NOTFOUND: "NAME: no device announced it in N s (REPORT)", with
 * the probe timeout and cl_portfind_report's text. */
int cl_portfind_not_found(const cl_portfind *f, const char *name, cl_error *err);

/* What the candidates said so far, for an error message: "PATH announced
 * rig-2; PATH nothing valid", at most cap bytes. */
void cl_portfind_report(const cl_portfind *f, char *buf, size_t cap);

/* The path `name` selects, waiting at most probe_timeout_s for a device=
 * device to say who it is (`port` gives baud and protocol).  A path is
 * returned as it is.  CL_ERR_NOTFOUND (with what was found instead),
 * CL_ERR_ARG (malformed or ambiguous selector). */
int cl_portfind_path(const cl_acq_port *port, const char *const *search, size_t nsearch,
                     double probe_timeout_s, char *path, size_t cap, cl_error *err);

#endif
