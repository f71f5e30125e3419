// proc_exit from deep in the call stack: `exit.wasm CODE [direct]`. `exit` runs the
// atexit handler and flushes stdio; `_Exit` (direct) calls proc_exit at once.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bye(void) { printf("atexit handler ran\n"); }

static int deep(int n, int code, int direct) {
    if (n == 0) {
        if (direct) _Exit(code);
        exit(code);
    }
    return deep(n - 1, code, direct) + 1;
}

int main(int argc, char **argv) {
    atexit(bye);
    int code = argc > 1 ? atoi(argv[1]) : 0;
    int direct = argc > 2 && strcmp(argv[2], "direct") == 0;
    printf("exiting with %d%s\n", code, direct ? " (direct)" : "");
    if (direct) fflush(stdout);
    deep(200, code, direct);
    printf("not reached\n");
    return 99;
}
