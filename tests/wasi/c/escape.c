// Tries to leave the preopened directory (fd 3) with raw WASI calls and through libc.
// The host test sets up, beside the sandbox: `outside.txt`; inside it: `inside.txt`,
// `sub/`, `link_out` -> ../outside.txt, `link_abs` -> /absolute/path/of/outside.txt,
// `dir_out` -> .. . Every escape must fail; nothing outside may change.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define DIR 3
#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW

static void show(const char *what, __wasi_errno_t e) {
    printf("%-36s %s%d\n", what, e ? "errno " : "ok ", e);
}

static __wasi_errno_t try_open_at(__wasi_fd_t dir, const char *path, __wasi_lookupflags_t flags,
                                  __wasi_oflags_t of) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dir, flags, path, of,
                                        __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
    if (e == 0) {
        // Show what was read: the test checks no outside content ever appears.
        char buf[64] = {0};
        __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
        __wasi_size_t n;
        (void)__wasi_fd_read(fd, &iov, 1, &n);
        buf[strcspn(buf, "\n")] = 0;
        printf("  read '%s' from %s\n", buf, path);
        (void)__wasi_fd_close(fd);
    }
    return e;
}

static __wasi_errno_t try_open(const char *path, __wasi_lookupflags_t flags, __wasi_oflags_t of) {
    return try_open_at(DIR, path, flags, of);
}

int main(void) {
    __wasi_prestat_t pre;
    show("fd 3 is a preopen", __wasi_fd_prestat_get(DIR, &pre));
    show("open inside.txt", try_open("inside.txt", FOLLOW, 0));
    show("open sub/../inside.txt", try_open("sub/../inside.txt", FOLLOW, 0));

    show("open ..", try_open("..", FOLLOW, 0));
    show("open ../outside.txt", try_open("../outside.txt", FOLLOW, 0));
    show("open sub/../../outside.txt", try_open("sub/../../outside.txt", FOLLOW, 0));
    show("open /etc/passwd", try_open("/etc/passwd", FOLLOW, 0));
    show("open link_out (follow)", try_open("link_out", FOLLOW, 0));
    show("open link_out (nofollow)", try_open("link_out", 0, 0));
    show("open link_abs (follow)", try_open("link_abs", FOLLOW, 0));
    show("open dir_out/outside.txt", try_open("dir_out/outside.txt", 0, 0));
    show("create ../created.txt", try_open("../created.txt", 0, __WASI_OFLAGS_CREAT));
    show("create via link_out", try_open("link_out", FOLLOW, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC));

    __wasi_filestat_t st;
    show("stat ../outside.txt", __wasi_path_filestat_get(DIR, FOLLOW, "../outside.txt", &st));
    show("stat link_out (follow)", __wasi_path_filestat_get(DIR, FOLLOW, "link_out", &st));
    show("stat link_out (nofollow)", __wasi_path_filestat_get(DIR, 0, "link_out", &st));
    show("mkdir ../newdir", __wasi_path_create_directory(DIR, "../newdir"));
    show("mkdir dir_out/newdir", __wasi_path_create_directory(DIR, "dir_out/newdir"));
    show("unlink ../outside.txt", __wasi_path_unlink_file(DIR, "../outside.txt"));
    show("unlink dir_out/outside.txt", __wasi_path_unlink_file(DIR, "dir_out/outside.txt"));
    show("rename inside -> ../stolen.txt", __wasi_path_rename(DIR, "inside.txt", DIR, "../stolen.txt"));
    show("rename ../outside.txt -> in", __wasi_path_rename(DIR, "../outside.txt", DIR, "got.txt"));
    show("link ../outside.txt -> in", __wasi_path_link(DIR, 0, "../outside.txt", DIR, "hard.txt"));
    show("link link_out (follow) -> in", __wasi_path_link(DIR, FOLLOW, "link_out", DIR, "hard.txt"));
    show("symlink abs target", __wasi_path_symlink("/etc/passwd", DIR, "abs2"));
    show("symlink ../outside.txt", __wasi_path_symlink("../outside.txt", DIR, "rel_out"));
    show("open rel_out (follow)", try_open("rel_out", FOLLOW, 0));
    show("symlink to ../sandbox-name", __wasi_path_symlink("../../x", DIR, "sub/deep_out"));
    show("open sub/deep_out", try_open("sub/deep_out", FOLLOW, 0));
    show("rmdir ..", __wasi_path_remove_directory(DIR, ".."));
    show("rmdir .", __wasi_path_remove_directory(DIR, "."));

    // A directory descriptor whose directory is moved away and replaced by a link out:
    // the descriptor must not follow its old name through the link.
    __wasi_fd_t sub;
    show("open sub as a directory",
         __wasi_path_open(DIR, 0, "sub", __WASI_OFLAGS_DIRECTORY,
                          __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_FD_READDIR |
                              __WASI_RIGHTS_FD_FILESTAT_GET,
                          __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0, &sub));
    show("open sub/../inside.txt via sub", try_open_at(sub, "../inside.txt", FOLLOW, 0));
    show("rename sub -> sub_moved", __wasi_path_rename(DIR, "sub", DIR, "sub_moved"));
    show("symlink sub -> ..", __wasi_path_symlink("..", DIR, "sub"));
    show("open outside.txt via moved sub", try_open_at(sub, "outside.txt", FOLLOW, 0));
    show("open deep_out via moved sub", try_open_at(sub, "deep_out", 0, 0));
    __wasi_filestat_t st2;
    show("fd_filestat_get of moved sub", __wasi_fd_filestat_get(sub, &st2));
    __wasi_size_t used = 0;
    static uint8_t dirbuf[4096];
    show("fd_readdir of moved sub", __wasi_fd_readdir(sub, dirbuf, sizeof dirbuf, 0, &used));
    for (__wasi_size_t at = 0; at + sizeof(__wasi_dirent_t) <= used;) {
        __wasi_dirent_t *d = (__wasi_dirent_t *)(dirbuf + at);
        const char *name = (const char *)(d + 1);
        if (at + sizeof *d + d->d_namlen > used) break;
        if (d->d_namlen == 11 && memcmp(name, "outside.txt", 11) == 0) printf("  LISTED outside.txt\n");
        at += sizeof *d + d->d_namlen;
    }
    show("open sub_moved/deep_out (nofollow)", try_open("sub_moved/deep_out", 0, 0));

    char buf[128] = {0};
    __wasi_size_t n = 0;
    __wasi_errno_t e = __wasi_path_readlink(DIR, "link_out", (uint8_t *)buf, sizeof buf, &n);
    show("readlink link_out (text only)", e);
    printf("  link_out -> '%.*s'\n", (int)n, buf);

    // Through libc: it resolves paths against its preopens before calling the host.
    FILE *f = fopen("../outside.txt", "r");
    printf("libc fopen ../outside.txt: %s\n", f ? "OPENED" : "refused");
    f = fopen("/etc/passwd", "r");
    printf("libc fopen /etc/passwd: %s\n", f ? "OPENED" : "refused");
    f = fopen("link_out", "r");
    printf("libc fopen link_out: %s\n", f ? "OPENED" : "refused");
    f = fopen("inside.txt", "r");
    printf("libc fopen inside.txt: %s\n", f ? "opened" : "REFUSED");
    return 0;
}
