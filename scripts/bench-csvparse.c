/* bench-csvparse.c — the libcsv parse-only baseline for scripts/bench.
 *
 * Streams FILE through libcsv's csv_parse with callbacks that only count fields and records,
 * using the same options as pipeline/csvread.c (CSV_STRICT | CSV_STRICT_FINI, comma). No
 * validation, no number parsing, no storage: this is the floor any CSV ingest built on
 * libcsv can reach, single-threaded.
 *
 *   cc -O2 -o build/bench/csvparse scripts/bench-csvparse.c -lcsv
 *   build/bench/csvparse FILE      prints "records N fields M bytes B"
 */
#define _POSIX_C_SOURCE 200809L
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct counts {
    unsigned long long fields, records, field_bytes;
};

static void on_field(void *s, size_t len, void *data)
{
    struct counts *c = data;
    (void)s;
    c->fields++;
    c->field_bytes += len;
}

static void on_record(int ch, void *data)
{
    struct counts *c = data;
    (void)ch;
    c->records++;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 4;
    }
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        fputs("csv_init failed\n", stderr);
        return 5;
    }
    enum { BUF = 1 << 20 };
    char *buf = malloc(BUF);
    if (!buf)
        return 5;
    struct counts c = {0, 0, 0};
    unsigned long long bytes = 0;
    for (;;) {
        ssize_t n = read(fd, buf, BUF);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
            return 4;
        }
        if (n == 0)
            break;
        bytes += (unsigned long long)n;
        if (csv_parse(&p, buf, (size_t)n, on_field, on_record, &c) != (size_t)n) {
            fprintf(stderr, "%s: %s\n", argv[1], csv_strerror(csv_error(&p)));
            return 3;
        }
    }
    if (csv_fini(&p, on_field, on_record, &c) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], csv_strerror(csv_error(&p)));
        return 3;
    }
    csv_free(&p);
    free(buf);
    close(fd);
    printf("records %llu fields %llu bytes %llu field_bytes %llu\n", c.records, c.fields, bytes,
           c.field_bytes);
    return 0;
}
