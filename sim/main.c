/*
 * cuplab-sim: a virtual cupping-pressure device.  It opens a pseudo-terminal,
 * prints the slave's path as the first line on stdout, waits for a reader
 * and streams simulated sensor frames (text lines or binary COBS frames,
 * encoded by cl_wire) computed by the cl_sim model.  Faults a real device and
 * cable produce can be injected on purpose: junk bytes, corrupted frames,
 * a wrong-baud-rate burst, dropped frames and unplugging.  Everything is
 * reproducible from --seed, and the ground truth (--truth, JSON) and every
 * frame actually sent (--log, CSV) are written for the tests to compare a
 * recording against.
 *
 * Randomness comes from three independent generators derived from the seed:
 * "model" (cup and sensor parameters, application times), "noise" (sensor
 * noise, one draw per channel per frame, including frames that are then
 * dropped or lost) and "fault" (which frames are dropped, garbled or preceded
 * by junk).  Fault options therefore never change the values of the frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>
#include <jansson.h>

#include "cl_log.h"
#include "cl_sim.h"
#include "cl_wire.h"

#define PROG "cuplab-sim"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_NO_READER = 3 };

#define MAX_CUPS CL_WIRE_MAX_CHANNELS
#define MAX_DISCONNECTS 16
#define OUT_CAP 16384      /* bytes buffered before a write */
#define PEND_CAP 512       /* frames buffered before a write */
#define FRAME_MAX 1200     /* one encoded frame (text line or binary) */
#define JUNK_MAX 64        /* bytes of one junk burst, delimiter included */
#define EARLY_S 0.0005     /* frames may leave this much ahead of their time */
#define DRAIN_S 2.0        /* before an unplug, wait this long for the reader to catch up */
#define DRAIN_QUIET_S 0.05 /* ... until the reader's queue stayed empty this long */

/* Outcome of an I/O step. */
enum { ST_OK = 0, ST_STOP = 1, ST_GONE = 2, ST_NO_READER = 3, ST_ERROR = -1 };

typedef struct disconnect {
    double t_s;    /* simulated time of the unplug */
    double wall_s; /* wall-clock duration of the outage */
    /* results */
    bool done;
    bool reconnected;
    double resume_s;    /* simulated time sending resumes */
    uint64_t first_seq; /* first frame lost */
    uint64_t lost;      /* frames lost */
    long unread_bytes;  /* bytes still unread in the pty when it closed (-1 unknown) */
    char path[64];      /* slave path after reconnecting */
} disconnect;

typedef struct options {
    int cups;
    double rate_hz, duration_s, time_scale, start_s;
    unsigned long seed;
    cl_wire_protocol proto;
    int technique; /* 0 = mixed, else cl_sim_technique */
    int adc_bits;
    bool checksum, no_time, labels, baud_garbage;
    double garbage_p;
    uint64_t drop;
    disconnect disc[MAX_DISCONNECTS];
    int ndisc;
    const char *link, *truth, *log;
    double wait_s, linger_s;
} options;

typedef struct u64vec {
    uint64_t *v;
    size_t n, cap;
} u64vec;

typedef struct pending {
    uint64_t seq;
    int64_t time_us;
    size_t end; /* offset just past the frame's bytes in the output buffer */
    bool garbled;
    int32_t raw[MAX_CUPS];
} pending;

typedef struct sim {
    options o;
    cl_sim_cup cup[MAX_CUPS];
    cl_sim_sensor sensor[MAX_CUPS];
    char serial[MAX_CUPS][32];
    char device_id[32];
    gsl_rng *model, *noise, *fault;
    uint64_t nframes;
    uint64_t *drop; /* sorted frame indices to drop */
    size_t ndrop;

    int master;
    char slave[64];
    json_t *paths; /* every slave path used, in order */
    FILE *logf, *truthf;

    uint8_t out[OUT_CAP + FRAME_MAX + 2 * JUNK_MAX];
    size_t out_len;
    pending pend[PEND_CAP];
    size_t npend;

    uint64_t sent, dropped, garbled, lost, junk_bursts, junk_bytes, baud_bytes, bytes_written;
    u64vec dropped_seq, garbled_seq;
    const char *status;
} sim;

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* ---- small helpers ------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static bool vec_push(u64vec *v, uint64_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 64;
        uint64_t *p = realloc(v->v, cap * sizeof *p);
        if (!p)
            return false;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return true;
}

/* splitmix64: turns (seed, stream) into well-separated generator seeds. */
static unsigned long derive_seed(unsigned long seed, uint64_t stream)
{
    uint64_t z = (uint64_t)seed + stream * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (unsigned long)(z & 0xFFFFFFFFUL) | 1UL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_disc(const void *a, const void *b)
{
    double x = ((const disconnect *)a)->t_s, y = ((const disconnect *)b)->t_s;
    return x < y ? -1 : x > y;
}

/* Simulated seconds skipped by an outage of wall_s seconds. */
static double outage_sim_s(const options *o, double wall_s)
{
    return wall_s * (o->time_scale > 0 ? o->time_scale : 1);
}

/* ---- options ------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("Usage: " PROG " [OPTION]...\n"
          "Virtual cupping-pressure device.  Opens a pseudo-terminal, prints its path as\n"
          "the first line on stdout, waits for a reader and streams simulated readings of\n"
          "one vacuum sensor per cup.\n"
          "\n"
          "Session:\n"
          "  -n, --cups N           cups (= channels), 1..32 (default 4)\n"
          "  -r, --rate HZ          frames per second (default 100)\n"
          "  -d, --duration S       simulated session length in seconds (default 600)\n"
          "  -x, --time-scale X     simulated seconds per wall-clock second (default 1;\n"
          "                         0 = as fast as the reader takes them)\n"
          "  -s, --seed N           random seed (default 1)\n"
          "  -t, --technique T      pump, fire or mixed (alternating; default mixed)\n"
          "      --start S          first cup applied at S seconds (default 5); the\n"
          "                         others follow a few seconds apart\n"
          "      --adc-bits B       ADC resolution, 8..16 bits (default 12)\n"
          "Wire format:\n"
          "  -p, --protocol P       text or binary (default text)\n"
          "      --checksum         text: append an NMEA-style *XX checksum\n"
          "      --no-time          text: no device timestamp column\n"
          "      --labels           text: label:value pairs (ms:1234,c1:2890,...)\n"
          "Faults:\n"
          "      --garbage P        per frame, probability P of junk bytes before it or\n"
          "                         of corrupting it (half each)\n"
          "      --baud-garbage     start with a burst of bytes as from a wrong baud rate\n"
          "      --drop N           leave out N random frames (sequence gaps)\n"
          "      --disconnect T:D   unplug at simulated time T for D wall-clock seconds,\n"
          "                         then come back on a new pty (repeatable); the frames\n"
          "                         of D*X simulated seconds (D if X = 0) are lost\n"
          "Files and timing:\n"
          "      --link PATH        keep a symlink PATH -> the current pty (removed while\n"
          "                         unplugged and at exit)\n"
          "      --truth FILE       write the ground truth (JSON)\n"
          "      --log FILE         write every frame sent intact (CSV)\n"
          "      --wait S           wait at most S seconds for a reader (default 30)\n"
          "      --linger S         after the session, wait at most S seconds for the\n"
          "                         reader to close (default 2)\n"
          "  -v, --verbose          report progress on stderr\n"
          "  -q, --quiet            report errors only\n"
          "  -h, --help             show this help and exit\n"
          "  -V, --version          show the version and exit\n"
          "\n"
          "Text frames start with the device time in milliseconds, binary frames carry\n"
          "it in microseconds and a sequence number counting from 0.  A new pty path is\n"
          "printed on stdout after each reconnect.\n"
          "Exit status: 0 done (also when the reader closed or on SIGINT/SIGTERM),\n"
          "1 error, 2 invalid usage, 3 no reader within --wait.\n",
          f);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry '" PROG " --help' for more information.\n");
    return EXIT_USAGE;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_ulong(const char *s, unsigned long long hi, unsigned long long *out)
{
    char *end;
    if (*s == '-' || *s == '\0')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > hi)
        return false;
    *out = v;
    return true;
}

enum {
    OPT_START = 256,
    OPT_ADC_BITS,
    OPT_CHECKSUM,
    OPT_NO_TIME,
    OPT_LABELS,
    OPT_GARBAGE,
    OPT_BAUD_GARBAGE,
    OPT_DROP,
    OPT_DISCONNECT,
    OPT_LINK,
    OPT_TRUTH,
    OPT_LOG,
    OPT_WAIT,
    OPT_LINGER,
};

/* Parse argv into o.  Returns -1 to go on, or an exit status. */
static int parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"cups", required_argument, NULL, 'n'},
        {"rate", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'},
        {"time-scale", required_argument, NULL, 'x'},
        {"seed", required_argument, NULL, 's'},
        {"technique", required_argument, NULL, 't'},
        {"protocol", required_argument, NULL, 'p'},
        {"start", required_argument, NULL, OPT_START},
        {"adc-bits", required_argument, NULL, OPT_ADC_BITS},
        {"checksum", no_argument, NULL, OPT_CHECKSUM},
        {"no-time", no_argument, NULL, OPT_NO_TIME},
        {"labels", no_argument, NULL, OPT_LABELS},
        {"garbage", required_argument, NULL, OPT_GARBAGE},
        {"baud-garbage", no_argument, NULL, OPT_BAUD_GARBAGE},
        {"drop", required_argument, NULL, OPT_DROP},
        {"disconnect", required_argument, NULL, OPT_DISCONNECT},
        {"link", required_argument, NULL, OPT_LINK},
        {"truth", required_argument, NULL, OPT_TRUTH},
        {"log", required_argument, NULL, OPT_LOG},
        {"wait", required_argument, NULL, OPT_WAIT},
        {"linger", required_argument, NULL, OPT_LINGER},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    unsigned long long u;
    double d;
    int c;

    *o = (options){.cups = 4,
                   .rate_hz = 100,
                   .duration_s = 600,
                   .time_scale = 1,
                   .start_s = 5,
                   .seed = 1,
                   .proto = CL_WIRE_TEXT,
                   .adc_bits = 12,
                   .wait_s = 30,
                   .linger_s = 2};
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:r:d:x:s:t:p:vqhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (!parse_ulong(optarg, MAX_CUPS, &u) || u < 1)
                return usage_error("--cups: expected 1..32, got '%s'", optarg);
            o->cups = (int)u;
            break;
        case 'r':
            if (!parse_double(optarg, 1e-3, 1e6, &o->rate_hz))
                return usage_error("--rate: expected 0.001..1000000 Hz, got '%s'", optarg);
            break;
        case 'd':
            if (!parse_double(optarg, 0, 1e7, &o->duration_s) || o->duration_s <= 0)
                return usage_error("--duration: expected seconds > 0, got '%s'", optarg);
            break;
        case 'x':
            if (!parse_double(optarg, 0, 1e6, &o->time_scale))
                return usage_error("--time-scale: expected a factor >= 0, got '%s'", optarg);
            break;
        case 's':
            if (!parse_ulong(optarg, 0xFFFFFFFFULL, &u))
                return usage_error("--seed: expected 0..4294967295, got '%s'", optarg);
            o->seed = (unsigned long)u;
            break;
        case 't':
            if (!strcmp(optarg, "pump"))
                o->technique = CL_SIM_PUMP;
            else if (!strcmp(optarg, "fire"))
                o->technique = CL_SIM_FIRE;
            else if (!strcmp(optarg, "mixed"))
                o->technique = 0;
            else
                return usage_error("--technique: expected pump, fire or mixed, got '%s'",
                                   optarg);
            break;
        case 'p':
            o->proto = cl_wire_protocol_from_name(optarg);
            if (!o->proto)
                return usage_error("--protocol: expected text or binary, got '%s'", optarg);
            break;
        case OPT_START:
            if (!parse_double(optarg, 0, 1e7, &o->start_s))
                return usage_error("--start: expected seconds >= 0, got '%s'", optarg);
            break;
        case OPT_ADC_BITS:
            if (!parse_ulong(optarg, 16, &u) || u < 8)
                return usage_error("--adc-bits: expected 8..16, got '%s'", optarg);
            o->adc_bits = (int)u;
            break;
        case OPT_CHECKSUM:
            o->checksum = true;
            break;
        case OPT_NO_TIME:
            o->no_time = true;
            break;
        case OPT_LABELS:
            o->labels = true;
            break;
        case OPT_BAUD_GARBAGE:
            o->baud_garbage = true;
            break;
        case OPT_GARBAGE:
            if (!parse_double(optarg, 0, 1, &o->garbage_p))
                return usage_error("--garbage: expected a probability 0..1, got '%s'", optarg);
            break;
        case OPT_DROP:
            if (!parse_ulong(optarg, UINT64_MAX, &u))
                return usage_error("--drop: expected a frame count, got '%s'", optarg);
            o->drop = u;
            break;
        case OPT_DISCONNECT: {
            char *colon = strchr(optarg, ':');
            double t, w;
            if (o->ndisc == MAX_DISCONNECTS)
                return usage_error("--disconnect: at most 16, '%s' is one too many", optarg);
            if (!colon)
                return usage_error("--disconnect: expected T:D (seconds), got '%s'", optarg);
            *colon = '\0';
            bool ok = parse_double(optarg, 0, 1e7, &t) && parse_double(colon + 1, 0, 3600, &w);
            *colon = ':';
            if (!ok)
                return usage_error("--disconnect: expected T:D (seconds), got '%s'", optarg);
            o->disc[o->ndisc++] = (disconnect){.t_s = t, .wall_s = w, .unread_bytes = -1};
            break;
        }
        case OPT_LINK:
            o->link = optarg;
            break;
        case OPT_TRUTH:
            o->truth = optarg;
            break;
        case OPT_LOG:
            o->log = optarg;
            break;
        case OPT_WAIT:
            if (!parse_double(optarg, 0, 1e6, &d))
                return usage_error("--wait: expected seconds >= 0, got '%s'", optarg);
            o->wait_s = d;
            break;
        case OPT_LINGER:
            if (!parse_double(optarg, 0, 1e6, &d))
                return usage_error("--linger: expected seconds >= 0, got '%s'", optarg);
            o->linger_s = d;
            break;
        case 'v':
            cl_log_set_level(CL_LOG_INFO);
            break;
        case 'q':
            cl_log_set_level(CL_LOG_ERROR);
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf(PROG " " CUPLAB_VERSION "\n");
            return 0;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (o->proto == CL_WIRE_BINARY && (o->checksum || o->no_time || o->labels))
        return usage_error("%s: --checksum, --no-time and --labels apply to text only",
                           "--protocol binary");
    qsort(o->disc, (size_t)o->ndisc, sizeof o->disc[0], cmp_disc);
    for (int i = 1; i < o->ndisc; i++)
        if (o->disc[i].t_s < o->disc[i - 1].t_s + outage_sim_s(o, o->disc[i - 1].wall_s))
            return usage_error("--disconnect: outages overlap%s", "");
    return -1;
}

/* ---- setup --------------------------------------------------------------------- */

/* Choose the N distinct frames to drop, never the first or the last one, so
 * that every drop shows as a gap between two frames that arrive. */
static int choose_drops(sim *s)
{
    uint64_t n = s->o.drop;
    if (n == 0)
        return 0;
    if (s->nframes < 3 || n > (s->nframes - 2) / 2) {
        fprintf(stderr,
                PROG ": --drop %" PRIu64 ": too many for a session of %" PRIu64
                     " frames\nTry '" PROG " --help' for more information.\n",
                n, s->nframes);
        return EXIT_USAGE;
    }
    s->drop = malloc(n * sizeof *s->drop);
    if (!s->drop) {
        cl_log(CL_LOG_ERROR, "out of memory");
        return EXIT_RUNTIME;
    }
    size_t have = 0;
    while (have < n) {
        while (have < n)
            s->drop[have++] =
                1 + (uint64_t)(gsl_rng_uniform(s->fault) * (double)(s->nframes - 2));
        qsort(s->drop, have, sizeof *s->drop, cmp_u64);
        size_t w = 0;
        for (size_t i = 0; i < have; i++)
            if (w == 0 || s->drop[i] != s->drop[w - 1])
                s->drop[w++] = s->drop[i];
        have = w;
    }
    s->ndrop = have;
    return 0;
}

static void make_session(sim *s)
{
    const options *o = &s->o;
    double t = o->start_s;
    snprintf(s->device_id, sizeof s->device_id, "SIM-%lu", o->seed);
    for (int i = 0; i < o->cups; i++) {
        cl_sim_technique tech = o->technique ? (cl_sim_technique)o->technique
                                : i % 2      ? CL_SIM_FIRE
                                             : CL_SIM_PUMP;
        cl_sim_cup_random(&s->cup[i], tech, t, s->model);
        cl_sim_sensor_random(&s->sensor[i], s->model);
        s->sensor[i].adc_bits = o->adc_bits;
        snprintf(s->serial[i], sizeof s->serial[i], "SIM-%lu-%02d", o->seed, i + 1);
        /* The next cup goes on a few seconds after this one holds. */
        t = cl_sim_hold_start(&s->cup[i]) + 1 + 3 * gsl_rng_uniform(s->model);
    }
    s->nframes = (uint64_t)floor(o->duration_s * o->rate_hz + 1e-6);
    if (s->nframes == 0)
        s->nframes = 1;
}

/* ---- the pseudo-terminal ------------------------------------------------------- */

/* Open a new pty pair in raw mode; s->master and s->slave are set.  The slave
 * is opened and closed once so that the master reports POLLHUP until a
 * reader opens it. */
static int pty_open(sim *s)
{
    struct termios tio;
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) {
        cl_log(CL_LOG_ERROR, "cannot open a pseudo-terminal: %s", strerror(errno));
        return ST_ERROR;
    }
    const char *name = NULL;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || !(name = ptsname(m)) ||
        strlen(name) >= sizeof s->slave || tcgetattr(m, &tio) < 0) {
        cl_log(CL_LOG_ERROR, "cannot set up the pseudo-terminal: %s", strerror(errno));
        close(m);
        return ST_ERROR;
    }
    strcpy(s->slave, name);
    cfmakeraw(&tio);
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    int sl = open(s->slave, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (tcsetattr(m, TCSANOW, &tio) < 0 || sl < 0 ||
        fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK) < 0) {
        cl_log(CL_LOG_ERROR, "cannot configure %s: %s", s->slave, strerror(errno));
        if (sl >= 0)
            close(sl);
        close(m);
        return ST_ERROR;
    }
    close(sl);
    s->master = m;
    json_array_append_new(s->paths, json_string(s->slave));
    return ST_OK;
}

/* Tell the user (and the tests) where the device is: first line on stdout,
 * and again after every reconnect. */
static void announce_path(const sim *s)
{
    printf("%s\n", s->slave);
    fflush(stdout);
    cl_log(CL_LOG_INFO, "device on %s", s->slave);
}

static void pty_close(sim *s)
{
    if (s->master >= 0)
        close(s->master);
    s->master = -1;
}

/* Discard whatever the reader wrote to the device. */
static void drain_input(sim *s)
{
    char junk[512];
    while (read(s->master, junk, sizeof junk) > 0)
        ;
}

/* Bytes written but not yet read by the reader, or -1 if unknown. */
static long pty_unread(const sim *s)
{
    int fd = open(s->slave, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    int n = -1;
    if (fd < 0)
        return -1;
    if (ioctl(fd, FIONREAD, &n) < 0)
        n = -1;
    close(fd);
    return n;
}

/* Point the --link symlink at the current slave, atomically. */
static int link_update(const sim *s)
{
    char tmp[4096];
    if (!s->o.link)
        return ST_OK;
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", s->o.link, (long)getpid());
    unlink(tmp);
    if (symlink(s->slave, tmp) < 0 || rename(tmp, s->o.link) < 0) {
        cl_log(CL_LOG_ERROR, "cannot link %s -> %s: %s", s->o.link, s->slave, strerror(errno));
        unlink(tmp);
        return ST_ERROR;
    }
    return ST_OK;
}

/* Remove the --link symlink if it still points at our slave. */
static void link_remove(const sim *s)
{
    char target[sizeof s->slave + 1];
    if (!s->o.link)
        return;
    ssize_t n = readlink(s->o.link, target, sizeof target - 1);
    if (n < 0)
        return;
    target[n] = '\0';
    if (!strcmp(target, s->slave))
        unlink(s->o.link);
}

/* Wait until a reader opens the slave (the master stops reporting POLLHUP). */
static int wait_reader(sim *s)
{
    double deadline = now_s() + s->o.wait_s;
    for (;;) {
        struct pollfd p = {s->master, POLLIN, 0};
        if (stop_flag)
            return ST_STOP;
        int r = poll(&p, 1, 0);
        if (r < 0 && errno != EINTR)
            return ST_ERROR;
        if (r >= 0 && !(p.revents & POLLHUP)) {
            cl_log(CL_LOG_INFO, "reader connected on %s", s->slave);
            return ST_OK;
        }
        if (now_s() >= deadline) {
            cl_log(CL_LOG_ERROR, "no reader opened %s within %g s", s->slave, s->o.wait_s);
            return ST_NO_READER;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* ---- output -------------------------------------------------------------------- */

static int log_frame(sim *s, const pending *p)
{
    if (!s->logf)
        return 0;
    fprintf(s->logf, "%" PRIu64 ",%" PRId64, p->seq, p->time_us);
    for (int i = 0; i < s->o.cups; i++)
        fprintf(s->logf, ",%" PRId32, p->raw[i]);
    return fputc('\n', s->logf) == EOF ? -1 : 0;
}

/* Write the output buffer to the master, handling partial writes and a full
 * pty; then account for the frames that went out completely. */
static int flush_out(sim *s)
{
    size_t off = 0;
    int rc = ST_OK;
    while (off < s->out_len) {
        struct pollfd p = {s->master, POLLOUT | POLLIN, 0};
        int r = poll(&p, 1, 100);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = ST_ERROR;
            break;
        }
        if (r == 0) {
            if (stop_flag) {
                rc = ST_STOP;
                break;
            }
            continue;
        }
        if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) {
            rc = ST_GONE;
            break;
        }
        if (p.revents & POLLIN)
            drain_input(s);
        if (!(p.revents & POLLOUT))
            continue;
        ssize_t w = write(s->master, s->out + off, s->out_len - off);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && errno == EIO) {
            rc = ST_GONE;
            break;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            cl_log(CL_LOG_ERROR, "write to %s: %s", s->slave, strerror(errno));
            rc = ST_ERROR;
            break;
        }
    }
    s->bytes_written += off;
    for (size_t i = 0; i < s->npend && s->pend[i].end <= off; i++) {
        if (s->pend[i].garbled) {
            s->garbled++;
            if (!vec_push(&s->garbled_seq, s->pend[i].seq))
                rc = ST_ERROR;
        } else {
            s->sent++;
            if (log_frame(s, &s->pend[i]) < 0) {
                cl_log(CL_LOG_ERROR, "cannot write %s: %s", s->o.log, strerror(errno));
                rc = ST_ERROR;
            }
        }
    }
    s->out_len = 0;
    s->npend = 0;
    return rc;
}

static void put_bytes(sim *s, const void *b, size_t n)
{
    memcpy(s->out + s->out_len, b, n);
    s->out_len += n;
}

/* A burst of junk that ends on a delimiter, so the following frame is intact:
 * text bytes are never digits, separators or line ends, binary bytes are
 * never 0 until the final delimiter. */
static void put_junk(sim *s, size_t n)
{
    static const char text_junk[] = "GHJKLMOPQRSUVWXZghjklmopqrsuvwxz!?%&@^~";
    uint8_t b[JUNK_MAX];
    if (n > JUNK_MAX - 2)
        n = JUNK_MAX - 2;
    for (size_t i = 0; i < n; i++) {
        if (s->o.proto == CL_WIRE_TEXT) {
            unsigned long k = gsl_rng_uniform_int(s->fault, sizeof text_junk - 1 + 128);
            b[i] = k < sizeof text_junk - 1 ? (uint8_t)text_junk[k]
                                            : (uint8_t)(k - (sizeof text_junk - 1) + 128);
        } else {
            b[i] = (uint8_t)(1 + gsl_rng_uniform_int(s->fault, 255));
        }
    }
    if (s->o.proto == CL_WIRE_TEXT) {
        b[n++] = '\r';
        b[n++] = '\n';
    } else {
        b[n++] = 0;
    }
    put_bytes(s, b, n);
}

/* Bytes a UART produces when the baud rate is wrong: mostly high-bit and
 * framing-error patterns.  Ends on a delimiter. */
static void put_baud_garbage(sim *s)
{
    static const uint8_t pattern[] = {0x00, 0x80, 0xF8, 0xFE, 0xE0, 0x78, 0x1E, 0x86,
                                      0x98, 0x66, 0xFF, 0xC0, 0x9E, 0xE6, 0x18, 0x06};
    size_t n = 48 + gsl_rng_uniform_int(s->fault, 80);
    for (size_t i = 0; i < n; i++) {
        uint8_t b = pattern[gsl_rng_uniform_int(s->fault, sizeof pattern)];
        put_bytes(s, &b, 1);
    }
    if (s->o.proto == CL_WIRE_TEXT)
        put_bytes(s, "\r\n", 2), n += 2;
    else
        put_bytes(s, "", 1), n += 1;
    s->baud_bytes += n;
}

static void put_meta(sim *s, const char *key, const char *value)
{
    char line[512];
    int n = snprintf(line, sizeof line, "# %s: %s\r\n", key, value);
    if (n > 0 && (size_t)n < sizeof line)
        put_bytes(s, line, (size_t)n);
}

/* Sent at every connect: a delimiter, so that the reader does not take the
 * first frame for the tail of an earlier one, then (text protocol) the
 * device's announcement. */
static void put_announcement(sim *s)
{
    char v[MAX_CUPS * 32 + 8];
    if (s->o.proto != CL_WIRE_TEXT) {
        put_bytes(s, "", 1);
        return;
    }
    put_bytes(s, "\r\n", 2);
    put_meta(s, "device", s->device_id);
    put_meta(s, "firmware", PROG " " CUPLAB_VERSION);
    snprintf(v, sizeof v, "%d", s->o.cups);
    put_meta(s, "channels", v);
    snprintf(v, sizeof v, "%.17g", s->o.rate_hz);
    put_meta(s, "rate_hz", v);
    snprintf(v, sizeof v, "%d", s->o.adc_bits);
    put_meta(s, "adc_bits", v);
    v[0] = '\0';
    for (int i = 0; i < s->o.cups; i++) {
        if (i)
            strcat(v, ",");
        strcat(v, s->serial[i]);
    }
    put_meta(s, "sensor_serials", v);
    if (s->o.no_time) {
        put_meta(s, "timestamp", "none");
    } else {
        put_meta(s, "time_units", "ms");
        if (!s->o.labels)
            put_meta(s, "timestamp", "first");
    }
}

/* Text line with labels, Arduino Serial Plotter style:
 * "ms:1234,c1:2890,c2:2901[*XX]\r\n". */
static size_t encode_labelled(const sim *s, int64_t time_ms, const int32_t *raw, char *out,
                              size_t cap)
{
    size_t o = 0;
    int n;
    if (!s->o.no_time) {
        n = snprintf(out, cap, "ms:%" PRId64, time_ms);
        if (n < 0 || (size_t)n >= cap)
            return 0;
        o = (size_t)n;
    }
    for (int i = 0; i < s->o.cups; i++) {
        n = snprintf(out + o, cap - o, "%sc%d:%" PRId32, o ? "," : "", i + 1, raw[i]);
        if (n < 0 || (size_t)n >= cap - o)
            return 0;
        o += (size_t)n;
    }
    if (s->o.checksum) {
        unsigned sum = 0;
        for (size_t i = 0; i < o; i++)
            sum ^= (unsigned char)out[i];
        n = snprintf(out + o, cap - o, "*%02X", sum);
        if (n < 0 || (size_t)n >= cap - o)
            return 0;
        o += (size_t)n;
    }
    if (cap - o < 3)
        return 0;
    memcpy(out + o, "\r\n", 3);
    return o + 2;
}

/* Corrupt an encoded frame so that the decoder must reject it: text gets a
 * letter in place of one digit, binary one changed byte that is not 0. */
static void garble(sim *s, uint8_t *f, size_t n)
{
    if (s->o.proto == CL_WIRE_TEXT) {
        static const char letters[] = "GHJKLMOPQRSUVWXZ";
        size_t digits = 0, body = n;
        for (size_t i = 0; i < n; i++)
            if (f[i] == '*' || f[i] == '\r') {
                body = i;
                break;
            }
        for (size_t i = 0; i < body; i++)
            digits += f[i] >= '0' && f[i] <= '9';
        size_t pick = gsl_rng_uniform_int(s->fault, digits ? digits : 1);
        for (size_t i = 0; i < body; i++)
            if (f[i] >= '0' && f[i] <= '9' && pick-- == 0) {
                f[i] = (uint8_t)letters[gsl_rng_uniform_int(s->fault, sizeof letters - 1)];
                break;
            }
    } else {
        size_t at = gsl_rng_uniform_int(s->fault, n - 1); /* never the delimiter */
        uint8_t b;
        do
            b = f[at] ^ (uint8_t)(1 + gsl_rng_uniform_int(s->fault, 255));
        while (b == 0);
        f[at] = b;
    }
}

/* Encode frame k into the output buffer, with any junk or corruption the
 * --garbage option asks for. */
static int put_frame(sim *s, uint64_t k, int64_t time_us, const int32_t *raw)
{
    uint8_t enc[FRAME_MAX];
    size_t n;
    cl_wire_frame f;

    f.seq = (uint32_t)k;
    f.has_seq = true;
    f.n = (uint16_t)s->o.cups;
    for (int i = 0; i < s->o.cups; i++)
        f.v[i] = raw[i];
    if (s->o.proto == CL_WIRE_BINARY) {
        f.device_time = (double)time_us;
        n = cl_wire_encode_binary(&f, enc, sizeof enc);
    } else {
        int64_t ms = time_us / 1000;
        f.device_time = (double)ms;
        if (s->o.labels)
            n = encode_labelled(s, ms, raw, (char *)enc, sizeof enc);
        else
            n = cl_wire_encode_text(&f, !s->o.no_time, s->o.checksum, (char *)enc, sizeof enc);
    }
    if (n == 0) {
        cl_log(CL_LOG_ERROR, "cannot encode frame %" PRIu64, k);
        return ST_ERROR;
    }
    bool garbled = false;
    if (s->o.garbage_p > 0 && gsl_rng_uniform(s->fault) < s->o.garbage_p) {
        if (gsl_rng_uniform_int(s->fault, 2)) {
            garbled = true;
            garble(s, enc, n);
        } else {
            size_t before = s->out_len;
            put_junk(s, 1 + gsl_rng_uniform_int(s->fault, 24));
            s->junk_bursts++;
            s->junk_bytes += s->out_len - before;
        }
    }
    put_bytes(s, enc, n);
    pending *p = &s->pend[s->npend++];
    p->seq = k;
    p->time_us = time_us;
    p->end = s->out_len;
    p->garbled = garbled;
    memcpy(p->raw, raw, (size_t)s->o.cups * sizeof *raw);
    return ST_OK;
}

/* ---- pacing and streaming ------------------------------------------------------ */

/* Sleep until monotonic time due_s, watching the pty and the stop flag. */
static int wait_until(sim *s, double due_s)
{
    for (;;) {
        if (stop_flag)
            return ST_STOP;
        double rem = due_s - now_s();
        if (rem <= 0)
            return ST_OK;
        if (rem > 0.002) {
            struct pollfd p = {s->master, POLLIN, 0};
            int ms = rem > 0.1 ? 100 : (int)((rem - 0.001) * 1000);
            if (poll(&p, 1, ms) > 0) {
                if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
                    return ST_GONE;
                if (p.revents & POLLIN)
                    drain_input(s);
            }
            continue;
        }
        struct timespec ts;
        ts.tv_sec = (time_t)due_s;
        ts.tv_nsec = (long)((due_s - (double)ts.tv_sec) * 1e9);
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
}

/* Sleep wall_s seconds of wall-clock time unless stopped. */
static int sleep_wall(double wall_s)
{
    double end = now_s() + wall_s;
    while (!stop_flag) {
        double rem = end - now_s();
        if (rem <= 0)
            return ST_OK;
        struct timespec ts = {0, (long)((rem > 0.1 ? 0.1 : rem) * 1e9)};
        nanosleep(&ts, NULL);
    }
    return ST_STOP;
}

/* Unplug: let the reader catch up, close the pty, stay away d->wall_s
 * seconds, come back on a new pty and wait for the reader. */
static int unplug(sim *s, disconnect *d)
{
    /* Data still in the pty's flip buffer is not counted yet, so the queue
     * must stay empty for a while before it is believed. */
    double give_up = now_s() + DRAIN_S, quiet_since = -1;
    long unread;
    for (;;) {
        unread = pty_unread(s);
        double t = now_s();
        if (unread > 0)
            quiet_since = -1;
        else if (quiet_since < 0)
            quiet_since = t;
        if ((quiet_since >= 0 && t - quiet_since >= DRAIN_QUIET_S) || t >= give_up || stop_flag)
            break;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    d->unread_bytes = unread;
    d->done = true;
    cl_log(CL_LOG_INFO, "unplugged at %g s for %g s", d->t_s, d->wall_s);
    link_remove(s);
    pty_close(s);
    int rc = sleep_wall(d->wall_s);
    if (rc != ST_OK)
        return rc;
    if (pty_open(s) != ST_OK)
        return ST_ERROR;
    snprintf(d->path, sizeof d->path, "%s", s->slave);
    if (link_update(s) != ST_OK)
        return ST_ERROR;
    announce_path(s);
    rc = wait_reader(s);
    if (rc != ST_OK)
        return rc;
    d->reconnected = true;
    put_announcement(s);
    return ST_OK;
}

/* Generate every frame of the session and send those that are due. */
static int stream(sim *s)
{
    const options *o = &s->o;
    const double X = o->time_scale;
    int32_t raw[MAX_CUPS];
    size_t next_disc = 0, next_drop = 0;
    disconnect *outage = NULL;
    double outage_end_s = -1, anchor_wall = now_s(), anchor_sim = 0, now = anchor_wall;
    int rc = ST_OK;

    if (o->baud_garbage)
        put_baud_garbage(s);
    put_announcement(s);

    for (uint64_t k = 0; k < s->nframes; k++) {
        double t = (double)k / o->rate_hz;
        int64_t time_us = llround(t * 1e6);

        if (stop_flag)
            return ST_STOP;
        if (next_disc < (size_t)o->ndisc && t >= o->disc[next_disc].t_s) {
            outage = &s->o.disc[next_disc++];
            if ((rc = flush_out(s)) != ST_OK)
                return rc;
            outage->first_seq = k;
            outage_end_s = outage->t_s + outage_sim_s(o, outage->wall_s);
            outage->resume_s = outage_end_s;
            if ((rc = unplug(s, outage)) != ST_OK)
                return rc;
            anchor_wall = now = now_s();
            anchor_sim = outage_end_s;
        }
        /* Values are computed for every frame so the noise stream does not
         * depend on which frames are sent. */
        for (int i = 0; i < o->cups; i++)
            raw[i] = cl_sim_sensor_read(&s->sensor[i], cl_sim_sample_kpa(&s->cup[i], t),
                                        s->cup[i].noise_kpa, s->noise);
        if (t < outage_end_s) {
            outage->lost++;
            s->lost++;
            continue;
        }
        if (next_drop < s->ndrop && s->drop[next_drop] == k) {
            next_drop++;
            s->dropped++;
            if (!vec_push(&s->dropped_seq, k))
                return ST_ERROR;
            continue;
        }
        if (X > 0) {
            double due = anchor_wall + (t - anchor_sim) / X;
            if (due > now + EARLY_S) {
                now = now_s();
                if (due > now + EARLY_S) {
                    if ((rc = flush_out(s)) != ST_OK || (rc = wait_until(s, due)) != ST_OK)
                        return rc;
                    now = now_s();
                }
            }
        }
        if (s->out_len > OUT_CAP || s->npend == PEND_CAP)
            if ((rc = flush_out(s)) != ST_OK)
                return rc;
        if ((rc = put_frame(s, k, time_us, raw)) != ST_OK)
            return rc;
    }
    return flush_out(s);
}

/* After the session: keep the pty open until the reader closes it or
 * --linger seconds pass. */
static void linger(sim *s)
{
    double end = now_s() + s->o.linger_s;
    while (!stop_flag && now_s() < end) {
        struct pollfd p = {s->master, POLLIN, 0};
        int r = poll(&p, 1, 50);
        if (r > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
            return;
        if (r > 0 && (p.revents & POLLIN))
            drain_input(s);
    }
}

/* ---- ground truth -------------------------------------------------------------- */

static json_t *u64_array(const u64vec *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->n; i++)
        json_array_append_new(a, json_integer((json_int_t)v->v[i]));
    return a;
}

static json_t *cup_json(const cl_sim_cup *c, int channel)
{
    json_t *strokes = json_array();
    for (int k = 1; k <= c->pump_strokes; k++)
        json_array_append_new(strokes, json_real(cl_sim_stroke_kpa(c, k)));
    json_t *j = json_pack(
        "{s:i, s:s, s:f, s:i, s:f, s:o, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
        "s:f}",
        "channel", channel, "technique", cl_sim_technique_name(c->technique), "t_apply_s",
        c->t_apply_s, "pump_strokes", c->pump_strokes, "stroke_interval_s",
        c->stroke_interval_s, "stroke_kpa", strokes, "peak_kpa", c->peak_kpa, "peak_mmhg",
        c->peak_kpa / CL_SIM_KPA_PER_MMHG, "fire_initial_kpa", c->fire_initial_kpa,
        "cool_tau_s", c->cool_tau_s, "hold_start_s", cl_sim_hold_start(c), "hold_s", c->hold_s,
        "release_start_s", cl_sim_release_start(c), "release_end_s", cl_sim_release_end(c),
        "release_s", c->release_s, "tau_s", c->tau_s, "p_inf_kpa", c->p_inf_kpa);
    if (!j)
        return NULL;
    json_object_set_new(j, "p_hold_start_kpa",
                        json_real(cl_sim_pressure_kpa(c, cl_sim_hold_start(c))));
    json_object_set_new(j, "p_release_start_kpa",
                        json_real(cl_sim_pressure_kpa(c, cl_sim_release_start(c))));
    json_object_set_new(j, "noise_kpa", json_real(c->noise_kpa));
    json_object_set_new(j, "breath_kpa", json_real(c->breath_kpa));
    json_object_set_new(j, "breath_hz", json_real(c->breath_hz));
    json_object_set_new(j, "breath_phase_rad", json_real(c->breath_phase_rad));
    json_object_set_new(j, "pulse_kpa", json_real(c->pulse_kpa));
    json_object_set_new(j, "pulse_hz", json_real(c->pulse_hz));
    json_object_set_new(j, "pulse_phase_rad", json_real(c->pulse_phase_rad));
    return j;
}

static int write_truth(sim *s)
{
    const options *o = &s->o;
    if (!s->truthf)
        return 0;
    json_t *root = json_object(), *cups = json_array(), *sensors = json_array(),
           *discs = json_array();
    for (int i = 0; i < o->cups; i++) {
        json_array_append_new(cups, cup_json(&s->cup[i], i + 1));
        json_array_append_new(
            sensors, json_pack("{s:i, s:s, s:f, s:f, s:i, s:i, s:f}", "channel", i + 1,
                               "serial", s->serial[i], "gain", s->sensor[i].gain, "offset",
                               s->sensor[i].offset, "adc_bits", s->sensor[i].adc_bits,
                               "adc_max", (int)cl_sim_sensor_max(&s->sensor[i]),
                               "sensitivity_per_kpa", CL_SIM_SENSITIVITY_PER_KPA));
    }
    for (int i = 0; i < o->ndisc; i++) {
        const disconnect *d = &o->disc[i];
        json_array_append_new(
            discs,
            json_pack("{s:f, s:f, s:f, s:f, s:b, s:b, s:I, s:I, s:I, s:s}", "t_start_s", d->t_s,
                      "t_end_s", d->resume_s, "sim_s", outage_sim_s(o, d->wall_s), "wall_s",
                      d->wall_s, "performed", d->done, "reconnected", d->reconnected,
                      "first_seq", (json_int_t)d->first_seq, "frames_lost", (json_int_t)d->lost,
                      "unread_bytes_at_close", (json_int_t)d->unread_bytes, "path", d->path));
    }
    json_object_set_new(root, "generator", json_string(PROG " " CUPLAB_VERSION));
    json_object_set_new(root, "status", json_string(s->status));
    json_object_set_new(root, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(root, "device_id", json_string(s->device_id));
    json_object_set_new(root, "protocol", json_string(cl_wire_protocol_name(o->proto)));
    json_object_set_new(root, "time_units",
                        json_string(o->proto == CL_WIRE_BINARY ? "us"
                                    : o->no_time               ? "none"
                                                               : "ms"));
    json_object_set_new(root, "checksum", json_boolean(o->checksum));
    json_object_set_new(root, "labels", json_boolean(o->labels));
    json_object_set_new(root, "with_time", json_boolean(!o->no_time));
    json_object_set_new(root, "rate_hz", json_real(o->rate_hz));
    json_object_set_new(root, "duration_s", json_real(o->duration_s));
    json_object_set_new(root, "time_scale", json_real(o->time_scale));
    json_object_set_new(
        root, "technique",
        json_string(o->technique ? cl_sim_technique_name(o->technique) : "mixed"));
    json_object_set_new(root, "start_s", json_real(o->start_s));
    json_object_set_new(root, "channels", json_integer(o->cups));
    json_object_set_new(root, "adc_bits", json_integer(o->adc_bits));
    json_object_set_new(root, "garbage_probability", json_real(o->garbage_p));
    json_object_set_new(root, "baud_garbage", json_boolean(o->baud_garbage));
    json_object_set_new(root, "cups", cups);
    json_object_set_new(root, "sensors", sensors);
    json_object_set_new(root, "frames_total", json_integer((json_int_t)s->nframes));
    json_object_set_new(root, "frames_sent", json_integer((json_int_t)s->sent));
    json_object_set_new(root, "frames_dropped", json_integer((json_int_t)s->dropped));
    json_object_set_new(root, "frames_garbled", json_integer((json_int_t)s->garbled));
    json_object_set_new(root, "frames_lost_disconnect", json_integer((json_int_t)s->lost));
    json_object_set_new(root, "junk_bursts", json_integer((json_int_t)s->junk_bursts));
    json_object_set_new(root, "junk_bytes", json_integer((json_int_t)s->junk_bytes));
    json_object_set_new(root, "baud_garbage_bytes", json_integer((json_int_t)s->baud_bytes));
    json_object_set_new(root, "bytes_written", json_integer((json_int_t)s->bytes_written));
    json_object_set_new(root, "dropped_seq", u64_array(&s->dropped_seq));
    json_object_set_new(root, "garbled_seq", u64_array(&s->garbled_seq));
    json_object_set_new(root, "disconnects", discs);
    json_object_set_new(root, "pty_paths", json_incref(s->paths));

    int rc = json_dumpf(root, s->truthf,
                        JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (rc == 0)
        rc = fputc('\n', s->truthf) == EOF ? -1 : 0;
    if (fclose(s->truthf) != 0)
        rc = -1;
    s->truthf = NULL;
    if (rc < 0)
        cl_log(CL_LOG_ERROR, "cannot write %s: %s", s->o.truth, strerror(errno));
    return rc;
}

/* ---- main ---------------------------------------------------------------------- */

static int open_files(sim *s)
{
    if (s->o.log) {
        s->logf = fopen(s->o.log, "w");
        if (!s->logf) {
            cl_log(CL_LOG_ERROR, "cannot create %s: %s", s->o.log, strerror(errno));
            return -1;
        }
        fprintf(s->logf, "seq,device_time_us");
        for (int i = 0; i < s->o.cups; i++)
            fprintf(s->logf, ",c%d", i + 1);
        fputc('\n', s->logf);
    }
    if (s->o.truth) {
        s->truthf = fopen(s->o.truth, "w");
        if (!s->truthf) {
            cl_log(CL_LOG_ERROR, "cannot create %s: %s", s->o.truth, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int finish_files(sim *s)
{
    int rc = 0;
    if (s->logf) {
        if (fclose(s->logf) != 0) {
            cl_log(CL_LOG_ERROR, "cannot write %s: %s", s->o.log, strerror(errno));
            rc = -1;
        }
        s->logf = NULL;
    }
    if (write_truth(s) < 0)
        rc = -1;
    return rc;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

int main(int argc, char **argv)
{
    static sim s;
    int rc, exit_code = 0;

    cl_log_set_prefix(PROG);
    rc = parse_options(argc, argv, &s.o);
    if (rc >= 0)
        return rc;
    install_signals();
    s.master = -1;
    s.status = "error";
    s.paths = json_array();
    s.model = gsl_rng_alloc(gsl_rng_mt19937);
    s.noise = gsl_rng_alloc(gsl_rng_mt19937);
    s.fault = gsl_rng_alloc(gsl_rng_mt19937);
    if (!s.paths || !s.model || !s.noise || !s.fault) {
        cl_log(CL_LOG_ERROR, "out of memory");
        exit_code = EXIT_RUNTIME;
        goto out;
    }
    gsl_rng_set(s.model, derive_seed(s.o.seed, 1));
    gsl_rng_set(s.noise, derive_seed(s.o.seed, 2));
    gsl_rng_set(s.fault, derive_seed(s.o.seed, 3));
    make_session(&s);
    if ((exit_code = choose_drops(&s)) != 0)
        goto out;
    if (open_files(&s) < 0) {
        exit_code = EXIT_RUNTIME;
        goto out;
    }

    rc = pty_open(&s);
    if (rc == ST_OK)
        rc = link_update(&s);
    if (rc == ST_OK) {
        announce_path(&s);
        rc = wait_reader(&s);
    }
    if (rc == ST_OK)
        rc = stream(&s);
    switch (rc) {
    case ST_OK:
        s.status = "complete";
        break;
    case ST_STOP:
        s.status = "interrupted";
        break;
    case ST_GONE:
        s.status = "reader_closed";
        break;
    case ST_NO_READER:
        s.status = "no_reader";
        exit_code = EXIT_NO_READER;
        break;
    default:
        s.status = "error";
        exit_code = EXIT_RUNTIME;
        break;
    }
    if (rc == ST_GONE)
        cl_log(CL_LOG_INFO, "reader closed %s", s.slave);
    if (finish_files(&s) < 0 && exit_code == 0)
        exit_code = EXIT_RUNTIME;
    if (rc == ST_OK && s.master >= 0)
        linger(&s);
    cl_log(CL_LOG_INFO,
           "%s: %" PRIu64 " frames sent, %" PRIu64 " dropped, %" PRIu64 " garbled, %" PRIu64
           " lost while unplugged",
           s.status, s.sent, s.dropped, s.garbled, s.lost);
    link_remove(&s);
    pty_close(&s);
out:
    if (s.logf)
        fclose(s.logf);
    if (s.truthf)
        fclose(s.truthf);
    gsl_rng_free(s.model);
    gsl_rng_free(s.noise);
    gsl_rng_free(s.fault);
    json_decref(s.paths);
    free(s.drop);
    free(s.dropped_seq.v);
    free(s.garbled_seq.v);
    return exit_code;
}
