// Copies a file inside a preopened directory: `copy.wasm SRC DST`.
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: copy SRC DST\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    if (!in) {
        fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    FILE *out = fopen(argv[2], "wb");
    if (!out) {
        fprintf(stderr, "create %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    char buf[4096];
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
        if (fwrite(buf, 1, n, out) != n) {
            fprintf(stderr, "write: %s\n", strerror(errno));
            return 1;
        }
        total += n;
    }
    fclose(in);
    if (fclose(out) != 0) {
        fprintf(stderr, "close: %s\n", strerror(errno));
        return 1;
    }
    // Read the copy's size back through a fresh descriptor.
    FILE *check = fopen(argv[2], "rb");
    fseek(check, 0, SEEK_END);
    long size = ftell(check);
    fclose(check);
    printf("copied %zu bytes, %s is %ld bytes\n", total, argv[2], size);
    return 0;
}
