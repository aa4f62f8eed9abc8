/*
 * cl_profile: what sensor and cup-set profiles share (JSON via jansson): the
 * document header, reading and writing members, files and dates.  The
 * layout is the one docs/profile-format.md specifies; cl_sensor and
 * cl_cupset write and read each kind's members with the helpers here.
 */
#include "cl_profile.h"
#include "cl_output.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_BYTES (64L * 1024 * 1024)

/* ================================================================ helpers */

int cl_profile_set_str(char **field, const char *s)
{
    char *copy = NULL;
    if (s) {
        copy = strdup(s);
        if (!copy)
            return CL_ERR_NOMEM;
    }
    free(*field);
    *field = copy;
    return CL_OK;
}

json_t *cl_profile_jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *cl_profile_jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

bool cl_profile_put(json_t *obj, const char *key, json_t *v)
{
    return v && json_object_set_new(obj, key, v) == 0;
}

int cl_profile_get_num(json_t *obj, const char *key, bool required, const char *ctx,
                       double *out, cl_error *err)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    *out = NAN;
    if (!v || json_is_null(v)) {
        if (required)
            return cl_error_set(err, CL_ERR_FORMAT, "missing \"%s%s%s\"", ctx ? ctx : "",
                                ctx ? "." : "", key);
        return CL_OK;
    }
    if (!json_is_number(v))
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s%s%s\" is not a number", ctx ? ctx : "",
                            ctx ? "." : "", key);
    *out = json_number_value(v);
    return CL_OK;
}

int cl_profile_get_str(json_t *obj, const char *key, bool required, const char *ctx, char **out,
                       cl_error *err)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return cl_error_set(err, CL_ERR_FORMAT, "missing \"%s%s%s\"", ctx ? ctx : "",
                                ctx ? "." : "", key);
        return cl_profile_set_str(out, NULL);
    }
    if (!json_is_string(v))
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s%s%s\" is not a string", ctx ? ctx : "",
                            ctx ? "." : "", key);
    if (cl_profile_set_str(out, json_string_value(v)) != CL_OK)
        return cl_error_set(err, CL_ERR_NOMEM, "out of memory");
    return CL_OK;
}

int cl_profile_get_bool(json_t *obj, const char *key, const char *ctx, bool *out, cl_error *err)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return CL_OK;
    if (!json_is_boolean(v))
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s%s%s\" is not true or false",
                            ctx ? ctx : "", ctx ? "." : "", key);
    *out = json_is_true(v);
    return CL_OK;
}

int cl_profile_get_obj(json_t *obj, const char *key, json_t **out, cl_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return CL_OK;
    if (!json_is_object(v))
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s\" is not an object", key);
    *out = v;
    return CL_OK;
}

int cl_profile_get_arr(json_t *obj, const char *key, json_t **out, cl_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return CL_OK;
    if (!json_is_array(v))
        return cl_error_set(err, CL_ERR_FORMAT, "\"%s\" is not an array", key);
    *out = v;
    return CL_OK;
}

/* ============================================================== documents */

json_t *cl_profile_doc_new(const char *kind)
{
    json_t *r = json_object();
    bool ok = r != NULL;
    ok = ok && cl_profile_put(r, "format", json_string(CL_PROFILE_FORMAT));
    ok = ok && cl_profile_put(r, "version", json_integer(CL_PROFILE_VERSION));
    ok = ok && cl_profile_put(r, "kind", json_string(kind));
    if (!ok) {
        json_decref(r);
        return NULL;
    }
    return r;
}

const char *cl_profile_kind(const char *json)
{
    json_t *r = json ? json_loads(json, 0, NULL) : NULL, *v;
    const char *kind = NULL;
    if (r && json_is_object(r)) {
        v = json_object_get(r, "format");
        if (json_is_string(v) && strcmp(json_string_value(v), CL_PROFILE_FORMAT) == 0) {
            v = json_object_get(r, "kind");
            if (json_is_string(v)) {
                if (strcmp(json_string_value(v), "sensor") == 0)
                    kind = "sensor";
                else if (strcmp(json_string_value(v), "cupset") == 0)
                    kind = "cupset";
            }
        }
    }
    json_decref(r);
    return kind;
}

int cl_profile_doc_parse(const char *json, const char *kind, json_t **root, cl_error *err)
{
    json_error_t je;
    json_t *r, *v;

    *root = NULL;
    if (!json)
        return cl_error_set(err, CL_ERR_ARG, "no profile text");
    r = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!r)
        return cl_error_set(err, CL_ERR_FORMAT, "not valid JSON (line %d, column %d: %s)",
                            je.line, je.column, je.text);
    if (!json_is_object(r)) {
        json_decref(r);
        return cl_error_set(err, CL_ERR_FORMAT, "not a cuplab profile (not a JSON object)");
    }
    v = json_object_get(r, "format");
    if (!json_is_string(v) || strcmp(json_string_value(v), CL_PROFILE_FORMAT) != 0) {
        json_decref(r);
        return cl_error_set(err, CL_ERR_FORMAT,
                            "not a cuplab profile (\"format\" is not \"" CL_PROFILE_FORMAT
                            "\")");
    }
    v = json_object_get(r, "version");
    if (!json_is_integer(v)) {
        json_decref(r);
        return cl_error_set(err, CL_ERR_FORMAT, "\"version\" is missing or not an integer");
    }
    if (json_integer_value(v) != CL_PROFILE_VERSION) {
        long long ver = (long long)json_integer_value(v);
        json_decref(r);
        return cl_error_set(err, CL_ERR_VERSION,
                            "profile format version %lld is not supported (this program "
                            "reads version %d)",
                            ver, CL_PROFILE_VERSION);
    }
    v = json_object_get(r, "kind");
    if (!json_is_string(v)) {
        json_decref(r);
        return cl_error_set(err, CL_ERR_FORMAT, "\"kind\" is missing or not a string");
    }
    if (strcmp(json_string_value(v), kind) != 0) {
        int rc = cl_error_set(err, CL_ERR_FORMAT, "a %s profile, not a %s profile",
                              json_string_value(v), kind);
        json_decref(r);
        return rc;
    }
    *root = r;
    return CL_OK;
}

int cl_profile_name_file(int rc, const char *path, cl_error *err)
{
    if (rc != CL_OK && err) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        cl_error_set(err, rc, "%s: %s", path, msg);
    }
    return rc;
}

char *cl_profile_doc_text(json_t *r)
{
    if (!r)
        return NULL;
    char *s = json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(r);
    if (!s)
        return NULL;
    /* Files end with a newline. */
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}

/* ================================================================= dates */

int cl_profile_parse_date(const char *s, time_t *out, cl_error *err)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    struct tm tm = {0}, back;

    *out = (time_t)-1;
    if (!s)
        return cl_error_set(err, CL_ERR_FORMAT, "missing date");
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return cl_error_set(err, CL_ERR_FORMAT, "'%s' is not a date (YYYY-MM-DD)", s);
    const char *p = s + n;
    if (*p == 'T' || *p == ' ') {
        int m = 0;
        if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3 || m != 8)
            return cl_error_set(err, CL_ERR_FORMAT, "'%s' is not a date-time", s);
        p += 1 + m;
        if (*p == 'Z')
            p++;
        else if (strcmp(p, "+00:00") == 0)
            p += 6;
    }
    if (*p)
        return cl_error_set(err, CL_ERR_FORMAT, "'%s' is not a UTC date or date-time", s);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_year != y - 1900 ||
        back.tm_mon != mo - 1 || back.tm_mday != d || back.tm_hour != h || back.tm_min != mi ||
        back.tm_sec != sec)
        return cl_error_set(err, CL_ERR_FORMAT, "'%s' is not a valid date", s);
    *out = t;
    return CL_OK;
}

void cl_profile_format_datetime(time_t t, char *buf, size_t cap)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, cap, "?");
}

void cl_profile_format_date(time_t t, char *buf, size_t cap)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, cap, "%Y-%m-%d", &tm) == 0)
        snprintf(buf, cap, "?");
}

int cl_profile_check_until(const char *valid_until, const char *what, time_t now, cl_error *err)
{
    time_t t;
    if (!valid_until)
        return CL_OK;
    int rc = cl_profile_parse_date(valid_until, &t, err);
    if (rc != CL_OK)
        return rc;
    if (strlen(valid_until) == 10)
        t += 86400 - 1; /* valid through the end of that day */
    if (now > t)
        return cl_error_set(err, CL_ERR_EXPIRED, "%s: calibration expired (valid until %s)",
                            what, valid_until);
    return CL_OK;
}

/* ================================================================= files */

int cl_profile_read_file(const char *path, char **text, cl_error *err)
{
    FILE *f;
    char *buf = NULL;
    long len;
    int rc = CL_OK;

    *text = NULL;
    f = fopen(path, "rb");
    if (!f)
        return cl_error_set(err, cl_error_from_errno(errno), "%s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = cl_error_set(err, CL_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    if (len > MAX_FILE_BYTES) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: too large for a profile (%ld bytes)", path,
                          len);
        goto out;
    }
    buf = malloc((size_t)len + 1);
    if (!buf) {
        rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        rc = cl_error_set(err, CL_ERR_IO, "%s: read error", path);
        goto out;
    }
    buf[len] = '\0';
    if (strlen(buf) != (size_t)len) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: contains NUL bytes, not a text file", path);
        goto out;
    }
    *text = buf;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}

int cl_profile_write_file(const char *path, const char *text, bool force, cl_error *err)
{
    static unsigned counter;
    char tmp[4096];
    int fd = -1, rc = CL_OK;
    size_t len = strlen(text), off = 0;
    struct stat st;

    if (!force && stat(path, &st) == 0)
        return cl_output_exists(err, path);
    for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
        int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(), counter++);
        if (n < 0 || (size_t)n >= sizeof tmp)
            return cl_error_set(err, CL_ERR_ARG, "%s: path too long", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            return cl_error_set(err, cl_error_from_errno(errno), "%s: cannot create: %s", path,
                                strerror(errno));
    }
    if (fd < 0)
        return cl_error_set(err, CL_ERR_IO, "%s: cannot create a temporary file", path);
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = cl_error_set(err, cl_error_from_errno(errno), "%s: write failed: %s", path,
                              strerror(errno));
            goto fail;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = cl_error_set(err, cl_error_from_errno(errno), "%s: fsync failed: %s", path,
                          strerror(errno));
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = cl_error_set(err, cl_error_from_errno(errno), "%s: write failed: %s", path,
                          strerror(errno));
        goto fail;
    }
    fd = -1;
    if (!force) {
        /* link() refuses an existing target, so a file that appeared
         * meanwhile is not replaced either. */
        if (link(tmp, path) == 0) {
            unlink(tmp);
            return CL_OK;
        }
        if (errno == EEXIST) {
            rc = cl_output_exists(err, path);
            goto fail;
        }
        if (stat(path, &st) == 0) {
            rc = cl_output_exists(err, path);
            goto fail;
        }
    }
    if (rename(tmp, path) != 0) {
        rc = cl_error_set(err, cl_error_from_errno(errno), "%s: cannot write: %s", path,
                          strerror(errno));
        goto fail;
    }
    return CL_OK;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return rc;
}
