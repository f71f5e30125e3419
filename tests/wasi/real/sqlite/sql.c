/* `sql.wasm DB [FILE]`: runs the SQL in FILE (or stdin) against database DB and prints
   each result row as `a|b|c`. Our own small front end for the SQLite library. */
#include <stdio.h>
#include <stdlib.h>
#include "sqlite3.h"

static int row(void *unused, int n, char **vals, char **names) {
    (void)unused; (void)names;
    for (int i = 0; i < n; i++) printf("%s%s", i ? "|" : "", vals[i] ? vals[i] : "NULL");
    printf("\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: sql DB [FILE]\n"); return 2; }
    FILE *in = argc > 2 ? fopen(argv[2], "r") : stdin;
    if (!in) { perror(argv[2]); return 1; }
    size_t cap = 1 << 16, len = 0, n;
    char *sql = malloc(cap);
    while ((n = fread(sql + len, 1, cap - len - 1, in)) > 0) {
        len += n;
        if (cap - len < 4096) sql = realloc(sql, cap *= 2);
    }
    sql[len] = 0;
    sqlite3 *db;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK) {
        fprintf(stderr, "open %s: %s\n", argv[1], sqlite3_errmsg(db));
        return 1;
    }
    char *err = NULL;
    if (sqlite3_exec(db, sql, row, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    sqlite3_close(db);
    return 0;
}
