/*
 * cl_h5: HDF5 helpers of the session modules (cl_session_write,
 * cl_session_read, cl_session_recover, cl_session_results, cl_schema):
 * closing ids, folding HDF5's error stack into cl_error, creation property
 * lists without object times, UTF-8 string types and scalar attributes.
 * Not an API of the session format: the layout is cl_schema's.
 *
 * HDF5's automatic error printing is switched off on every entry of a
 * session function (cl_h5_quiet(); the setting is per thread); HDF5's own
 * message is folded into cl_error by cl_h5_fail().
 */
#include "cl_h5.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cl_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void cl_h5_close(hid_t *id)
{
    if (*id >= 0) {
        switch (H5Iget_type(*id)) {
        case H5I_FILE:
            H5Fclose(*id);
            break;
        case H5I_GROUP:
            H5Gclose(*id);
            break;
        case H5I_DATASET:
            H5Dclose(*id);
            break;
        case H5I_DATASPACE:
            H5Sclose(*id);
            break;
        case H5I_DATATYPE:
            H5Tclose(*id);
            break;
        case H5I_ATTR:
            H5Aclose(*id);
            break;
        case H5I_GENPROP_LST:
            H5Pclose(*id);
            break;
        default:
            break;
        }
    }
    *id = H5I_INVALID_HID;
}

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    cl_h5_detail *d = data;
    (void)n;
    if (!e->desc || !e->desc[0])
        return 0;
    /* Walking downward, the last entry is the innermost, most specific one. */
    const char *msg = e->desc;
    const char *en = strstr(msg, "errno = ");
    if (en)
        d->errnum = atoi(en + 8);
    /* OS errors: keep only the strerror part HDF5 quotes. */
    const char *em = strstr(msg, "error message = '");
    size_t len = strlen(msg);
    if (em) {
        msg = em + 17;
        const char *q = strchr(msg, '\'');
        len = q ? (size_t)(q - msg) : strlen(msg);
    }
    if (len >= sizeof d->text)
        len = sizeof d->text - 1;
    for (size_t i = 0; i < len; i++)
        d->text[i] = (msg[i] == '\n' || msg[i] == '\r') ? ' ' : msg[i];
    d->text[len] = '\0';
    return 0;
}

void cl_h5_take(cl_h5_detail *d)
{
    d->text[0] = '\0';
    d->errnum = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_cb, d);
    H5Eclear2(H5E_DEFAULT);
}

int cl_h5_fail(cl_error *err, const char *path, const char *what)
{
    int saved = errno;
    cl_h5_detail d;
    cl_h5_take(&d);
    const char *detail = d.text[0] ? d.text : "no detail";
    if (d.errnum == ENOSPC || d.errnum == EDQUOT || saved == ENOSPC || saved == EDQUOT)
        return cl_error_set(err, CL_ERR_NOSPACE, "%s: %s: disk full (%s)", path, what,
                            d.text[0] ? d.text : strerror(ENOSPC));
    if (d.errnum == EFBIG || saved == EFBIG) /* file-size limit: no room either */
        return cl_error_set(err, CL_ERR_NOSPACE, "%s: %s: file size limit reached (%s)", path,
                            what, d.text[0] ? d.text : strerror(EFBIG));
    if (d.errnum == EAGAIN || d.errnum == EWOULDBLOCK)
        return cl_error_set(err, CL_ERR_BUSY,
                            "%s: %s: the file is in use by another program (%s)", path, what,
                            detail);
    if (d.errnum && cl_error_from_errno(d.errnum) != CL_ERR_IO)
        return cl_error_set(err, cl_error_from_errno(d.errnum), "%s: %s: %s", path, what,
                            detail);
    return cl_error_set(err, CL_ERR_HDF5, "%s: %s (HDF5: %s)", path, what, detail);
}

int cl_h5_os_fail(cl_error *err, int errnum, const char *path, const char *what)
{
    return cl_error_set(err, cl_error_from_errno(errnum), "%s: %s: %s", path, what,
                        strerror(errnum));
}

hid_t cl_h5_untimed(hid_t cls)
{
    hid_t p = H5Pcreate(cls);
    if (p >= 0 && H5Pset_obj_track_times(p, false) < 0)
        cl_h5_close(&p);
    return p;
}

hid_t cl_h5_group(hid_t loc, const char *name)
{
    hid_t gcpl = cl_h5_untimed(H5P_GROUP_CREATE);
    hid_t g =
        gcpl >= 0 ? H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT) : H5I_INVALID_HID;
    cl_h5_close(&gcpl);
    return g;
}

/* Length of the valid UTF-8 sequence starting at p (at most `avail` bytes),
 * 0 if p does not start one. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

size_t cl_h5_utf8_copy(char *dst, size_t cap, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p), o = 0;
    while (left > 0) {
        size_t n = utf8_len(p, left);
        size_t w = n ? n : 1;
        if (o + w >= cap)
            break;
        if (n)
            memcpy(dst + o, p, n);
        else
            dst[o] = '?';
        o += w;
        p += w;
        left -= w;
    }
    dst[o] = '\0';
    return o;
}

char *cl_h5_utf8_dup(const char *s)
{
    size_t cap = (s ? strlen(s) : 0) + 1;
    char *d = malloc(cap);
    if (d)
        cl_h5_utf8_copy(d, cap, s);
    return d;
}

hid_t cl_h5_str_vlen(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0))
        cl_h5_close(&t);
    return t;
}

hid_t cl_h5_str_fixed(size_t n)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, n) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
                   H5Tset_cset(t, H5T_CSET_UTF8) < 0))
        cl_h5_close(&t);
    return t;
}

int cl_h5_put_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5I_INVALID_HID, sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    int rc = -1;
    char *clean = cl_h5_utf8_dup(value);
    if (!clean)
        return -1;
    const char *p = clean;
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0 || (ex > 0 && H5Adelete(obj, name) < 0))
        goto done;
    if ((t = cl_h5_str_vlen()) < 0 || (sp = H5Screate(H5S_SCALAR)) < 0 ||
        (a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, t, &p) < 0)
        goto done;
    rc = 0;
done:
    cl_h5_close(&a);
    cl_h5_close(&sp);
    cl_h5_close(&t);
    free(clean);
    return rc;
}

int cl_h5_put_fixed(hid_t obj, const char *name, size_t size, const char *value)
{
    hid_t t = H5I_INVALID_HID, sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    int rc = -1;
    char *buf = calloc(size, 1);
    if (!buf)
        return -1;
    cl_h5_utf8_copy(buf, size, value);
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0 || (t = cl_h5_str_fixed(size)) < 0)
        goto done;
    if (ex > 0)
        a = H5Aopen(obj, name, H5P_DEFAULT);
    else if ((sp = H5Screate(H5S_SCALAR)) >= 0)
        a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, buf) < 0)
        goto done;
    rc = 0;
done:
    cl_h5_close(&a);
    cl_h5_close(&sp);
    cl_h5_close(&t);
    free(buf);
    return rc;
}

int cl_h5_put_strs(hid_t obj, const char *name, const char *const *values, size_t n)
{
    hsize_t dim = n;
    hid_t t = H5I_INVALID_HID, sp = H5I_INVALID_HID, a = H5I_INVALID_HID;
    int rc = -1;
    char **clean = calloc(n, sizeof *clean);
    if (!clean)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(clean[i] = cl_h5_utf8_dup(values[i])))
            goto done;
    if ((t = cl_h5_str_vlen()) >= 0 && (sp = H5Screate_simple(1, &dim, NULL)) >= 0 &&
        (a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
        H5Awrite(a, t, clean) >= 0)
        rc = 0;
done:
    cl_h5_close(&a);
    cl_h5_close(&sp);
    cl_h5_close(&t);
    for (size_t i = 0; i < n; i++)
        free(clean[i]);
    free(clean);
    return rc;
}

/* A scalar attribute of file type ftype from *value in memory type mtype. */
static int put_scalar(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *value)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    int rc = -1;
    if (sp >= 0 && (a = H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
        H5Awrite(a, mtype, value) >= 0)
        rc = 0;
    cl_h5_close(&a);
    cl_h5_close(&sp);
    return rc;
}

int cl_h5_put_double(hid_t obj, const char *name, double value)
{
    return put_scalar(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

int cl_h5_put_int(hid_t obj, const char *name, int value)
{
    int32_t v = value;
    return put_scalar(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
}

int cl_h5_get_text(hid_t obj, const char *name, char **out)
{
    hid_t a = H5I_INVALID_HID, ft = H5I_INVALID_HID, mt = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    int rc = -1;
    *out = NULL;
    htri_t ex = H5Aexists(obj, name);
    if (ex <= 0)
        return ex == 0 ? 0 : -1;
    if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0 || (ft = H5Aget_type(a)) < 0 ||
        (sp = H5Aget_space(a)) < 0 || H5Sget_simple_extent_npoints(sp) != 1)
        goto done;
    H5T_class_t cls = H5Tget_class(ft);
    if (cls == H5T_STRING && H5Tis_variable_str(ft) > 0) {
        char *v = NULL; /* read in the attribute's own character set */
        if ((mt = H5Tcopy(ft)) < 0 || H5Aread(a, mt, &v) < 0)
            goto done;
        *out = strdup(v ? v : "");
        H5free_memory(v);
    } else if (cls == H5T_STRING) {
        size_t n = H5Tget_size(ft);
        char *buf = calloc(n + 1, 1);
        if (!buf || (mt = H5Tcopy(ft)) < 0 || H5Aread(a, mt, buf) < 0) {
            free(buf);
            goto done;
        }
        if (H5Tget_strpad(ft) == H5T_STR_SPACEPAD)
            while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\0'))
                buf[--n] = '\0';
        *out = buf;
    } else if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
        char num[64];
        if (cls == H5T_INTEGER) {
            long long v;
            if (H5Aread(a, H5T_NATIVE_LLONG, &v) < 0)
                goto done;
            snprintf(num, sizeof num, "%lld", v);
        } else {
            double v;
            if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0)
                goto done;
            snprintf(num, sizeof num, "%.17g", v);
        }
        *out = strdup(num);
    } else
        goto done;
    rc = *out ? 0 : -1;
done:
    cl_h5_close(&mt);
    cl_h5_close(&sp);
    cl_h5_close(&ft);
    cl_h5_close(&a);
    return rc;
}

int cl_h5_get_int(hid_t obj, const char *name, long long *v, bool *found)
{
    hid_t a = H5I_INVALID_HID, ft = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    int rc = -1;
    *found = false;
    htri_t ex = H5Aexists(obj, name);
    if (ex <= 0)
        return ex == 0 ? 0 : -1;
    if ((a = H5Aopen(obj, name, H5P_DEFAULT)) >= 0 && (ft = H5Aget_type(a)) >= 0 &&
        (sp = H5Aget_space(a)) >= 0 && H5Tget_class(ft) == H5T_INTEGER &&
        H5Sget_simple_extent_npoints(sp) == 1 && H5Aread(a, H5T_NATIVE_LLONG, v) >= 0) {
        *found = true;
        rc = 0;
    }
    cl_h5_close(&sp);
    cl_h5_close(&ft);
    cl_h5_close(&a);
    return rc;
}

size_t cl_h5_rows(hid_t ds, hsize_t *cols)
{
    hsize_t dims[2] = {0, 0};
    hid_t sp = H5Dget_space(ds);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (rank < 1 || rank > 2 || H5Sget_simple_extent_dims(sp, dims, NULL) < 0)
        rank = -1;
    cl_h5_close(&sp);
    if (rank < 0)
        return (size_t)-1;
    if (cols)
        *cols = rank == 2 ? dims[1] : 0;
    return (size_t)dims[0];
}

hid_t cl_h5_open_checked(hid_t loc, const char *name, bool probe, bool *exists)
{
    hid_t ds = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    hsize_t nchunks;
    htri_t ex = H5Lexists(loc, name, H5P_DEFAULT);
    *exists = ex > 0;
    if (ex > 0 && (ds = H5Dopen2(loc, name, H5P_DEFAULT)) >= 0 && probe &&
        ((dcpl = H5Dget_create_plist(ds)) < 0 ||
         (H5Pget_layout(dcpl) == H5D_CHUNKED &&
          ((sp = H5Dget_space(ds)) < 0 || H5Dget_num_chunks(ds, sp, &nchunks) < 0))))
        cl_h5_close(&ds);
    cl_h5_close(&sp);
    cl_h5_close(&dcpl);
    H5Eclear2(H5E_DEFAULT);
    return ds;
}
