// Filesystem calls inside a preopened directory (run with the sandbox as `.`): each
// step prints `ok` or the errno it got, so the expected output pins the error numbers.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static void report(const char *what, int r) {
    if (r < 0) printf("%-28s errno %d (%s)\n", what, errno, strerror(errno));
    else printf("%-28s ok\n", what);
}

int main(void) {
    char buf[64];
    struct stat st;

    report("mkdir d", mkdir("d", 0755));
    report("mkdir d again", mkdir("d", 0755));
    report("mkdir missing/x", mkdir("missing/x", 0755));

    int fd = open("d/f.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    report("create d/f.txt", fd);
    report("write", (int)write(fd, "hello world\n", 12) == 12 ? 0 : -1);
    report("fstat", fstat(fd, &st));
    printf("size=%lld regular=%d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    memset(buf, 0, sizeof buf);
    report("pread 5 @6", (int)pread(fd, buf, 5, 6) == 5 ? 0 : -1);
    printf("pread got '%s'\n", buf);
    report("pwrite W @6", (int)pwrite(fd, "W", 1, 6) == 1 ? 0 : -1);
    printf("lseek end -> %lld\n", (long long)lseek(fd, 0, SEEK_END));
    printf("lseek set 2 -> %lld\n", (long long)lseek(fd, 2, SEEK_SET));
    memset(buf, 0, sizeof buf);
    report("read 4", (int)read(fd, buf, 4) == 4 ? 0 : -1);
    printf("read got '%s', tell %lld\n", buf, (long long)lseek(fd, 0, SEEK_CUR));
    report("lseek before 0", (int)lseek(fd, -100, SEEK_SET));
    report("ftruncate 5", ftruncate(fd, 5));
    report("close", close(fd));
    report("close again", close(fd));

    fd = open("d/f.txt", O_WRONLY | O_APPEND);
    report("open append", fd);
    report("append !!", (int)write(fd, "!!", 2) == 2 ? 0 : -1);
    close(fd);
    fd = open("d/f.txt", O_RDONLY);
    memset(buf, 0, sizeof buf);
    read(fd, buf, sizeof buf - 1);
    printf("content '%s'\n", buf);
    report("write to read-only fd", (int)write(fd, "x", 1));
    close(fd);

    report("open missing", open("d/missing", O_RDONLY));
    report("open excl existing", open("d/f.txt", O_CREAT | O_EXCL | O_WRONLY, 0644));
    report("open dir for writing", open("d", O_WRONLY));
    report("open file as dir", open("d/f.txt", O_RDONLY | O_DIRECTORY));
    report("open file/ ", open("d/f.txt/", O_RDONLY));

    report("rename f -> g", rename("d/f.txt", "d/g.txt"));
    report("stat old name", stat("d/f.txt", &st));
    report("link g -> h", link("d/g.txt", "d/h.txt"));
    report("stat g", stat("d/g.txt", &st));
    printf("nlink=%lld size=%lld\n", (long long)st.st_nlink, (long long)st.st_size);

    report("symlink s -> g.txt", symlink("g.txt", "d/s"));
    memset(buf, 0, sizeof buf);
    int n = (int)readlink("d/s", buf, sizeof buf);
    printf("readlink -> %d '%s'\n", n, buf);
    report("readlink of a file", (int)readlink("d/g.txt", buf, sizeof buf));
    report("lstat s", lstat("d/s", &st));
    printf("lstat: link=%d\n", S_ISLNK(st.st_mode));
    report("stat s", stat("d/s", &st));
    printf("stat: regular=%d size=%lld\n", S_ISREG(st.st_mode), (long long)st.st_size);
    fd = open("d/s", O_RDONLY);
    memset(buf, 0, sizeof buf);
    read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("through link '%s'\n", buf);
    report("open s O_NOFOLLOW", open("d/s", O_RDONLY | O_NOFOLLOW));
    report("symlink dangling", symlink("nowhere", "d/dangling"));
    report("create through dangling", (fd = open("d/dangling", O_CREAT | O_WRONLY, 0644)));
    if (fd >= 0) close(fd);
    report("stat d/nowhere", stat("d/nowhere", &st));

    struct timeval tv[2] = {{1000000000, 0}, {1234567890, 0}};
    report("utimes g", utimes("d/g.txt", tv));
    stat("d/g.txt", &st);
    printf("mtime=%lld atime=%lld\n", (long long)st.st_mtim.tv_sec, (long long)st.st_atim.tv_sec);

    report("unlink dir", unlink("d"));
    report("rmdir file", rmdir("d/g.txt"));
    report("rmdir non-empty", rmdir("d"));
    report("rename file over dir", rename("d/g.txt", "d"));
    report("mkdir d/sub", mkdir("d/sub", 0755));
    report("rename dir over file", rename("d/sub", "d/g.txt"));
    report("rmdir d/sub", rmdir("d/sub"));
    report("unlink s", unlink("d/s"));
    report("unlink dangling", unlink("d/dangling"));
    report("unlink nowhere", unlink("d/nowhere"));
    report("unlink h", unlink("d/h.txt"));
    report("unlink g", unlink("d/g.txt"));
    report("unlink g again", unlink("d/g.txt"));
    report("rmdir d", rmdir("d"));
    report("opendir d", opendir("d") ? 0 : -1);
    return 0;
}
