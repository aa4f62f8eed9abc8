#include "board.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <avr_adc.h>
#include <avr_eeprom.h>
#include <avr_uart.h>
#include <sim_avr.h>
#include <sim_elf.h>
#include <uart_pty.h>

#include "cl_time.h"

/* The accessors of the bridge's queues (fifo_declare.h). */
DEFINE_FIFO(uint8_t, uart_pty_fifo);

#define VECTORS 26          /* ATmega328P interrupt vectors, reset included */
#define PACE_EVERY 1024     /* instructions between two looks at the clock */
/* Instructions between two looks for a reader opening or closing the pty:
 * fewer than one byte's time at 1 Mbaud (160 cycles), so that a reader
 * that opens the port while the board runs gets at most a byte or two sent
 * before the reset it causes (the stream's start skips them). */
#define WATCH_EVERY 128
#define QUEUE_HIGH 256      /* bytes in the bridge's 512-byte queue: hold back */
#define DRAIN_TIMEOUT_S 5.0 /* at the end, for the reader to take the rest */
#define EEPROM_MAX 1024     /* bytes: the ATmega328P's */

typedef struct isr_stat {
    unsigned long long count, total, min, max;
} isr_stat;

struct cb_board {
    avr_t *avr;
    uart_pty_t pty;
    int pty_up;
    int slave;       /* our own open end of the pty */
    int watch;       /* inotify: the pty being opened */
    unsigned resets; /* by a reader opening the pty */
    avr_cycle_count_t reset_at; /* cycles into the run of the --reset-at press, 0 none */
    avr_cycle_count_t unplug_at; /* ... of the --unplug-at pull, 0 none */
    double unplug_wall_s;
    int readers;     /* have it open now */
    cb_drive *drive;
    double start_s;  /* model time at the firmware's start */
    double boot_delay_s;
    avr_cycle_count_t cycle0;
    /* interrupt timing */
    isr_stat isr[VECTORS];
    uint8_t depth;
    uint8_t vector;
    avr_cycle_count_t entered;
    /* CPU load and stack */
    avr_cycle_count_t asleep;
    uint16_t sp_min;
    /* pacing */
    double wall_s, emulated_s, behind_max_s, held_s;
};

/* The emulated time is paced by cb_board_run, not by simavr's sleeping;
 * this only counts the cycles the CPU sleeps. */
static void count_sleep(avr_t *avr, avr_cycle_count_t how_long)
{
    cb_board *b = avr->custom.data;
    b->asleep += 1 + how_long;
}

/* A conversion starts: put the input's voltage on its pin. */
static void on_adc_trigger(struct avr_irq_t *irq, uint32_t value, void *param)
{
    cb_board *b = param;
    union {
        avr_adc_mux_t mux;
        uint32_t v;
    } e = {.v = value};
    (void)irq;
    if (e.mux.kind != ADC_MUX_SINGLE || e.mux.src >= CB_DRIVE_INPUTS)
        return;
    avr_cycle_count_t c = b->avr->cycle - b->cycle0;
    int mv = cb_drive_mv(b->drive, c, e.mux.src, b->start_s + (double)c / CB_BOARD_HZ);
    avr_raise_irq(avr_io_getirq(b->avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + e.mux.src), mv);
}

/* simavr's messages while the firmware runs (e.g. a timer mode it does not
 * model) go to stderr: stdout carries the pty paths alone. */
static void log_to_stderr(avr_t *avr, const int level, const char *format, va_list ap)
{
    (void)avr;
    if (level <= LOG_WARNING)
        vfprintf(stderr, format, ap);
}

/* simavr's parts print what they do on stdout too: while it sets up or
 * stops, stdout goes to stderr. */
static int stdout_to_stderr(void)
{
    int saved = dup(STDOUT_FILENO);
    fflush(stdout);
    dup2(STDERR_FILENO, STDOUT_FILENO);
    return saved;
}

static void stdout_back(int saved)
{
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
}

static void start_pty(cb_board *b)
{
    uart_pty_init(b->avr, &b->pty);
    uart_pty_connect(&b->pty, '0');
    b->pty_up = 1;
    /* No console copy of the bytes and no pause when the firmware polls. */
    uint32_t flags = 0;
    avr_ioctl(b->avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
}

/* The EEPROM image in `path`, if there is one (a new chip reads 0xFF). */
static int load_eeprom(cb_board *b, const char *path, cl_error *err)
{
    uint8_t ee[EEPROM_MAX];
    uint32_t size = b->avr->e2end + 1;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? CL_OK
                               : cl_error_set(err, cl_error_from_errno(errno), "%s: %s", path,
                                              strerror(errno));
    size_t n = fread(ee, 1, sizeof ee, f);
    fclose(f);
    if (n != size)
        return cl_error_set(err, CL_ERR_FORMAT, "%s: %zu bytes, the EEPROM has %u", path, n,
                            (unsigned)size);
    avr_eeprom_desc_t d = {.ee = ee, .offset = 0, .size = size};
    avr_ioctl(b->avr, AVR_IOCTL_EEPROM_SET, &d);
    return CL_OK;
}

int cb_board_save_eeprom(const cb_board *b, const char *path, cl_error *err)
{
    uint8_t ee[EEPROM_MAX];
    avr_eeprom_desc_t d = {.ee = ee, .offset = 0, .size = b->avr->e2end + 1};
    avr_ioctl(b->avr, AVR_IOCTL_EEPROM_GET, &d);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(ee, 1, d.size, f) != d.size || fclose(f) != 0) {
        int e = errno;
        if (f)
            fclose(f);
        return cl_error_set(err, cl_error_from_errno(e), "%s: %s", path, strerror(e));
    }
    return CL_OK;
}

static int load(cb_board *b, const cb_options *o, elf_firmware_t *fw, cl_error *err)
{
    if (access(o->firmware, R_OK) != 0 || elf_read_firmware(o->firmware, fw) != 0)
        return cl_error_set(err, CL_ERR_NOTFOUND, "%s: cannot read the firmware", o->firmware);
    b->avr = avr_make_mcu_by_name(CB_BOARD_MCU);
    int ok = b->avr && avr_init(b->avr) == 0;
    if (ok)
        avr_load_firmware(b->avr, fw);
    free(fw->flash);
    free(fw->eeprom);
    for (uint32_t i = 0; i < fw->symbolcount; i++)
        free(fw->symbol[i]);
    free(fw->symbol);
    if (!ok)
        return cl_error_set(err, CL_ERR_NOMEM, "simavr cannot make an " CB_BOARD_MCU);
    b->avr->frequency = CB_BOARD_HZ;
    b->avr->vcc = b->avr->avcc = b->avr->aref = (uint32_t)o->vcc_mv;
    b->avr->sleep = count_sleep;
    b->avr->custom.data = b;
    b->avr->log = LOG_WARNING;
    avr_global_logger_set(log_to_stderr);
    avr_irq_register_notify(avr_io_getirq(b->avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER),
                            on_adc_trigger, b);
    start_pty(b);
    return o->eeprom ? load_eeprom(b, o->eeprom, err) : CL_OK;
}

static int watch_pty(cb_board *b, cl_error *err);

int cb_board_create(cb_board **out, const cb_options *o, cb_drive *drive, cl_error *err)
{
    elf_firmware_t fw;
    cb_board *b = calloc(1, sizeof *b);

    *out = NULL;
    if (!b)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    b->slave = -1;
    b->watch = -1;
    b->drive = drive;
    b->start_s = o->start_s;
    b->boot_delay_s = o->boot_delay_s;
    b->reset_at = (avr_cycle_count_t)(o->reset_at_s * CB_BOARD_HZ);
    b->unplug_at = (avr_cycle_count_t)(o->unplug_at_s * CB_BOARD_HZ);
    b->unplug_wall_s = o->unplug_wall_s;
    memset(&fw, 0, sizeof fw);
    int saved = stdout_to_stderr();
    int rc = load(b, o, &fw, err);
    stdout_back(saved);
    if (rc != CL_OK) {
        cb_board_destroy(b);
        return rc;
    }
    b->slave = open(b->pty.pty.slavename, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (b->slave < 0) {
        int e = errno;
        cb_board_destroy(b);
        return cl_error_set(err, cl_error_from_errno(e), "cannot open the pty: %s", strerror(e));
    }
    /* Watched before its path is told to anyone: a reader that opens it
     * at once is not missed. */
    if ((rc = watch_pty(b, err)) != CL_OK) {
        cb_board_destroy(b);
        return rc;
    }
    *out = b;
    return CL_OK;
}

void cb_board_destroy(cb_board *b)
{
    if (!b)
        return;
    if (b->pty_up) {
        /* Not uart_pty_stop(): in simavr 1.6 its thread can miss the signal
         * meant to end it and the join never returns.  The thread's select()
         * is a cancellation point it reaches on every turn. */
        pthread_cancel(b->pty.thread);
        pthread_join(b->pty.thread, NULL);
        close(b->pty.pty.s);
    }
    if (b->slave >= 0)
        close(b->slave);
    if (b->watch >= 0)
        close(b->watch);
    if (b->avr) {
        avr_terminate(b->avr);
        free(b->avr);
    }
    free(b);
}

const char *cb_board_pty(const cb_board *b)
{
    return b->pty.pty.slavename;
}

/* Count the readers opening and closing the pty since the last look; true
 * if one opened it. */
static int opened(cb_board *b)
{
    char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    int any = 0;
    while ((n = read(b->watch, ev, sizeof ev)) > 0) {
        for (char *p = ev; p < ev + n;) {
            const struct inotify_event *e = (const struct inotify_event *)p;
            if (e->mask & IN_OPEN) {
                b->readers++;
                any = 1;
            } else if ((e->mask & IN_CLOSE) && b->readers > 0) {
                b->readers--;
            }
            p += sizeof *e + e->len;
        }
    }
    return any;
}

/* Watch the current pty for readers opening and closing it. */
static int watch_pty(cb_board *b, cl_error *err)
{
    if (b->watch >= 0)
        close(b->watch);
    b->readers = 0;
    b->watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (b->watch < 0 || inotify_add_watch(b->watch, cb_board_pty(b), IN_OPEN | IN_CLOSE) < 0) {
        int e = errno;
        return cl_error_set(err, cl_error_from_errno(e), "cannot watch the pty: %s",
                            strerror(e));
    }
    return CL_OK;
}

int cb_board_wait_reader(cb_board *b, double wait_s, volatile sig_atomic_t *stop,
                         cl_error *err)
{
    double deadline = cl_time_mono_s() + wait_s;
    while (!*stop) {
        struct pollfd p = {b->watch, POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
            opened(b);
            cl_time_sleep_s(b->boot_delay_s);
            return CL_OK;
        }
        if (cl_time_mono_s() >= deadline)
            return cl_error_set(err, CL_ERR_NOTFOUND, "nobody opened %s within %g s",
                                cb_board_pty(b), wait_s);
    }
    return CL_OK;
}

/* A reset: marked in the log; a handler it cut short is not timed. */
static void note_reset(cb_board *b)
{
    cb_drive_reset(b->drive, b->avr->cycle - b->cycle0);
    b->depth = 0;
}

/* The cable pulled: the pty goes away, so the reader's next read fails, and
 * what the bridge still held is lost; the board is off for unplug_wall_s;
 * then another pty comes up (opened before the old one closes, so its path
 * differs, as a replugged board's /dev name may), its path a new line on
 * stdout.  The bridge's thread keeps its descriptor: it is switched to a
 * pipe nobody writes while unplugged, then to the new pty's master. */
static int unplug(cb_board *b, volatile sig_atomic_t *stop, cl_error *err)
{
    int m, s, off[2];
    char name[sizeof b->pty.pty.slavename];
    struct termios tio;

    if (openpty(&m, &s, name, NULL, NULL) < 0)
        return cl_error_set(err, cl_error_from_errno(errno), "cannot open a pty: %s",
                            strerror(errno));
    if (pipe(off) < 0) {
        int e = errno;
        close(m);
        close(s);
        return cl_error_set(err, cl_error_from_errno(e), "pipe: %s", strerror(e));
    }
    tcgetattr(m, &tio);
    cfmakeraw(&tio);
    tcsetattr(m, TCSANOW, &tio);
    fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);

    dup2(off[0], b->pty.pty.s); /* the old master closes: the device is gone */
    close(off[0]);
    close(b->slave);
    b->slave = s;
    uart_pty_fifo_reset(&b->pty.pty.in);
    double until = cl_time_mono_s() + b->unplug_wall_s;
    while (!*stop && cl_time_mono_s() < until)
        cl_time_sleep_s(10e-3);
    dup2(m, b->pty.pty.s);
    close(m);
    close(off[1]);
    snprintf(b->pty.pty.slavename, sizeof b->pty.pty.slavename, "%s", name);
    int rc = watch_pty(b, err); /* before the path is told: no open missed */
    if (rc != CL_OK)
        return rc;
    printf("%s\n", name);
    fflush(stdout);
    return CL_OK;
}

/* After every instruction: time the interrupt handler being entered or left. */
static void time_interrupts(cb_board *b)
{
    avr_t *avr = b->avr;
    uint8_t depth = avr->interrupts.running_ptr;
    if (depth == b->depth)
        return;
    if (depth > b->depth && depth == 1) {
        b->vector = avr->interrupts.running[0]->vector;
        b->entered = avr->cycle;
    } else if (depth == 0 && b->vector < VECTORS) {
        isr_stat *s = &b->isr[b->vector];
        unsigned long long n = avr->cycle - b->entered;
        s->min = s->count && s->min < n ? s->min : n;
        s->max = s->max > n ? s->max : n;
        s->total += n;
        s->count++;
    }
    b->depth = depth;
}

/* Hold the emulation back while it is ahead of the wall clock or the
 * bridge's queue to the host is filling up. */
static void pace(cb_board *b, double wall0)
{
    b->emulated_s = (double)(b->avr->cycle - b->cycle0) / CB_BOARD_HZ;
    for (;;) {
        double wall = cl_time_mono_s() - wall0;
        unsigned queued = uart_pty_fifo_get_read_size(&b->pty.pty.in);
        if (queued > QUEUE_HIGH) {
            cl_time_sleep_s(100e-6);
            b->held_s += 100e-6;
            continue;
        }
        b->wall_s = wall;
        if (wall - b->emulated_s > b->behind_max_s)
            b->behind_max_s = wall - b->emulated_s;
        if (b->emulated_s - wall > 0.5e-3)
            cl_time_sleep_s(b->emulated_s - wall);
        return;
    }
}

/* Let the bridge hand what it holds to the pty (0.5 s at most). */
static void drain_bridge(cb_board *b)
{
    for (int i = 0; i < 50 && uart_pty_fifo_get_read_size(&b->pty.pty.in); i++)
        cl_time_sleep_s(10e-3);
}

/* Let the bridge and the reader take what is still queued. */
static void drain(cb_board *b)
{
    double deadline = cl_time_mono_s() + DRAIN_TIMEOUT_S;
    int queued = 1;
    while (queued > 0 && cl_time_mono_s() < deadline) {
        if (ioctl(b->slave, FIONREAD, &queued) != 0)
            queued = 0;
        queued += (int)uart_pty_fifo_get_read_size(&b->pty.pty.in);
        if (queued)
            cl_time_sleep_s(10e-3);
    }
}

int cb_board_run(cb_board *b, double duration_s, volatile sig_atomic_t *stop, cl_error *err)
{
    avr_t *avr = b->avr;
    avr_cycle_count_t end = (avr_cycle_count_t)(duration_s * CB_BOARD_HZ);
    double wall0 = cl_time_mono_s();
    unsigned n = 0;

    b->cycle0 = avr->cycle;
    b->sp_min = (uint16_t)avr->ramend;
    while (!*stop) {
        int state = avr_run(avr);
        uint16_t sp = (uint16_t)(avr->data[R_SPL] | avr->data[R_SPH] << 8);
        if (sp < b->sp_min)
            b->sp_min = sp;
        if (state == cpu_Done || state == cpu_Crashed)
            return cl_error_set(err, CL_ERR_IO, "the emulated CPU %s at PC 0x%04x",
                                state == cpu_Crashed ? "crashed" : "stopped",
                                (unsigned)avr->pc);
        if (avr->pc == 0) /* the reset vector: only ever reached by a (watchdog) reset */
            note_reset(b);
        else
            time_interrupts(b);
        if (++n % WATCH_EVERY)
            continue;
        if (opened(b) || b->readers == 0) {
            /* Nobody listening: the board waits for the next reader (so what
             * it sends is not lost to nobody), which resets it like the DTR
             * line of a real Uno; the bootloader waits before the firmware
             * starts. */
            double t0 = cl_time_mono_s();
            /* What was sent before the reset and not read is gone, as when a
             * real port is closed, also when the next reader came at once. */
            drain_bridge(b);
            tcflush(b->slave, TCIFLUSH);
            while (b->readers == 0 && !*stop) {
                cl_time_sleep_s(10e-3);
                opened(b);
            }
            avr_reset(avr);
            note_reset(b);
            b->resets++;
            cl_time_sleep_s(b->boot_delay_s);
            wall0 += cl_time_mono_s() - t0;
        }
        if (n % PACE_EVERY)
            continue;
        pace(b, wall0);
        if (b->unplug_at && avr->cycle - b->cycle0 >= b->unplug_at) {
            b->unplug_at = 0; /* the cable, pulled once */
            double t0 = cl_time_mono_s();
            int rc = unplug(b, stop, err);
            if (rc != CL_OK)
                return rc;
            wall0 += cl_time_mono_s() - t0;
        }
        if (b->reset_at && avr->cycle - b->cycle0 >= b->reset_at) {
            b->reset_at = 0; /* the reset button, pressed once */
            avr_reset(avr);
            note_reset(b);
        }
        if (end && avr->cycle - b->cycle0 >= end)
            break;
    }
    drain(b);
    return CL_OK;
}

static const char *const vector_names[VECTORS] = {
    [11] = "TIMER1_COMPA", [18] = "USART_RX", [19] = "USART_UDRE", [21] = "ADC",
};

int cb_board_write_stats(const cb_board *b, const char *path, cl_error *err)
{
    json_t *root = json_object(), *isr = json_object();
    json_object_set_new(root, "mcu", json_string(CB_BOARD_MCU));
    json_object_set_new(root, "f_cpu_hz", json_integer(CB_BOARD_HZ));
    json_object_set_new(root, "emulated_s", json_real(b->emulated_s));
    json_object_set_new(root, "wall_s", json_real(b->wall_s));
    json_object_set_new(root, "realtime_factor",
                        json_real(b->wall_s > 0 ? b->emulated_s / b->wall_s : 0));
    json_object_set_new(root, "behind_max_s", json_real(b->behind_max_s));
    json_object_set_new(root, "held_for_host_s", json_real(b->held_s));
    json_object_set_new(root, "resets_on_open", json_integer(b->resets));
    avr_cycle_count_t run = b->avr->cycle - b->cycle0;
    json_object_set_new(root, "cpu_asleep", json_real(run ? (double)b->asleep / run : 0));
    json_object_set_new(root, "stack_bytes_max", json_integer(b->avr->ramend - b->sp_min));
    for (int v = 0; v < VECTORS; v++) {
        const isr_stat *s = &b->isr[v];
        char name[24];
        if (!s->count)
            continue;
        if (vector_names[v])
            snprintf(name, sizeof name, "%s", vector_names[v]);
        else
            snprintf(name, sizeof name, "vector%d", v);
        json_object_set_new(isr, name,
                            json_pack("{sIsIsIsf}", "count", (json_int_t)s->count, "min",
                                      (json_int_t)s->min, "max", (json_int_t)s->max, "mean",
                                      (double)s->total / (double)s->count));
    }
    json_object_set_new(root, "isr_cycles", isr);
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    return rc == 0 ? CL_OK : cl_error_set(err, CL_ERR_IO, "%s: cannot write", path);
}
