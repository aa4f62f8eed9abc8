/*
 * cl_port: libserialport transport for real ports, termios transport for
 * pseudo-terminals.  Both end in a non-blocking file descriptor held with
 * an exclusive flock, so a port cannot be opened twice by cuplab.
 */
#include "cl_port.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "cl_time.h"

struct cl_port {
    struct sp_port *sp; /* NULL for the termios transport */
    int fd;
    cl_port_info info;
};

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Unix98 pty slaves have majors 136..143. */
static bool is_pty(const char *name)
{
    struct stat st;
    if (stat(name, &st) != 0 || !S_ISCHR(st.st_mode))
        return false;
    return major(st.st_rdev) >= 136 && major(st.st_rdev) <= 143;
}

static speed_t baud_to_speed(int baud)
{
    switch (baud) {
    case 1200: return B1200;
    case 2400: return B2400;
    case 4800: return B4800;
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 500000: return B500000;
    case 921600: return B921600;
    case 1000000: return B1000000;
    case 2000000: return B2000000;
    default: return B0;
    }
}

static int open_errno(cl_error *err, const char *name, int e)
{
    int code = cl_error_from_errno(e);
    switch (code) {
    case CL_ERR_PERM:
        return cl_error_set(err, code, "%s: permission denied (is the user in the dialout group?)",
                            name);
    case CL_ERR_BUSY:
        return cl_error_set(err, code, "%s: port busy (another program has it open)", name);
    case CL_ERR_NOTFOUND:
        return cl_error_set(err, code, "%s: no such serial port", name);
    default:
        return cl_error_set(err, CL_ERR_PORT, "%s: %s", name, strerror(e));
    }
}

/* Take the port for ourselves: advisory lock plus TIOCEXCL. */
static int claim(cl_port *p, const char *name, cl_error *err)
{
    if (flock(p->fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        return open_errno(err, name, e == EWOULDBLOCK ? EBUSY : e);
    }
    (void)ioctl(p->fd, TIOCEXCL);
    return CL_OK;
}

static int open_pty(cl_port *p, const char *name, int baud, cl_error *err)
{
    struct termios tio;
    speed_t speed = baud_to_speed(baud);

    p->fd = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (p->fd < 0)
        return open_errno(err, name, errno);
    if (tcgetattr(p->fd, &tio) != 0)
        return open_errno(err, name, errno);
    cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    if (speed != B0)
        cfsetspeed(&tio, speed);
    if (tcsetattr(p->fd, TCSANOW, &tio) != 0)
        return open_errno(err, name, errno);
    copy_str(p->info.transport, sizeof p->info.transport, "pty");
    copy_str(p->info.description, sizeof p->info.description, "pseudo-terminal");
    return claim(p, name, err);
}

static int sp_fail(cl_error *err, const char *name, const char *what)
{
    int e = sp_last_error_code();
    if (e)
        return open_errno(err, name, e);
    return cl_error_set(err, CL_ERR_PORT, "%s: %s failed", name, what);
}

static void fill_sp_info(cl_port_info *info, struct sp_port *sp)
{
    enum sp_transport t = sp_get_port_transport(sp);
    copy_str(info->transport, sizeof info->transport,
             t == SP_TRANSPORT_USB ? "usb" : t == SP_TRANSPORT_BLUETOOTH ? "bluetooth" : "native");
    copy_str(info->description, sizeof info->description, sp_get_port_description(sp));
    if (t == SP_TRANSPORT_USB) {
        copy_str(info->usb_manufacturer, sizeof info->usb_manufacturer,
                 sp_get_port_usb_manufacturer(sp));
        copy_str(info->usb_product, sizeof info->usb_product, sp_get_port_usb_product(sp));
        copy_str(info->usb_serial, sizeof info->usb_serial, sp_get_port_usb_serial(sp));
        sp_get_port_usb_vid_pid(sp, &info->usb_vendor_id, &info->usb_product_id);
    }
}

static int open_sp(cl_port *p, const char *name, int baud, cl_error *err)
{
    struct sp_port_config *cfg = NULL;
    int rc = CL_OK;

    if (sp_get_port_by_name(name, &p->sp) != SP_OK) {
        p->sp = NULL;
        return access(name, F_OK) == 0
                   ? cl_error_set(err, CL_ERR_PORT, "%s: not a serial port", name)
                   : cl_error_set(err, CL_ERR_NOTFOUND, "%s: no such serial port", name);
    }
    fill_sp_info(&p->info, p->sp);
    if (sp_open(p->sp, SP_MODE_READ_WRITE) != SP_OK)
        return sp_fail(err, name, "open");
    if (sp_get_port_handle(p->sp, &p->fd) != SP_OK)
        return sp_fail(err, name, "get handle");
    if (fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK) != 0)
        return open_errno(err, name, errno);
    if (sp_new_config(&cfg) != SP_OK)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", name);
    /* DTR/RTS on: USB CDC devices (Arduino, ESP32) only send once the host
     * asserts DTR, also after a replug. */
    if (sp_set_config_baudrate(cfg, baud) != SP_OK || sp_set_config_bits(cfg, 8) != SP_OK ||
        sp_set_config_parity(cfg, SP_PARITY_NONE) != SP_OK ||
        sp_set_config_stopbits(cfg, 1) != SP_OK ||
        sp_set_config_flowcontrol(cfg, SP_FLOWCONTROL_NONE) != SP_OK ||
        sp_set_config_dtr(cfg, SP_DTR_ON) != SP_OK || sp_set_config_rts(cfg, SP_RTS_ON) != SP_OK ||
        sp_set_config(p->sp, cfg) != SP_OK)
        rc = sp_fail(err, name, "configure");
    sp_free_config(cfg);
    if (rc == CL_OK)
        rc = claim(p, name, err);
    if (rc == CL_OK)
        sp_flush(p->sp, SP_BUF_INPUT); /* drop what queued up while closed */
    return rc;
}

int cl_port_open(cl_port **out, const char *name, int baud, cl_error *err)
{
    cl_port *p;
    int rc;

    *out = NULL;
    if (!name || !*name)
        return cl_error_set(err, CL_ERR_ARG, "empty port name");
    if (baud <= 0)
        return cl_error_set(err, CL_ERR_ARG, "%s: invalid baud rate %d", name, baud);
    p = calloc(1, sizeof *p);
    if (!p)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    p->fd = -1;
    p->info.usb_vendor_id = p->info.usb_product_id = -1;
    copy_str(p->info.name, sizeof p->info.name, name);

    rc = is_pty(name) ? open_pty(p, name, baud, err) : open_sp(p, name, baud, err);
    if (rc != CL_OK) {
        cl_port_close(p);
        return rc;
    }
    *out = p;
    return CL_OK;
}

void cl_port_close(cl_port *p)
{
    if (!p)
        return;
    if (p->sp) {
        sp_close(p->sp); /* also closes fd */
        sp_free_port(p->sp);
    } else if (p->fd >= 0) {
        close(p->fd);
    }
    free(p);
}

int cl_port_fd(const cl_port *p) { return p->fd; }

const cl_port_info *cl_port_get_info(const cl_port *p) { return &p->info; }

ssize_t cl_port_read(cl_port *p, void *buf, size_t cap, cl_error *err)
{
    ssize_t n = read(p->fd, buf, cap);
    if (n > 0)
        return n;
    if (n == 0) /* end of file on a tty: the other side is gone */
        return cl_error_set(err, CL_ERR_GONE, "%s: device disconnected", p->info.name);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    if (errno == EIO || errno == ENXIO || errno == ENODEV || errno == EBADF)
        return cl_error_set(err, CL_ERR_GONE, "%s: device disconnected (%s)", p->info.name,
                            strerror(errno));
    return cl_error_set(err, CL_ERR_IO, "%s: read failed: %s", p->info.name, strerror(errno));
}

int cl_port_write(cl_port *p, const void *buf, size_t n, double timeout_s, cl_error *err)
{
    const unsigned char *b = buf;
    double end = cl_time_mono_s() + timeout_s;
    while (n) {
        ssize_t w = write(p->fd, b, n);
        if (w > 0) {
            b += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EIO || errno == ENXIO || errno == ENODEV || errno == EBADF))
            return cl_error_set(err, CL_ERR_GONE, "%s: device disconnected (%s)", p->info.name,
                                strerror(errno));
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return cl_error_set(err, CL_ERR_IO, "%s: write failed: %s", p->info.name,
                                strerror(errno));
        double left = end - cl_time_mono_s();
        if (left <= 0)
            return cl_error_set(err, CL_ERR_IO, "%s: the device takes no data", p->info.name);
        struct pollfd pfd = {.fd = p->fd, .events = POLLOUT};
        poll(&pfd, 1, (int)(left * 1000) + 1);
    }
    return CL_OK;
}

int cl_port_list(cl_port_info **out, size_t *n, cl_error *err)
{
    struct sp_port **list = NULL;
    size_t count = 0;

    *out = NULL;
    *n = 0;
    if (sp_list_ports(&list) != SP_OK)
        return cl_error_set(err, CL_ERR_PORT, "cannot enumerate serial ports");
    while (list[count])
        count++;
    if (count) {
        *out = calloc(count, sizeof **out);
        if (!*out) {
            sp_free_port_list(list);
            return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
        }
    }
    for (size_t i = 0; i < count; i++) {
        (*out)[i].usb_vendor_id = (*out)[i].usb_product_id = -1;
        copy_str((*out)[i].name, sizeof (*out)[i].name, sp_get_port_name(list[i]));
        fill_sp_info(&(*out)[i], list[i]);
    }
    sp_free_port_list(list);
    *n = count;
    return CL_OK;
}
