// Standard input: `stdin.wasm` reads everything, prints byte and line counts and the
// text upper-cased; `stdin.wasm poll` first polls stdin with a 100 ms timeout, prints
// whether it was ready, then waits for a line with no timeout, echoes it, and counts
// the bytes after it.
#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "poll") == 0) {
        struct pollfd p = {.fd = 0, .events = POLLIN};
        int r = poll(&p, 1, 100);
        printf("first poll: %s\n", r == 0 ? "timeout" : (p.revents & POLLIN) ? "ready" : "other");
        fflush(stdout);
        p.revents = 0;
        r = poll(&p, 1, -1);
        printf("second poll: %s\n", r == 1 && (p.revents & POLLIN) ? "ready" : "other");
        char line[256];
        if (fgets(line, sizeof line, stdin)) printf("line: %s", line);
        size_t rest = 0;
        while (getchar() != EOF) rest++;
        printf("then %zu more bytes\n", rest);
        return 0;
    }
    size_t bytes = 0, lines = 0;
    int c;
    while ((c = getchar()) != EOF) {
        bytes++;
        if (c == '\n') lines++;
        putchar(toupper(c));
    }
    printf("bytes=%zu lines=%zu\n", bytes, lines);
    return 0;
}
