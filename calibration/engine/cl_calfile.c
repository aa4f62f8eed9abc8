/*
 * cl_calfile: a small CSV reader and the three calibration input formats
 * built on it (see cl_calfile.h and docs/calibration.md).
 */
#include "engine/cl_calfile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>

#include "cl_output.h"
#include "cl_profile.h"

#define MAX_FIELDS 64
/* Largest magnitude of any number in these files: far beyond any pressure,
 * reading, volume or time, and small enough that unit conversions, sums and
 * squares stay finite. */
#define MAX_ABS_VALUE 1e15

/* ------------------------------------------------------------ CSV core */

typedef struct csv {
    const char *path;
    char *text; /* whole file */
    char *pos;  /* next line */
    int line;   /* number of the line last read */
    char *f[MAX_FIELDS];
    size_t nf;
} csv;

static int csv_open(csv *c, const char *path, cl_error *err)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    int rc = cl_profile_read_file(path, &c->text, err);
    c->pos = c->text;
    return rc;
}

static void csv_close(csv *c)
{
    free(c->text);
    c->text = c->pos = NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Split the next data line into fields (in place).  Returns 1 with a line,
 * 0 at the end, negative on error. */
static int csv_next(csv *c, cl_error *err)
{
    for (;;) {
        if (!c->pos || !*c->pos)
            return 0;
        char *line = c->pos, *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
            c->pos = nl + 1;
        } else {
            c->pos = line + strlen(line);
        }
        c->line++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[len - 1] = '\0';
        char *t = trim(line);
        if (!*t || *t == '#')
            continue;
        /* Fields: split at commas outside quotes, unquote in place. */
        c->nf = 0;
        char *r = t;
        for (;;) {
            char *start, *w, ch;
            if (c->nf == MAX_FIELDS)
                return cl_error_set(err, CL_ERR_FORMAT, "%s:%d: more than %d fields", c->path,
                                    c->line, MAX_FIELDS);
            while (*r == ' ' || *r == '\t')
                r++;
            start = w = r;
            if (*r == '"') {
                r++;
                for (;;) {
                    if (!*r)
                        return cl_error_set(err, CL_ERR_FORMAT, "%s:%d: unterminated quote",
                                            c->path, c->line);
                    if (*r == '"' && r[1] == '"') {
                        *w++ = '"';
                        r += 2;
                    } else if (*r == '"') {
                        r++;
                        break;
                    } else {
                        *w++ = *r++;
                    }
                }
                while (*r == ' ' || *r == '\t')
                    r++;
                if (*r && *r != ',')
                    return cl_error_set(err, CL_ERR_FORMAT, "%s:%d: text after a closing quote",
                                        c->path, c->line);
                ch = *r;
                *w = '\0';
                c->f[c->nf++] = start;
            } else {
                while (*r && *r != ',')
                    r++;
                ch = *r;
                *r = '\0';
                c->f[c->nf++] = trim(start);
            }
            if (!ch)
                break;
            r++;
        }
        return 1;
    }
}

/* Header handling: names lower-cased copies of the header fields. */
typedef struct header {
    char name[MAX_FIELDS][64];
    size_t n;
} header;

static int read_header(csv *c, header *h, cl_error *err)
{
    int rc = csv_next(c, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return cl_error_set(err, CL_ERR_FORMAT, "%s: empty (no header line)", c->path);
    h->n = c->nf;
    for (size_t i = 0; i < c->nf; i++) {
        snprintf(h->name[i], sizeof h->name[i], "%s", c->f[i]);
        for (char *p = h->name[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        for (size_t j = 0; j < i; j++)
            if (*h->name[i] && strcmp(h->name[i], h->name[j]) == 0)
                return cl_error_set(err, CL_ERR_FORMAT, "%s:%d: column '%s' appears twice",
                                    c->path, c->line, c->f[i]);
    }
    return CL_OK;
}

/* Column named exactly `name`, or -1. */
static int col(const header *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->name[i], name) == 0)
            return (int)i;
    return -1;
}

/* Pressure column: `name` or `name_<unit>`.  *unit gets the suffix unit (0
 * if none).  -1 if absent; -2 (error set) for an unknown suffix. */
static int pcol(const header *h, const char *name, const char *path, cl_unit *unit,
                cl_error *err)
{
    size_t len = strlen(name);
    *unit = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->name[i], name) == 0)
            return (int)i;
        if (strncmp(h->name[i], name, len) == 0 && h->name[i][len] == '_') {
            const char *suffix = h->name[i] + len + 1;
            cl_unit u = cl_unit_from_name(suffix);
            if (!u) {
                /* "p_u" and the like are other columns, not units. */
                if (strcmp(suffix, "u") == 0 || strcmp(suffix, "sd") == 0 ||
                    strncmp(suffix, "u_", 2) == 0)
                    continue;
                cl_error_set(err, CL_ERR_ARG, "%s: column '%s': unknown unit '%s' (use %s)",
                             path, h->name[i], suffix, cl_unit_names());
                return -2;
            }
            *unit = u;
            return (int)i;
        }
    }
    return -1;
}

static const char *field(const csv *c, int i)
{
    return i >= 0 && (size_t)i < c->nf ? c->f[i] : "";
}

/* Number in field i: NaN if empty; error if malformed. */
static int num(const csv *c, int i, const char *what, double *out, cl_error *err)
{
    const char *s = field(c, i);
    char *end;
    *out = NAN;
    if (!*s)
        return CL_OK;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *trim(end) || !isfinite(v))
        return cl_error_set(err, CL_ERR_FORMAT, "%s:%d: %s '%s' is not a number", c->path,
                            c->line, what, s);
    if (fabs(v) > MAX_ABS_VALUE)
        return cl_error_set(err, CL_ERR_FORMAT, "%s:%d: %s '%s' is out of range (beyond +-%g)",
                            c->path, c->line, what, s, MAX_ABS_VALUE);
    *out = v;
    return CL_OK;
}

/* Unit of this row: the column-name unit, else the unit column, else dflt. */
static int row_unit(const csv *c, cl_unit name_unit, int unit_col, cl_unit dflt,
                    const char *what, cl_unit *out, cl_error *err)
{
    *out = 0;
    if (name_unit) {
        *out = name_unit;
        return CL_OK;
    }
    const char *s = field(c, unit_col);
    if (unit_col >= 0 && *s) {
        *out = cl_unit_from_name(s);
        if (!*out)
            return cl_error_set(err, CL_ERR_ARG, "%s:%d: unknown unit '%s' (use %s)", c->path,
                                c->line, s, cl_unit_names());
        return CL_OK;
    }
    if (dflt) {
        *out = dflt;
        return CL_OK;
    }
    return cl_error_set(err, CL_ERR_ARG,
                        "%s:%d: the unit of %s is unknown: add a unit column, put the unit in "
                        "the column name (%s_kPa) or give --ref-unit",
                        c->path, c->line, what, what);
}

static char *dup_field(const csv *c, int i, bool *ok)
{
    const char *s = field(c, i);
    if (i < 0 || !*s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

/* Room for one more after the n elements (of `size` bytes) in use in v, of
 * *cap, the room doubling from `first`: v, moved or not, or NULL out of
 * memory (v untouched). */
static void *grow(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
    if (n < *cap)
        return v;
    size_t nc = *cap ? 2 * *cap : first;
    void *t = realloc(v, nc * size);
    if (t)
        *cap = nc;
    return t;
}

/* ------------------------------------------------------- sensor points */

/* The columns of a points file (-1: absent). */
typedef struct points_cols {
    int ref;           /* reference pressure */
    cl_unit name_unit; /* its unit from the column name, or 0 */
    int raw[MAX_FIELDS], nraw;
    int unit, sd, n, dir, temp;
} points_cols;

/* "raw", "raw1", "raw_2", ...: a column of raw readings. */
static bool is_raw_column(const char *name)
{
    if (strncmp(name, "raw", 3) != 0)
        return false;
    const char *d = name + 3;
    if (*d == '_' && isdigit((unsigned char)d[1]))
        d++;
    bool digits = true;
    for (const char *p = d; *p; p++)
        digits &= isdigit((unsigned char)*p) != 0;
    return digits;
}

/* The columns named in the header row: a reference and at least one raw
 * reading, and a way to know the reference's unit. */
static int points_columns(const header *h, const char *path, cl_unit ref_unit, points_cols *pc,
                          cl_error *err)
{
    pc->ref = pcol(h, "ref", path, &pc->name_unit, err);
    if (pc->ref == -1)
        pc->ref = pcol(h, "reference", path, &pc->name_unit, err);
    if (pc->ref == -2)
        return CL_ERR_ARG;
    if (pc->ref < 0)
        return cl_error_set(err, CL_ERR_FORMAT,
                            "%s: no reference column (ref, ref_<unit>, reference)", path);
    pc->nraw = 0;
    for (size_t i = 0; i < h->n; i++)
        if (is_raw_column(h->name[i]))
            pc->raw[pc->nraw++] = (int)i;
    if (pc->nraw == 0)
        return cl_error_set(err, CL_ERR_FORMAT,
                            "%s: no raw reading column (raw, raw1, raw2, ..)", path);
    pc->unit = col(h, "unit");
    pc->sd = col(h, "raw_sd");
    pc->n = col(h, "n");
    pc->dir = col(h, "direction");
    if (pc->dir < 0)
        pc->dir = col(h, "dir");
    pc->temp = col(h, "temperature_c");
    if (pc->temp < 0)
        pc->temp = col(h, "temp_c");
    if (pc->temp < 0)
        pc->temp = col(h, "temperature");
    if (!pc->name_unit && pc->unit < 0 && !ref_unit)
        return cl_error_set(err, CL_ERR_ARG,
                            "%s: the reference unit is unknown: add a unit column, name the "
                            "column ref_<unit> (ref_kPa, ref_mmHg) or give --ref-unit",
                            path);
    return CL_OK;
}

/* The reference pressure of a row, in kPa. */
static int point_ref(const csv *c, const points_cols *pc, cl_unit ref_unit, cl_sensor_point *p,
                     cl_error *err)
{
    double r;
    cl_unit u;
    int rc;
    if ((rc = num(c, pc->ref, "reference", &r, err)) != CL_OK)
        return rc;
    if (isnan(r))
        return cl_error_set(err, CL_ERR_FORMAT, "%s:%d: no reference value", c->path, c->line);
    if ((rc = row_unit(c, pc->name_unit, pc->unit, ref_unit, "ref", &u, err)) != CL_OK)
        return rc;
    p->ref_kpa = cl_unit_to_kpa(r, u) + 0.0; /* + 0.0: no negative zero */
    return CL_OK;
}

/* SD and count of the samples behind a single raw reading, where given. */
static int point_spread(const csv *c, const points_cols *pc, cl_sensor_point *p, cl_error *err)
{
    double sd, ns;
    int rc;
    if ((rc = num(c, pc->sd, "raw_sd", &sd, err)) != CL_OK ||
        (rc = num(c, pc->n, "n", &ns, err)) != CL_OK)
        return rc;
    if (isfinite(sd) && sd < 0)
        return cl_error_set(err, CL_ERR_FORMAT, "%s:%d: negative raw_sd", c->path, c->line);
    p->raw_sd = sd;
    if (isfinite(ns)) {
        if (ns < 1 || ns != floor(ns) || ns > 1e9)
            return cl_error_set(err, CL_ERR_FORMAT, "%s:%d: n must be a positive count",
                                c->path, c->line);
        p->n_samples = (unsigned)ns;
    }
    return CL_OK;
}

/* The raw readings of a row: their mean, SD and count. */
static int point_raw(const csv *c, const points_cols *pc, cl_sensor_point *p, cl_error *err)
{
    double sum = 0, sum2 = 0, x;
    unsigned cnt = 0;
    int rc;
    for (int k = 0; k < pc->nraw; k++) {
        if ((rc = num(c, pc->raw[k], "raw reading", &x, err)) != CL_OK)
            return rc;
        if (isnan(x))
            continue;
        sum += x;
        sum2 += x * x;
        cnt++;
    }
    if (cnt == 0)
        return cl_error_set(err, CL_ERR_FORMAT, "%s:%d: no raw reading", c->path, c->line);
    p->raw = sum / cnt;
    p->n_samples = cnt;
    p->raw_sd = NAN;
    if (cnt == 1)
        return point_spread(c, pc, p, err);
    double var = (sum2 - sum * sum / cnt) / (cnt - 1);
    p->raw_sd = sqrt(var > 0 ? var : 0);
    return CL_OK;
}

/* One row of a points file. */
static int read_point(const csv *c, const points_cols *pc, cl_unit ref_unit, cl_sensor_point *p,
                      cl_error *err)
{
    int rc;
    *p = (cl_sensor_point){0};
    if ((rc = point_ref(c, pc, ref_unit, p, err)) != CL_OK ||
        (rc = point_raw(c, pc, p, err)) != CL_OK)
        return rc;
    int dir = cl_direction_from_name(field(c, pc->dir));
    if (dir == -2)
        return cl_error_set(err, CL_ERR_FORMAT, "%s:%d: direction '%s' is not up or down",
                            c->path, c->line, field(c, pc->dir));
    p->direction = (cl_direction)dir;
    if ((rc = num(c, pc->temp, "temperature", &p->temperature_c, err)) != CL_OK)
        return rc;
    p->fit_kpa = p->residual_kpa = p->u_kpa = NAN;
    return CL_OK;
}

int cl_calfile_sensor_points(const char *path, cl_unit ref_unit, cl_sensor_point **pts,
                             size_t *n, cl_error *err)
{
    csv c;
    header h;
    points_cols pc;
    cl_sensor_point *v = NULL, p;
    size_t nv = 0, cap = 0;
    int rc;

    *pts = NULL;
    *n = 0;
    if ((rc = csv_open(&c, path, err)) != CL_OK)
        return rc;
    if ((rc = read_header(&c, &h, err)) != CL_OK ||
        (rc = points_columns(&h, path, ref_unit, &pc, err)) != CL_OK)
        goto fail;
    while ((rc = csv_next(&c, err)) == 1) {
        if ((rc = read_point(&c, &pc, ref_unit, &p, err)) != CL_OK)
            goto fail;
        cl_sensor_point *t = grow(v, nv, &cap, sizeof *v, 32);
        if (!t) {
            rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
            goto fail;
        }
        v = t;
        v[nv++] = p;
    }
    if (rc < 0)
        goto fail;
    if (nv == 0) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: no calibration points", path);
        goto fail;
    }
    csv_close(&c);
    *pts = v;
    *n = nv;
    return CL_OK;
fail:
    csv_close(&c);
    free(v);
    return rc;
}

#define POINTS_HEADER "ref_kPa,raw,raw_sd,n,direction,temperature_c\n"

/* One row of a points file, with its newline. */
static void format_point(char *buf, size_t cap, const cl_sensor_point *p)
{
    char sd[32] = "", temp[32] = "";
    if (isfinite(p->raw_sd))
        snprintf(sd, sizeof sd, "%.17g", p->raw_sd);
    if (isfinite(p->temperature_c))
        snprintf(temp, sizeof temp, "%.17g", p->temperature_c);
    snprintf(buf, cap, "%.17g,%.17g,%s,%u,%s,%s\n", p->ref_kpa, p->raw, sd, p->n_samples,
             p->direction == CL_DIR_UNKNOWN ? "" : cl_direction_name(p->direction), temp);
}

int cl_calfile_write_points(const char *path, const cl_sensor_point *pts, size_t n, bool force,
                            cl_error *err)
{
    char *buf = NULL, row[256];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    fputs(POINTS_HEADER, f);
    for (size_t i = 0; i < n; i++) {
        format_point(row, sizeof row, &pts[i]);
        fputs(row, f);
    }
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    }
    int rc = cl_profile_write_file(path, buf, force, err);
    free(buf);
    return rc;
}

struct cl_calfile_points_log {
    char *path;
    int fd;
};

/* Write all of `text` and sync it to disk. */
static int log_write(cl_calfile_points_log *lg, const char *text, cl_error *err)
{
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(lg->fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return cl_error_set(err, cl_error_from_errno(errno), "%s: write failed: %s",
                                lg->path, strerror(errno));
        off += (size_t)w;
    }
    if (fsync(lg->fd) != 0)
        return cl_error_set(err, cl_error_from_errno(errno), "%s: fsync failed: %s", lg->path,
                            strerror(errno));
    return CL_OK;
}

int cl_calfile_points_log_open(cl_calfile_points_log **out, const char *path, bool force,
                               bool append, cl_error *err)
{
    cl_calfile_points_log *lg = calloc(1, sizeof *lg);
    int rc;
    *out = NULL;
    if (!lg || !(lg->path = strdup(path))) {
        free(lg);
        return cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
    }
    /* Appending reads the last byte back: read-write. */
    int flags = O_CLOEXEC | (append ? O_RDWR | O_APPEND
                                    : O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL));
    lg->fd = open(path, flags, 0666);
    if (lg->fd < 0) {
        rc = errno == EEXIST ? cl_output_exists(err, path)
                             : cl_error_set(err, cl_error_from_errno(errno), "%s: cannot %s: %s",
                                            path, append ? "open" : "create", strerror(errno));
        cl_calfile_points_log_close(lg);
        return rc;
    }
    if (append) {
        /* A last row without its newline would run into the next one. */
        char last = '\n';
        off_t end = lseek(lg->fd, 0, SEEK_END);
        if (end > 0 && pread(lg->fd, &last, 1, end - 1) != 1)
            rc = cl_error_set(err, cl_error_from_errno(errno), "%s: cannot read: %s", path,
                              strerror(errno));
        else
            rc = last == '\n' ? CL_OK : log_write(lg, "\n", err);
    } else {
        rc = log_write(lg, POINTS_HEADER, err);
    }
    if (rc != CL_OK) {
        cl_calfile_points_log_close(lg);
        return rc;
    }
    *out = lg;
    return CL_OK;
}

int cl_calfile_points_log_add(cl_calfile_points_log *lg, const cl_sensor_point *p, cl_error *err)
{
    char row[256];
    format_point(row, sizeof row, p);
    return log_write(lg, row, err);
}

void cl_calfile_points_log_close(cl_calfile_points_log *lg)
{
    if (!lg)
        return;
    if (lg->fd >= 0)
        close(lg->fd);
    free(lg->path);
    free(lg);
}

/* ------------------------------------------------------------ cup list */

static void cuprow_release(cl_cuprow *r)
{
    free(r->cup);
    free(r->material);
    free(r->size);
    free(r->decay);
    free(r->decay_cup);
}

void cl_calfile_cups_free(cl_cuprow *rows, size_t n)
{
    if (!rows)
        return;
    for (size_t i = 0; i < n; i++)
        cuprow_release(&rows[i]);
    free(rows);
}

/* `rel` resolved against the directory of `base` (unless absolute). */
static char *resolve(const char *base, const char *rel)
{
    const char *slash = strrchr(base, '/');
    if (rel[0] == '/' || !slash)
        return strdup(rel);
    size_t dl = (size_t)(slash - base) + 1, rl = strlen(rel);
    char *p = malloc(dl + rl + 1);
    if (!p)
        return NULL;
    memcpy(p, base, dl);
    memcpy(p + dl, rel, rl + 1);
    return p;
}

/* The pressure columns of a cup list, in the order they are read. */
enum { CUP_P_REF, CUP_P_CUP, CUP_P_FINAL, CUP_P_U, CUP_NP };
static const char *const cup_p_names[CUP_NP] = {"p_ref", "p_cup", "p_final", "p_u"};

/* The columns of a cup list (-1: absent). */
typedef struct cups_cols {
    int cup, mat, size, vol, volu, vref, vrefu, kind, unit, decay, dcup, from, to;
    int p[CUP_NP];          /* pressures */
    cl_unit p_unit[CUP_NP]; /* their units from the column names, or 0 */
} cups_cols;

/* The columns named in the header row: the cup id and the others. */
static int cups_columns(const header *h, const char *path, cups_cols *cc, cl_error *err)
{
    cc->cup = col(h, "cup");
    if (cc->cup < 0)
        cc->cup = col(h, "cup_id");
    if (cc->cup < 0)
        return cl_error_set(err, CL_ERR_FORMAT, "%s: no cup column", path);
    for (int k = 0; k < CUP_NP; k++)
        cc->p[k] = pcol(h, cup_p_names[k], path, &cc->p_unit[k], err);
    for (int k = 0; k < CUP_NP; k++)
        if (cc->p[k] == -2)
            return CL_ERR_ARG;
    cc->mat = col(h, "material");
    cc->size = col(h, "size");
    cc->vol = col(h, "volume_ml");
    cc->volu = col(h, "volume_u_ml");
    cc->vref = col(h, "vref_ml");
    cc->vrefu = col(h, "vref_u_ml");
    cc->kind = col(h, "pressure");
    cc->unit = col(h, "unit");
    cc->decay = col(h, "decay");
    cc->dcup = col(h, "decay_cup");
    cc->from = col(h, "from_s");
    cc->to = col(h, "to_s");
    return CL_OK;
}

/* The numbers of a cup row, its pressures in kPa. */
static int cup_numbers(const csv *c, const cups_cols *cc, cl_unit unit, cl_cuprow *r,
                       cl_error *err)
{
    double *p[CUP_NP] = {&r->p_ref_kpa, &r->p_cup_kpa, &r->p_final_kpa, &r->p_u_kpa}, x;
    int rc;
    if ((rc = num(c, cc->vol, "volume_ml", &r->volume_ml, err)) ||
        (rc = num(c, cc->volu, "volume_u_ml", &r->volume_u_ml, err)) ||
        (rc = num(c, cc->vref, "vref_ml", &r->vref_ml, err)) ||
        (rc = num(c, cc->vrefu, "vref_u_ml", &r->vref_u_ml, err)) ||
        (rc = num(c, cc->from, "from_s", &r->from_s, err)) ||
        (rc = num(c, cc->to, "to_s", &r->to_s, err)))
        return rc;
    for (int k = 0; k < CUP_NP; k++) {
        cl_unit u;
        if ((rc = num(c, cc->p[k], cup_p_names[k], &x, err)))
            return rc;
        if (isnan(x))
            continue;
        if ((rc = row_unit(c, cc->p_unit[k], cc->unit, unit, cup_p_names[k], &u, err)))
            return rc;
        *p[k] = cl_unit_to_kpa(x, u);
    }
    return CL_OK;
}

/* One row of a cup list, but for its texts. */
static int read_cup(const csv *c, const cups_cols *cc, cl_unit unit, cl_cuprow *r,
                    cl_error *err)
{
    int rc;
    memset(r, 0, sizeof *r);
    r->line = c->line;
    r->volume_ml = r->volume_u_ml = r->vref_ml = r->vref_u_ml = NAN;
    r->p_ref_kpa = r->p_cup_kpa = r->p_final_kpa = r->p_u_kpa = r->from_s = r->to_s = NAN;
    if (!*field(c, cc->cup))
        return cl_error_set(err, CL_ERR_FORMAT, "%s:%d: no cup id", c->path, c->line);
    if ((rc = cup_numbers(c, cc, unit, r, err)))
        return rc;
    const char *pk = field(c, cc->kind);
    if (*pk && strcasecmp(pk, "absolute") != 0 && strcasecmp(pk, "abs") != 0 &&
        strcasecmp(pk, "gauge") != 0)
        return cl_error_set(err, CL_ERR_FORMAT,
                            "%s:%d: pressure '%s' is neither gauge nor absolute", c->path,
                            c->line, pk);
    r->p_absolute = *pk && strncasecmp(pk, "abs", 3) == 0;
    return CL_OK;
}

/* The texts of a cup row, copied, the decay's path resolved against the
 * list's folder: false out of memory. */
static bool cup_texts(const csv *c, const cups_cols *cc, cl_cuprow *r)
{
    bool ok = true;
    r->cup = dup_field(c, cc->cup, &ok);
    r->material = dup_field(c, cc->mat, &ok);
    r->size = dup_field(c, cc->size, &ok);
    r->decay_cup = dup_field(c, cc->dcup, &ok);
    if (*field(c, cc->decay)) {
        r->decay = resolve(c->path, field(c, cc->decay));
        ok &= r->decay != NULL;
    }
    return ok;
}

int cl_calfile_cups(const char *path, cl_unit unit, cl_cuprow **rows, size_t *n, cl_error *err)
{
    csv c;
    header h;
    cups_cols cc;
    cl_cuprow *v = NULL, r;
    size_t nv = 0, cap = 0;
    int rc;

    *rows = NULL;
    *n = 0;
    if ((rc = csv_open(&c, path, err)) != CL_OK)
        return rc;
    if ((rc = read_header(&c, &h, err)) != CL_OK ||
        (rc = cups_columns(&h, path, &cc, err)) != CL_OK)
        goto fail;
    while ((rc = csv_next(&c, err)) == 1) {
        if ((rc = read_cup(&c, &cc, unit, &r, err)) != CL_OK)
            goto fail;
        bool ok = cup_texts(&c, &cc, &r);
        cl_cuprow *t = grow(v, nv, &cap, sizeof *v, 16);
        if (t)
            v = t;
        if (!ok || !t) {
            cuprow_release(&r);
            rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
            goto fail;
        }
        v[nv++] = r;
    }
    if (rc < 0)
        goto fail;
    if (nv == 0) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: no cups", path);
        goto fail;
    }
    csv_close(&c);
    *rows = v;
    *n = nv;
    return CL_OK;
fail:
    csv_close(&c);
    cl_calfile_cups_free(v, nv);
    return rc;
}

/* --------------------------------------------------------------- decay */

int cl_calfile_decay(const char *path, cl_unit unit, double **t_s, double **p_kpa, size_t *n,
                     cl_error *err)
{
    csv c;
    header h;
    double *t = NULL, *p = NULL;
    size_t nv = 0, cap = 0;
    int rc;
    cl_unit name_unit = 0;

    *t_s = *p_kpa = NULL;
    *n = 0;
    if ((rc = csv_open(&c, path, err)) != CL_OK)
        return rc;
    if ((rc = read_header(&c, &h, err)) != CL_OK)
        goto fail;
    int tc = col(&h, "t");
    if (tc < 0)
        tc = col(&h, "t_s");
    if (tc < 0)
        tc = col(&h, "time");
    if (tc < 0)
        tc = col(&h, "time_s");
    int pc = pcol(&h, "p", path, &name_unit, err);
    if (pc == -1)
        pc = pcol(&h, "pressure", path, &name_unit, err);
    if (pc == -2) {
        rc = CL_ERR_ARG;
        goto fail;
    }
    if (tc < 0 || pc < 0) {
        rc = cl_error_set(err, CL_ERR_FORMAT,
                          "%s: a decay needs a time column (t, t_s) and a pressure column "
                          "(p, p_<unit>)",
                          path);
        goto fail;
    }
    int unit_col = col(&h, "unit");
    if (!name_unit && unit_col < 0 && !unit) {
        rc = cl_error_set(err, CL_ERR_ARG,
                          "%s: the pressure unit is unknown: add a unit column, name the "
                          "column p_<unit> (p_kPa, p_mmHg) or give --ref-unit",
                          path);
        goto fail;
    }
    while ((rc = csv_next(&c, err)) == 1) {
        double tv, pv;
        cl_unit u;
        if ((rc = num(&c, tc, "time", &tv, err)) || (rc = num(&c, pc, "pressure", &pv, err)))
            goto fail;
        if (isnan(tv) || isnan(pv)) {
            rc = cl_error_set(err, CL_ERR_FORMAT, "%s:%d: missing time or pressure", path,
                              c.line);
            goto fail;
        }
        if (nv > 0 && !(tv > t[nv - 1])) {
            rc =
                cl_error_set(err, CL_ERR_FORMAT, "%s:%d: time does not increase", path, c.line);
            goto fail;
        }
        if ((rc = row_unit(&c, name_unit, unit_col, unit, "p", &u, err)))
            goto fail;
        if (nv == cap) {
            size_t nc = cap ? 2 * cap : 1024;
            double *a = realloc(t, nc * sizeof *a);
            if (a)
                t = a;
            double *b = a ? realloc(p, nc * sizeof *b) : NULL;
            if (!a || !b) {
                rc = cl_error_set(err, CL_ERR_NOMEM, "%s: out of memory", path);
                goto fail;
            }
            p = b;
            cap = nc;
        }
        t[nv] = tv;
        p[nv] = cl_unit_to_kpa(pv, u);
        nv++;
    }
    if (rc < 0)
        goto fail;
    if (nv == 0) {
        rc = cl_error_set(err, CL_ERR_FORMAT, "%s: no samples", path);
        goto fail;
    }
    csv_close(&c);
    *t_s = t;
    *p_kpa = p;
    *n = nv;
    return CL_OK;
fail:
    csv_close(&c);
    free(t);
    free(p);
    return rc;
}
