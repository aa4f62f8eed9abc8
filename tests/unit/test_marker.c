/* Unit tests for cl_marker: the typed marker commands. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cl_marker.h"

static const char *const cups[] = {"C1", "C2", "neck-left"};

static void parse_ok(const char *line, cl_event_kind kind, int cup, const char *text)
{
    cl_session_event ev;
    char buf[128];
    cl_error err;
    assert_int_equal(cl_marker_parse(line, cups, 3, &ev, buf, sizeof buf, &err), CL_OK);
    assert_int_equal(ev.kind, kind);
    assert_int_equal(ev.cup, cup);
    assert_string_equal(ev.text, text);
}

static void test_commands(void **state)
{
    (void)state;
    parse_ok("applied C2", CL_EVENT_APPLIED, 1, "");
    parse_ok("a 1 first cup on", CL_EVENT_APPLIED, 0, "first cup on");
    parse_ok("  R neck-left  \r", CL_EVENT_RELEASED, 2, "");
    parse_ok("moved all slid down", CL_EVENT_MOVED, -1, "slid down");
    parse_ok("p 3", CL_EVENT_REPUMPED, 2, "");
    parse_ok("note subject reports warmth", CL_EVENT_NOTE, -1, "subject reports warmth");
    parse_ok("released", CL_EVENT_RELEASED, -1, "");
}

static void test_errors(void **state)
{
    (void)state;
    cl_session_event ev;
    char buf[128];
    cl_error err;
    assert_int_equal(cl_marker_parse("", cups, 3, &ev, buf, sizeof buf, &err), CL_ERR_ARG);
    assert_int_equal(cl_marker_parse("pumped C1", cups, 3, &ev, buf, sizeof buf, &err),
                     CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "unknown command"));
    assert_int_equal(cl_marker_parse("applied C9", cups, 3, &ev, buf, sizeof buf, &err),
                     CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "C9"));
    assert_int_equal(cl_marker_parse("applied 4", cups, 3, &ev, buf, sizeof buf, &err),
                     CL_ERR_ARG);
    assert_int_equal(cl_marker_parse("applied 0", cups, 3, &ev, buf, sizeof buf, &err),
                     CL_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests_name("marker", tests, NULL, NULL);
}
