/*
 * cl_schema: what the session modules share about the file's layout
 * (cl_schema.h says what).  docs/session-format.md is the specification.
 */
#include "cl_schema.h"
#include "cl_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *const cl_schema_series_name[CL_SCHEMA_NSERIES] = {"samples", "device_time",
                                                              "host_time", "sequence"};

/* A field of a compound whose members all have one 8-byte type. */
typedef struct flat_field {
    const char *name;
    size_t off; /* offset in the C struct */
} flat_field;

static const flat_field counter_field[] = {
    {"bytes", offsetof(cl_session_counters, bytes)},
    {"frames", offsetof(cl_session_counters, frames)},
    {"malformed", offsetof(cl_session_counters, malformed)},
    {"checksum_errors", offsetof(cl_session_counters, checksum_errors)},
    {"seq_gaps", offsetof(cl_session_counters, seq_gaps)},
    {"lost_frames", offsetof(cl_session_counters, lost_frames)},
    {"skipped_bytes", offsetof(cl_session_counters, skipped_bytes)},
    {"reconnects", offsetof(cl_session_counters, reconnects)},
    {"overruns", offsetof(cl_session_counters, overruns)},
};
#define NCOUNTERS (sizeof counter_field / sizeof counter_field[0])

/* Fields of /devices/devN/clock, all float64. */
static const flat_field clock_field[] = {
    {"offset_s", offsetof(cl_session_clock, offset_s)},
    {"slope", offsetof(cl_session_clock, slope)},
    {"drift_ppm", offsetof(cl_session_clock, drift_ppm)},
    {"offset_se_s", offsetof(cl_session_clock, offset_se_s)},
    {"slope_se", offsetof(cl_session_clock, slope_se)},
    {"residual_sd_s", offsetof(cl_session_clock, residual_sd_s)},
    {"points", offsetof(cl_session_clock, points)},
    {"ref_device_s", offsetof(cl_session_clock, ref_device_s)},
};
#define NCLOCK (sizeof clock_field / sizeof clock_field[0])

/* Event kind enum over `base`; `le` inserts values as little-endian bytes
 * (for the file type over H5T_STD_I32LE), otherwise as native int32. */
static hid_t kind_type(hid_t base, int le)
{
    hid_t t = H5Tenum_create(base);
    const char *name;
    for (int32_t v = 0; t >= 0 && (name = cl_event_kind_name((cl_event_kind)v)); v++) {
        unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                              (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
        if (H5Tenum_insert(t, name, le ? (const void *)b : (const void *)&v) < 0)
            cl_h5_close(&t);
    }
    return t;
}

hid_t cl_schema_event_type(int file)
{
    hid_t t = H5I_INVALID_HID, kind = H5I_INVALID_HID, text = H5I_INVALID_HID;
    kind = file ? kind_type(H5T_STD_I32LE, 1) : kind_type(H5T_NATIVE_INT32, 0);
    text = cl_h5_str_fixed(CL_SESSION_EVENT_TEXT);
    if (kind < 0 || text < 0)
        goto done;
    t = H5Tcreate(H5T_COMPOUND, sizeof(cl_schema_event_rec));
    if (t < 0 ||
        H5Tinsert(t, "t", offsetof(cl_schema_event_rec, t),
                  file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE) < 0 ||
        H5Tinsert(t, "cup", offsetof(cl_schema_event_rec, cup),
                  file ? H5T_STD_I32LE : H5T_NATIVE_INT32) < 0 ||
        H5Tinsert(t, "kind", offsetof(cl_schema_event_rec, kind), kind) < 0 ||
        H5Tinsert(t, "text", offsetof(cl_schema_event_rec, text), text) < 0)
        cl_h5_close(&t);
done:
    cl_h5_close(&kind);
    cl_h5_close(&text);
    return t;
}

/* Compound of `n` 8-byte members: packed in the file (`ftype` each), the C
 * struct's layout (`struct_size`, `mtype`) in memory. */
static hid_t flat_type(const flat_field *f, size_t n, size_t struct_size, hid_t ftype,
                       hid_t mtype, int file)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, file ? n * 8 : struct_size);
    for (size_t i = 0; t >= 0 && i < n; i++)
        if (H5Tinsert(t, f[i].name, file ? i * 8 : f[i].off, file ? ftype : mtype) < 0)
            cl_h5_close(&t);
    return t;
}

hid_t cl_schema_counters_type(int file)
{
    return flat_type(counter_field, NCOUNTERS, sizeof(cl_session_counters), H5T_STD_U64LE,
                     H5T_NATIVE_UINT64, file);
}

hid_t cl_schema_clock_type(int file)
{
    return flat_type(clock_field, NCLOCK, sizeof(cl_session_clock), H5T_IEEE_F64LE,
                     H5T_NATIVE_DOUBLE, file);
}

hid_t cl_schema_cup_type(int file)
{
    static const char *const sname[] = {"cup_id",   "cup_set", "size",
                                        "material", "site",    "sensor_serial"};
    static const size_t soff[] = {
        offsetof(cl_schema_cup_rec, cup_id), offsetof(cl_schema_cup_rec, cup_set),
        offsetof(cl_schema_cup_rec, size),   offsetof(cl_schema_cup_rec, material),
        offsetof(cl_schema_cup_rec, site),   offsetof(cl_schema_cup_rec, sensor_serial)};
    hid_t t = H5I_INVALID_HID, str = cl_h5_str_vlen();
    if (str < 0)
        return H5I_INVALID_HID;
    size_t ssz = H5Tget_size(str);
    hid_t u16 = file ? H5T_STD_U16LE : H5T_NATIVE_UINT16;
    t = H5Tcreate(H5T_COMPOUND, file ? 6 * ssz + 4 : sizeof(cl_schema_cup_rec));
    if (t < 0)
        goto done;
    /* File order: cup_id, device, channel, then the other strings. */
    size_t o = 0;
    if (H5Tinsert(t, sname[0], file ? o : soff[0], str) < 0)
        goto fail;
    o += ssz;
    if (H5Tinsert(t, "device", file ? o : offsetof(cl_schema_cup_rec, device), u16) < 0 ||
        H5Tinsert(t, "channel", file ? o + 2 : offsetof(cl_schema_cup_rec, channel), u16) < 0)
        goto fail;
    o += 4;
    for (size_t i = 1; i < 6; i++, o += ssz)
        if (H5Tinsert(t, sname[i], file ? o : soff[i], str) < 0)
            goto fail;
    goto done;
fail:
    cl_h5_close(&t);
done:
    cl_h5_close(&str);
    return t;
}

void cl_schema_utc_now(char buf[CL_SCHEMA_UTC_BYTES])
{
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(buf, CL_SCHEMA_UTC_BYTES, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        buf[0] = '\0';
}

bool cl_schema_valid_utc(const char *t)
{
    unsigned y, mo, d, h, mi, se;
    char z;
    int used = 0;
    return t && strlen(t) == 20 &&
           sscanf(t, "%4u-%2u-%2uT%2u:%2u:%2u%c%n", &y, &mo, &d, &h, &mi, &se, &z, &used) ==
               7 &&
           used == 20 && z == 'Z' && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 &&
           mi < 60 && se < 61;
}

int cl_schema_write_final(const char *path, hid_t fapl, bool grow_eoa, const char *status,
                          const char *ended_utc, const char *recovered_utc, cl_error *err)
{
    hid_t f;
    int rc = CL_OK;
    errno = 0;
    if ((f = H5Fopen(path, H5F_ACC_RDWR, fapl)) < 0) {
        return cl_h5_fail(err, path, "cannot reopen to write the final status");
    }
    if (grow_eoa && H5Fincrement_filesize(f, 0) < 0) {
        rc = cl_h5_fail(err, path, "cannot keep the end of allocation");
        goto done;
    }
    errno = 0;
    if ((status && (cl_h5_put_fixed(f, "status", CL_SCHEMA_STATUS_BYTES, status) < 0 ||
                    cl_h5_put_fixed(f, "ended_utc", CL_SCHEMA_UTC_BYTES, ended_utc) < 0)) ||
        (recovered_utc &&
         cl_h5_put_fixed(f, "recovered_utc", CL_SCHEMA_UTC_BYTES, recovered_utc) < 0)) {
        rc = cl_h5_fail(err, path, "cannot write the final status");
        goto done;
    }
done:
    errno = 0;
    if (H5Fclose(f) < 0 && rc == CL_OK)
        rc = cl_h5_fail(err, path, "cannot close after writing the final status");
    if (rc == CL_OK) {
        int e = cl_replace_sync(path, O_RDONLY);
        if (e)
            rc = cl_h5_os_fail(err, e, path, "cannot sync to disk");
    }
    return rc;
}
