/*
 * cl_marker: the marker commands an operator types while recording, turned
 * into session events.  Grammar (one command per line, case-insensitive
 * keywords):
 *
 *   applied|a  CUP|all [comment]     cup applied
 *   released|r CUP|all [comment]     cup released
 *   moved|m    CUP|all [comment]     cup moved (moving cupping)
 *   repumped|p CUP|all [comment]     vacuum topped up
 *   note|n     [comment]             free comment, no cup
 *
 * CUP is a cup id from the cup table (e.g. "C3", "neck-left") or its 1-based
 * number.  "all" (or no cup) gives cup -1.  A comment longer than an event's
 * text (CL_SESSION_EVENT_TEXT - 1 bytes) is cut at a character boundary and
 * the caller told so.
 *
 * Input arrives in pieces that need not end at a line end (a pipe, a fast
 * typist): cl_marker_lines joins them into whole lines.
 */
#ifndef CL_MARKER_H
#define CL_MARKER_H

#include <stdbool.h>
#include <stddef.h>

#include "cl_session.h"

/* Bytes of a line that are kept; the rest of a longer line is dropped (its
 * comment would not fit in an event anyway). */
#define CL_MARKER_LINE_MAX 1024

/* Parse `line`.  On success fills `ev` (ev->t is left 0, ev->text points
 * into `textbuf`, valid UTF-8), sets *truncated (if not NULL) when the
 * comment did not fit in `textcap` bytes, and returns CL_OK; otherwise
 * CL_ERR_ARG with a one-line reason in `err`.  `cup_ids` lists the
 * session's cups in order. */
int cl_marker_parse(const char *line, const char *const *cup_ids, size_t ncups,
                    cl_session_event *ev, char *textbuf, size_t textcap, bool *truncated,
                    cl_error *err);

/* Line assembly: bytes in, complete lines ("\n"-terminated, without it) out. */
typedef struct cl_marker_lines cl_marker_lines;
typedef void (*cl_marker_line_fn)(void *ctx, const char *line);

cl_marker_lines *cl_marker_lines_new(void);
void cl_marker_lines_free(cl_marker_lines *lb); /* accepts NULL */

/* Call `fn` for every line completed by these `n` bytes; an unfinished line
 * is kept for the next call. */
void cl_marker_lines_feed(cl_marker_lines *lb, const char *buf, size_t n, cl_marker_line_fn fn,
                          void *ctx);

/* End of input: an unfinished last line is complete too. */
void cl_marker_lines_end(cl_marker_lines *lb, cl_marker_line_fn fn, void *ctx);

#endif
