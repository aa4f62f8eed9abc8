/*
 * cl_table: result tables rendered as an aligned text table, CSV or JSON.
 * Every program prints its results through this module, so the three
 * formats always carry the same columns in the same order.
 *
 * Columns have a stable machine name (CSV header, JSON key) and an optional
 * unit.  Cells are numbers (NaN prints as empty in CSV/table, null in JSON)
 * or strings.
 */
#ifndef CL_TABLE_H
#define CL_TABLE_H

#include <stdio.h>

#include "cl_error.h"

typedef enum cl_table_format {
    CL_TABLE_TEXT = 1,
    CL_TABLE_CSV = 2,
    CL_TABLE_JSON = 3,
} cl_table_format;

typedef struct cl_table cl_table;

cl_table *cl_table_new(void);
void cl_table_free(cl_table *t); /* accepts NULL */

/* Add a column; `unit` may be NULL; `precision` is the number of significant
 * digits in the text table.  Columns must all exist before rows. */
int cl_table_add_column(cl_table *t, const char *name, const char *unit, int precision);

/* Start a new row; then set cells by column index (unset cells are empty). */
int cl_table_add_row(cl_table *t);
int cl_table_set_num(cl_table *t, size_t col, double v);
int cl_table_set_str(cl_table *t, size_t col, const char *s);

/* Errors are sticky: the first failing call (CL_ERR_NOMEM, or CL_ERR_ARG for
 * a column after rows or a cell outside the table) makes every later change
 * return the same code and change nothing, and the table is never written:
 * cl_table_write() fails with that code, cl_table_json() returns NULL.  So a
 * builder may check each call, or only the final write.  cl_table_status()
 * is CL_OK or that first error. */
int cl_table_status(const cl_table *t);

size_t cl_table_rows(const cl_table *t);
/* What a reader of the table sees, for renderings of its own (a printed
 * report): the columns, their names and units (NULL: none), and a cell as
 * the text table prints it ("" unset, "-" not a number). */
size_t cl_table_columns(const cl_table *t);
const char *cl_table_column_name(const cl_table *t, size_t col);
const char *cl_table_column_unit(const cl_table *t, size_t col);
void cl_table_cell_text(const cl_table *t, size_t row, size_t col, char *buf, size_t cap);
/* A new table of the columns names[0..n) of t that it has (in that order,
 * headed labels[i] where labels and labels[i] are not NULL), with their
 * units, precision and cells; NULL when out of memory. */
cl_table *cl_table_select(const cl_table *t, const char *const *names,
                          const char *const *labels, size_t n);

/* Write the table.  `title` (may be NULL) is a comment line in text format
 * and the "title" key in JSON, where the rows are the "rows" array and
 * the units the "units" object. */
int cl_table_write(const cl_table *t, FILE *out, cl_table_format fmt, const char *title,
                   cl_error *err);

/* The JSON rendering as a jansson object (a new reference; NULL if out of
 * memory), to nest a table in a larger document: the keys cl_table_write
 * writes ("title" when given, "units", "rows"). */
struct json_t;
struct json_t *cl_table_json(const cl_table *t, const char *title);

/* One CSV field as the CSV rendering writes it: quoted (quotes doubled)
 * when it holds a comma, a quote or a line end. */
void cl_table_csv_field(FILE *out, const char *s);

/* "table"/"text", "csv", "json" -> format; 0 if unknown. */
cl_table_format cl_table_format_from_name(const char *name);

#endif
