/*
 * libFuzzer target for the session reader (built and run by fuzz/fuzz.mk).
 *
 * The input is written to a scratch file and opened with cl_session_open();
 * a file that opens is read through: every root attribute, device, channel,
 * time column, sequence, counters, clock, cup, event and stored profile, and
 * a refresh.  Invariants: a refused file comes with a message naming it; an
 * opened one has 1..32 channels per device and a host_time that is finite
 * and non-decreasing, and reads succeed or fail with a message.
 *
 * Built with -DCL_FUZZ_SEEDS instead, the file is a small program that
 * writes seed sessions (a complete one and one whose writer died, with a
 * stored profile): `fuzz_session_seeds CORPUS_DIR`.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl_session_read.h"
#include "cl_session_write.h"
#include "fuzz_file.h"

/* Rows read per device at most, so that one input stays fast. */
#define MAX_READ_ROWS 4096

static void check_err(const cl_error *e)
{
    FUZZ_CHECK(e->code < 0 && e->msg[0] != '\0');
}

static void read_device(cl_session_reader *r, size_t d)
{
    const cl_session_device *info = cl_session_device_info(r, d);
    size_t rows = cl_session_rows(r, d), n = rows < MAX_READ_ROWS ? rows : MAX_READ_ROWS;
    double *buf = malloc((n ? n : 1) * sizeof *buf);
    uint32_t *seq = malloc((n ? n : 1) * sizeof *seq);
    cl_session_counters c;
    cl_session_clock k;
    cl_error e;

    FUZZ_CHECK(info && buf && seq);
    FUZZ_CHECK(info->channels >= 1 && info->channels <= 32);
    FUZZ_CHECK(info->port && info->protocol && info->time_units);
    for (size_t ch = 0; ch <= info->channels; ch++) { /* one past the last: an error */
        int rc = cl_session_read_channel(r, d, ch, rows - n, n, buf, &e);
        if (ch == info->channels)
            FUZZ_CHECK(rc != 0);
        if (rc != 0)
            check_err(&e);
    }
    if (cl_session_read_host_time(r, d, 0, n, buf, &e) != 0)
        check_err(&e);
    else
        for (size_t i = 0; i < n; i++) /* what the reader checks at open */
            FUZZ_CHECK(isfinite(buf[i]) && (i == 0 || buf[i] >= buf[i - 1]));
    if (cl_session_read_device_time(r, d, 0, n, buf, &e) != 0)
        check_err(&e);
    if (cl_session_read_seq(r, d, 0, n, seq, &e) != 0)
        check_err(&e);
    FUZZ_CHECK(cl_session_read_seq(r, d, rows, 1, seq, &e) != 0); /* past the end */
    if (cl_session_counters_get(r, d, &c, &e) != 0)
        check_err(&e);
    if (cl_session_clock_get(r, d, &k, &e) != 0)
        check_err(&e);
    free(seq);
    free(buf);
}

static void read_all(cl_session_reader *r)
{
    static const char *const attrs[] = {"format", "format_version", "software_version",
                                        "created_utc", "session_uuid", "practitioner",
                                        "subject", "technique", "site", "notes", "status",
                                        "ended_utc", "recovered_utc", "no such attribute"};
    size_t ndev = cl_session_device_count(r);
    cl_error e;

    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        FUZZ_CHECK(cl_session_attr(r, attrs[i]) != NULL);
    (void)cl_session_reader_status(r);
    FUZZ_CHECK(cl_session_damage(r) != NULL);
    for (size_t d = 0; d < ndev; d++)
        read_device(r, d);
    FUZZ_CHECK(cl_session_device_info(r, ndev) == NULL);
    for (size_t i = 0; i < cl_session_cup_count(r); i++) {
        const cl_session_cup *c = cl_session_cup_info(r, i);
        FUZZ_CHECK(c && c->cup_id && c->sensor_serial); /* device/channel: checked by users */
    }
    for (size_t i = 0; i < cl_session_event_count(r) && i < MAX_READ_ROWS; i++) {
        cl_session_event ev;
        if (cl_session_event_get(r, i, &ev, &e) != 0)
            check_err(&e);
        else
            FUZZ_CHECK(ev.text && strlen(ev.text) < CL_SESSION_EVENT_TEXT);
    }
    for (size_t i = 0; i < cl_session_profile_count(r); i++)
        (void)cl_session_profile(r, i); /* may be NULL for a NULL vlen string */
    if (cl_session_refresh(r, &e) != 0)
        check_err(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file_write("session.h5", data, size);
    cl_session_reader *r = NULL;
    cl_error e;
    if (cl_session_open(&r, path, &e) != 0) {
        check_err(&e);
        FUZZ_CHECK(strstr(e.msg, path) != NULL);
        FUZZ_CHECK(r == NULL);
        return 0;
    }
    read_all(r);
    cl_session_reader_close(r);
    return 0;
}

#ifdef CL_FUZZ_SEEDS
/* ---- seed corpus ------------------------------------------------------------ */

static void seed(const char *dir, const char *name, int complete)
{
    static const char profile[] =
        "{\"format\": \"cuplab-profile\", \"version\": 1, \"kind\": \"sensor\", "
        "\"sensor\": {\"serial\": \"S1\"}, \"transfer\": {\"coefficients\": [-120, 0.032], "
        "\"raw_min\": 1000, \"raw_max\": 3800}}";
    const char *const profiles[] = {profile};
    cl_session_meta meta = {.practitioner = "A", .technique = "dry", .profiles = profiles,
                            .nprofiles = 1};
    cl_session_device dev = {.port = "/dev/fuzz", .protocol = "binary", .baud = 115200,
                             .channels = 2, .time_units = "us", .usb_vendor_id = -1,
                             .usb_product_id = -1};
    cl_session_cup cups[] = {{.cup_id = "C1", .device = 0, .channel = 0, .sensor_serial = "S1"},
                             {.cup_id = "C2", .device = 0, .channel = 1}};
    cl_session_options opts = {.force = true, .chunk_rows = 8,
                               .uuid = "00000000-0000-4000-8000-000000000000",
                               .created_utc = "2026-01-01T00:00:00Z"};
    cl_session_event ev = {0.5, 0, CL_EVENT_APPLIED, "applied"};
    double samples[2 * 20], dt[20], ht[20];
    uint32_t sq[20];
    char path[4096];
    cl_session *s;
    cl_error e;

    for (int i = 0; i < 20; i++) {
        samples[2 * i] = 2000 + i;
        samples[2 * i + 1] = 3000 - i;
        dt[i] = 1000.0 * i;
        ht[i] = 0.001 * i;
        sq[i] = (uint32_t)i;
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (cl_session_create(&s, path, &meta, &dev, 1, cups, 2, &opts, &e) != 0 ||
        cl_session_append(s, 0, 20, samples, dt, ht, sq, &e) != 0 ||
        cl_session_add_event(s, &ev, &e) != 0 || cl_session_flush(s, &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    if (!complete) {
        cl_session_abandon(s);
        return;
    }
    if (cl_session_close_at(s, CL_SESSION_COMPLETE, "2026-01-01T00:01:00Z", &e) != 0) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    seed(argv[1], "complete.h5", 1);
    seed(argv[1], "crashed.h5", 0);
    return 0;
}
#endif
