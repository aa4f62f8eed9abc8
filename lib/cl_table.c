/* cl_table: one result table, three renderings (text, CSV, JSON). */
#include "cl_table.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct cell {
    bool set, is_str;
    double num;
    char *str;
} cell;

typedef struct column {
    char *name, *unit;
    int precision;
} column;

/* Errors are sticky: after the first failed call (out of memory) every
 * later change is refused with the same code, so a missed return value can
 * never put a cell into the wrong row, and the table is not written at all:
 * cl_table_write() and cl_table_json() report the failure instead. */
struct cl_table {
    column *cols;
    size_t ncols;
    cell *cells; /* rows * ncols */
    size_t nrows, caprows;
    int failed; /* CL_OK, or the first error */
};

cl_table *cl_table_new(void) { return calloc(1, sizeof(cl_table)); }

void cl_table_free(cl_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i].str);
    for (size_t c = 0; c < t->ncols; c++) {
        free(t->cols[c].name);
        free(t->cols[c].unit);
    }
    free(t->cells);
    free(t->cols);
    free(t);
}

static int fail(cl_table *t, int code)
{
    if (t->failed == CL_OK)
        t->failed = code;
    return t->failed;
}

int cl_table_add_column(cl_table *t, const char *name, const char *unit, int precision)
{
    column *c;
    if (t->failed)
        return t->failed;
    if (t->nrows)
        return fail(t, CL_ERR_ARG);
    c = realloc(t->cols, (t->ncols + 1) * sizeof *c);
    if (!c)
        return fail(t, CL_ERR_NOMEM);
    t->cols = c;
    column col = {strdup(name), unit && *unit ? strdup(unit) : NULL, precision > 0 ? precision : 6};
    if (!col.name || (unit && *unit && !col.unit)) {
        free(col.name);
        free(col.unit);
        return fail(t, CL_ERR_NOMEM);
    }
    c[t->ncols++] = col;
    return CL_OK;
}

int cl_table_add_row(cl_table *t)
{
    if (t->failed)
        return t->failed;
    if (t->nrows == t->caprows) {
        size_t cap = t->caprows ? t->caprows * 2 : 16;
        cell *c = realloc(t->cells, cap * t->ncols * sizeof *c);
        if (!c)
            return fail(t, CL_ERR_NOMEM);
        t->cells = c;
        t->caprows = cap;
    }
    memset(t->cells + t->nrows * t->ncols, 0, t->ncols * sizeof *t->cells);
    t->nrows++;
    return CL_OK;
}

static cell *cur(cl_table *t, size_t col)
{
    if (t->nrows == 0 || col >= t->ncols)
        return NULL;
    return &t->cells[(t->nrows - 1) * t->ncols + col];
}

int cl_table_set_num(cl_table *t, size_t col, double v)
{
    if (t->failed)
        return t->failed;
    cell *c = cur(t, col);
    if (!c)
        return fail(t, CL_ERR_ARG);
    free(c->str);
    *c = (cell){.set = true, .num = v};
    return CL_OK;
}

int cl_table_set_str(cl_table *t, size_t col, const char *s)
{
    if (t->failed)
        return t->failed;
    cell *c = cur(t, col);
    if (!c)
        return fail(t, CL_ERR_ARG);
    char *dup = strdup(s ? s : "");
    if (!dup)
        return fail(t, CL_ERR_NOMEM);
    free(c->str);
    *c = (cell){.set = true, .is_str = true, .str = dup};
    return CL_OK;
}

size_t cl_table_rows(const cl_table *t) { return t->nrows; }

int cl_table_status(const cl_table *t) { return t->failed; }

static void format_cell(const cell *c, int precision, bool csv, char *buf, size_t cap)
{
    if (!c->set || (!c->is_str && !isfinite(c->num)))
        snprintf(buf, cap, "%s", !c->set || csv ? "" : isnan(c->num) ? "-" : c->num > 0 ? "inf" : "-inf");
    else if (c->is_str)
        snprintf(buf, cap, "%s", c->str);
    else if (c->num == floor(c->num) && fabs(c->num) < 1e15)
        snprintf(buf, cap, "%.0f", c->num);
    else
        snprintf(buf, cap, "%.*g", csv ? 17 : precision, c->num);
}

size_t cl_table_columns(const cl_table *t) { return t->ncols; }

const char *cl_table_column_name(const cl_table *t, size_t col)
{
    return col < t->ncols ? t->cols[col].name : "";
}

const char *cl_table_column_unit(const cl_table *t, size_t col)
{
    return col < t->ncols ? t->cols[col].unit : NULL;
}

void cl_table_cell_text(const cl_table *t, size_t row, size_t col, char *buf, size_t cap)
{
    if (row < t->nrows && col < t->ncols)
        format_cell(&t->cells[row * t->ncols + col], t->cols[col].precision, false, buf, cap);
    else if (cap)
        buf[0] = '\0';
}

cl_table *cl_table_select(const cl_table *t, const char *const *names,
                          const char *const *labels, size_t n)
{
    size_t *from = malloc((n ? n : 1) * sizeof *from), k = 0;
    cl_table *out = from ? cl_table_new() : NULL;
    for (size_t i = 0; out && i < n; i++)
        for (size_t c = 0; c < t->ncols; c++)
            if (!strcmp(t->cols[c].name, names[i])) {
                from[k++] = c;
                cl_table_add_column(out, labels && labels[i] ? labels[i] : names[i],
                                    t->cols[c].unit, t->cols[c].precision);
                break;
            }
    for (size_t r = 0; out && r < t->nrows; r++) {
        cl_table_add_row(out);
        for (size_t i = 0; i < k; i++) {
            const cell *c = &t->cells[r * t->ncols + from[i]];
            if (c->set && c->is_str)
                cl_table_set_str(out, i, c->str);
            else if (c->set)
                cl_table_set_num(out, i, c->num);
        }
    }
    free(from);
    if (out && out->failed) {
        cl_table_free(out);
        out = NULL;
    }
    return out;
}

void cl_table_csv_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\n\r")) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
}

static int write_text(const cl_table *t, FILE *out, const char *title)
{
    size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof *w);
    char buf[512];
    if (!w)
        return CL_ERR_NOMEM;
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = strlen(t->cols[c].name);
        if (t->cols[c].unit && strlen(t->cols[c].unit) + 2 > w[c])
            w[c] = strlen(t->cols[c].unit) + 2;
        for (size_t r = 0; r < t->nrows; r++) {
            format_cell(&t->cells[r * t->ncols + c], t->cols[c].precision, false, buf, sizeof buf);
            if (strlen(buf) > w[c])
                w[c] = strlen(buf);
        }
    }
    if (title)
        fprintf(out, "# %s\n", title);
    for (size_t c = 0; c < t->ncols; c++)
        fprintf(out, "%s%*s", c ? "  " : "", (int)w[c], t->cols[c].name);
    fputc('\n', out);
    for (size_t c = 0; c < t->ncols; c++) {
        snprintf(buf, sizeof buf, "[%s]", t->cols[c].unit ? t->cols[c].unit : "");
        fprintf(out, "%s%*s", c ? "  " : "", (int)w[c], t->cols[c].unit ? buf : "");
    }
    fputc('\n', out);
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            format_cell(&t->cells[r * t->ncols + c], t->cols[c].precision, false, buf, sizeof buf);
            fprintf(out, "%s%*s", c ? "  " : "", (int)w[c], buf);
        }
        fputc('\n', out);
    }
    free(w);
    return CL_OK;
}

static int write_csv(const cl_table *t, FILE *out)
{
    char buf[512];
    for (size_t c = 0; c < t->ncols; c++) {
        if (c)
            fputc(',', out);
        cl_table_csv_field(out, t->cols[c].name);
    }
    fputc('\n', out);
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (c)
                fputc(',', out);
            format_cell(&t->cells[r * t->ncols + c], 17, true, buf, sizeof buf);
            cl_table_csv_field(out, buf);
        }
        fputc('\n', out);
    }
    return CL_OK;
}

json_t *cl_table_json(const cl_table *t, const char *title)
{
    json_t *root = json_object(), *rows = json_array(), *units = json_object();
    bool ok = root && rows && units && !t->failed;
    if (ok && title)
        ok = json_object_set_new(root, "title", json_string(title)) == 0;
    for (size_t c = 0; ok && c < t->ncols; c++)
        if (t->cols[c].unit)
            ok = json_object_set_new(units, t->cols[c].name, json_string(t->cols[c].unit)) == 0;
    for (size_t r = 0; ok && r < t->nrows; r++) {
        json_t *row = json_object();
        ok = row != NULL;
        for (size_t c = 0; ok && c < t->ncols; c++) {
            const cell *ce = &t->cells[r * t->ncols + c];
            json_t *v;
            if (!ce->set || (!ce->is_str && !isfinite(ce->num)))
                v = json_null();
            else if (ce->is_str)
                v = json_string(ce->str);
            else if (ce->num == floor(ce->num) && fabs(ce->num) < 9e15)
                v = json_integer((json_int_t)ce->num);
            else
                v = json_real(ce->num);
            ok = json_object_set_new(row, t->cols[c].name, v) == 0;
        }
        ok = json_array_append_new(rows, row) == 0 && ok;
    }
    if (ok) {
        ok = json_object_set_new(root, "units", units) == 0;
        units = NULL;
    }
    if (ok) {
        ok = json_object_set_new(root, "rows", rows) == 0;
        rows = NULL;
    }
    json_decref(units);
    json_decref(rows);
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return root;
}

static int write_json(const cl_table *t, FILE *out, const char *title)
{
    json_t *root = cl_table_json(t, title);
    int rc = CL_OK;
    if (!root)
        return CL_ERR_NOMEM;
    if (json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) != 0)
        rc = CL_ERR_IO;
    fputc('\n', out);
    json_decref(root);
    return rc;
}

int cl_table_write(const cl_table *t, FILE *out, cl_table_format fmt, const char *title,
                   cl_error *err)
{
    int rc;
    if (t->failed)
        return cl_error_set(err, t->failed, "the table could not be built (%s): not written",
                            cl_strerror(t->failed));
    switch (fmt) {
    case CL_TABLE_TEXT: rc = write_text(t, out, title); break;
    case CL_TABLE_CSV: rc = write_csv(t, out); break;
    case CL_TABLE_JSON: rc = write_json(t, out, title); break;
    default: return cl_error_set(err, CL_ERR_ARG, "unknown output format");
    }
    if (rc == CL_OK && ferror(out))
        rc = CL_ERR_IO;
    if (rc != CL_OK)
        return cl_error_set(err, rc, "cannot write the table: %s", cl_strerror(rc));
    return CL_OK;
}

cl_table_format cl_table_format_from_name(const char *name)
{
    if (!strcmp(name, "table") || !strcmp(name, "text"))
        return CL_TABLE_TEXT;
    if (!strcmp(name, "csv"))
        return CL_TABLE_CSV;
    if (!strcmp(name, "json"))
        return CL_TABLE_JSON;
    return 0;
}
