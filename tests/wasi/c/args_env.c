// Prints its arguments and environment (sorted); exits with $EXIT_CODE if set.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    int n = 0;
    while (environ[n]) n++;
    char **env = malloc((n + 1) * sizeof *env);
    memcpy(env, environ, n * sizeof *env);
    qsort(env, n, sizeof *env, by_name);
    for (int i = 0; i < n; i++) printf("env %s\n", env[i]);
    const char *code = getenv("EXIT_CODE");
    return code ? atoi(code) : 0;
}
