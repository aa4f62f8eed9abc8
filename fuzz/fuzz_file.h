/*
 * fuzz_file: the scratch file of a fuzz target whose parser reads a path
 * (session reader, points CSV, config file).  One file per process and name,
 * in /dev/shm when it exists (no disk traffic), else in $TMPDIR or /tmp.
 * Failures abort: the fuzzer cannot go on without its file.
 */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_CHECK(c)                                                                          \
    do {                                                                                       \
        if (!(c))                                                                              \
            fuzz_fail(__FILE__, __LINE__, #c);                                                 \
    } while (0)

/* Print "FILE:LINE: invariant failed: WHAT" and abort. */
_Noreturn void fuzz_fail(const char *file, int line, const char *what);

/* Write `size` bytes to the scratch file `name` ("session.h5") and return
 * its path (valid until the next call with the same name). */
const char *fuzz_file_write(const char *name, const uint8_t *data, size_t size);

/* `data` as a new NUL-terminated string (free()). */
char *fuzz_file_text(const uint8_t *data, size_t size);

#endif
