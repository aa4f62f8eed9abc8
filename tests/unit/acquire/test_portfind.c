/* Unit tests for cl_portfind: port selectors and the USB match.  (Finding a
 * device= port is tested end to end on emulated boards: board_find.sh.) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "engine/cl_portfind.h"

static void test_parse(void **state)
{
    (void)state;
    cl_portfind_sel s;
    cl_error err;
    assert_int_equal(cl_portfind_parse("/dev/ttyACM0", &s, &err), CL_OK);
    assert_int_equal(s.kind, CL_PORTFIND_PATH);
    assert_string_equal(s.value, "/dev/ttyACM0");
    assert_int_equal(cl_portfind_parse("device=rig-2", &s, &err), CL_OK);
    assert_int_equal(s.kind, CL_PORTFIND_DEVICE);
    assert_string_equal(s.value, "rig-2");
    assert_int_equal(cl_portfind_parse("usb-serial=85539313", &s, &err), CL_OK);
    assert_int_equal(s.kind, CL_PORTFIND_USB_SERIAL);
    assert_string_equal(s.value, "85539313");
    assert_int_equal(cl_portfind_parse("usb=2341:0043", &s, &err), CL_OK);
    assert_int_equal(s.kind, CL_PORTFIND_USB_ID);
    assert_int_equal(s.vid, 0x2341);
    assert_int_equal(s.pid, 0x0043);
    assert_int_equal(cl_portfind_parse("usb=1a86:7523", &s, &err), CL_OK);
    assert_int_equal(s.vid, 0x1a86);
    assert_int_equal(s.pid, 0x7523);
    /* malformed selectors: a one-line reason */
    static const char *const bad[] = {"device=", "usb-serial=", "usb=2341", "usb=2341:43",
                                      "usb=2341:00431", "usb=xyzw:0043", "usb=2341-0043"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(cl_portfind_parse(bad[i], &s, &err), CL_ERR_ARG);
        assert_non_null(strstr(err.msg, bad[i]));
        assert_null(strchr(err.msg, '\n'));
    }
}

static cl_port_info usb(const char *name, int vid, int pid, const char *serial)
{
    cl_port_info p = {.usb_vendor_id = vid, .usb_product_id = pid};
    strcpy(p.name, name);
    strcpy(p.transport, vid < 0 ? "native" : "usb");
    strcpy(p.usb_serial, serial);
    return p;
}

static void test_usb(void **state)
{
    (void)state;
    cl_port_info ports[] = {
        usb("/dev/ttyS0", -1, -1, ""),
        usb("/dev/ttyACM0", 0x2341, 0x0043, "8553931373"),
        usb("/dev/ttyUSB0", 0x1a86, 0x7523, ""),
        usb("/dev/ttyACM1", 0x2341, 0x0043, "9563230323"),
    };
    cl_portfind_sel s;
    cl_error err;
    size_t i = 99;

    cl_portfind_parse("usb-serial=9563230323", &s, &err);
    assert_int_equal(cl_portfind_usb(&s, ports, 4, &i, &err), CL_OK);
    assert_int_equal(i, 3);
    cl_portfind_parse("usb=1a86:7523", &s, &err);
    assert_int_equal(cl_portfind_usb(&s, ports, 4, &i, &err), CL_OK);
    assert_int_equal(i, 2);
    /* two Unos: ambiguous, both named, the way out said */
    cl_portfind_parse("usb=2341:0043", &s, &err);
    assert_int_equal(cl_portfind_usb(&s, ports, 4, &i, &err), CL_ERR_ARG);
    assert_non_null(strstr(err.msg, "/dev/ttyACM0"));
    assert_non_null(strstr(err.msg, "/dev/ttyACM1"));
    assert_non_null(strstr(err.msg, "usb-serial="));
    /* none: not found; an empty USB serial never matches */
    cl_portfind_parse("usb-serial=0000", &s, &err);
    assert_int_equal(cl_portfind_usb(&s, ports, 4, &i, &err), CL_ERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "usb-serial=0000"));
    cl_portfind_parse("usb=0403:6001", &s, &err);
    assert_int_equal(cl_portfind_usb(&s, ports, 4, &i, &err), CL_ERR_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_usb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
