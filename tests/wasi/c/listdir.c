// Lists directories: `listdir.wasm DIR` prints DIR's entries sorted with their types;
// `listdir.wasm --many DIR N` creates N files in DIR, then counts what readdir returns.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *kind(unsigned char t) {
    switch (t) {
    case DT_DIR: return "dir";
    case DT_REG: return "file";
    case DT_LNK: return "link";
    default: return "other";
    }
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--many") == 0) {
        int n = atoi(argv[3]);
        mkdir(argv[2], 0755);
        char path[512];
        for (int i = 0; i < n; i++) {
            snprintf(path, sizeof path, "%s/file-with-a-longish-name-%04d", argv[2], i);
            int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
            if (fd < 0) {
                printf("create %s: %s\n", path, strerror(errno));
                return 1;
            }
            close(fd);
        }
        DIR *d = opendir(argv[2]);
        int count = 0, dots = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) dots++;
            else count++;
        }
        closedir(d);
        printf("created %d, listed %d entries (+%d dot entries)\n", n, count, dots);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: listdir DIR | --many DIR N\n");
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        printf("opendir %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256) {
        char line[300];
        snprintf(line, sizeof line, "%s %s", e->d_name, kind(e->d_type));
        names[n++] = strdup(line);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (int i = 0; i < n; i++) printf("%s\n", names[i]);
    return 0;
}
