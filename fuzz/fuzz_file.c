/* fuzz_file: scratch files and checks for the fuzz targets. */
#include "fuzz_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Noreturn void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
    abort();
}

#define MAX_FILES 4
static char paths[MAX_FILES][4096];
static int npaths;

static void remove_files(void)
{
    for (int i = 0; i < npaths; i++)
        unlink(paths[i]);
}

const char *fuzz_file_write(const char *name, const uint8_t *data, size_t size)
{
    char path[4096];
    struct stat st;
    int slot = 0;
    const char *dir = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : NULL;
    if (!dir)
        dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof path, "%s/cuplab-fuzz-%ld-%s", dir, (long)getpid(), name);
    while (slot < npaths && strcmp(paths[slot], path) != 0)
        slot++;
    if (slot == npaths) { /* first use of this name: remove it at exit */
        FUZZ_CHECK(npaths < MAX_FILES);
        if (npaths++ == 0)
            atexit(remove_files);
        strcpy(paths[slot], path);
    }
    FILE *f = fopen(paths[slot], "wb");
    FUZZ_CHECK(f);
    FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    FUZZ_CHECK(fclose(f) == 0);
    return paths[slot];
}

char *fuzz_file_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}
