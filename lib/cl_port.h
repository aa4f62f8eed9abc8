/*
 * cl_port: byte transports under the decoders.  Real serial ports go through
 * libserialport (configuration, enumeration, USB metadata).  Pseudo-
 * terminals, which libserialport refuses (no sysfs entry, no modem lines),
 * go through a small termios transport; that is how the virtual device is
 * reached.  Everything above the byte stream is shared.
 *
 * Ports are opened non-blocking and exclusively (a second opener gets
 * CL_ERR_BUSY); the caller polls cl_port_fd() and calls cl_port_read().
 */
#ifndef CL_PORT_H
#define CL_PORT_H

#include <stddef.h>
#include <sys/types.h>

#include "cl_error.h"

/* Description of a port.  Strings are owned by the struct ("" if unknown). */
typedef struct cl_port_info {
    char name[256];        /* as opened, e.g. /dev/ttyUSB0 */
    char transport[16];    /* "usb", "native", "bluetooth", "pty" */
    char description[128];
    char usb_manufacturer[128], usb_product[128], usb_serial[128];
    int usb_vendor_id, usb_product_id; /* -1 if unknown */
} cl_port_info;

typedef struct cl_port cl_port;

/* Open `name` at `baud` (8N1, no flow control, raw).  Errors name the port:
 * CL_ERR_NOTFOUND (no such port), CL_ERR_PERM, CL_ERR_BUSY, CL_ERR_PORT. */
int cl_port_open(cl_port **out, const char *name, int baud, cl_error *err);
void cl_port_close(cl_port *p); /* accepts NULL */

/* File descriptor to poll for POLLIN. */
int cl_port_fd(const cl_port *p);

/* Read what is available without blocking.  Returns the byte count (0 when
 * nothing is waiting), or CL_ERR_GONE when the device has disappeared
 * (unplugged, pty closed), or another negative code. */
ssize_t cl_port_read(cl_port *p, void *buf, size_t cap, cl_error *err);

/* Write all `n` bytes, waiting at most `timeout_s` for the port to take
 * them.  CL_OK, CL_ERR_GONE (device gone), CL_ERR_IO (timeout, failure). */
int cl_port_write(cl_port *p, const void *buf, size_t n, double timeout_s, cl_error *err);

const cl_port_info *cl_port_get_info(const cl_port *p);

/* All serial ports libserialport can see.  *out is malloc'ed; free() it. */
int cl_port_list(cl_port_info **out, size_t *n, cl_error *err);

#endif
