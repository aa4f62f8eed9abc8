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
 * number.  "all" (or no cup) gives cup -1.
 */
#ifndef CL_MARKER_H
#define CL_MARKER_H

#include <stddef.h>

#include "cl_session.h"

/* Parse `line`.  On success fills `ev` (ev->t is left 0, ev->text points
 * into `textbuf`) and returns CL_OK; otherwise CL_ERR_ARG with a one-line
 * reason in `err`.  `cup_ids` lists the session's cups in order. */
int cl_marker_parse(const char *line, const char *const *cup_ids, size_t ncups,
                    cl_session_event *ev, char *textbuf, size_t textcap, cl_error *err);

#endif
