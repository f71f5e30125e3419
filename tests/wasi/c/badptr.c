// Hostile arguments: pointers and lengths outside linear memory, bad descriptors, bad
// strings. Every call must fail with an errno; none may crash the host.
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <wasi/api.h>

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))
IMPORT("fd_write") int32_t raw_fd_write(int32_t fd, int32_t iovs, int32_t n, int32_t out);
IMPORT("fd_read") int32_t raw_fd_read(int32_t fd, int32_t iovs, int32_t n, int32_t out);
IMPORT("args_get") int32_t raw_args_get(int32_t argv, int32_t buf);
IMPORT("args_sizes_get") int32_t raw_args_sizes_get(int32_t argc, int32_t size);
IMPORT("environ_get") int32_t raw_environ_get(int32_t env, int32_t buf);
IMPORT("random_get") int32_t raw_random_get(int32_t buf, int32_t len);
IMPORT("clock_time_get") int32_t raw_clock_time_get(int32_t id, int64_t prec, int32_t out);
IMPORT("path_open") int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t len,
                                          int32_t oflags, int64_t base, int64_t inh,
                                          int32_t fdflags, int32_t out);
IMPORT("poll_oneoff") int32_t raw_poll_oneoff(int32_t in, int32_t out, int32_t n, int32_t nout);
IMPORT("fd_prestat_dir_name") int32_t raw_prestat_dir_name(int32_t fd, int32_t buf, int32_t len);
IMPORT("proc_raise") int32_t raw_proc_raise(int32_t sig);
IMPORT("fd_readdir") int32_t raw_fd_readdir(int32_t fd, int32_t buf, int32_t len, int64_t cookie,
                                            int32_t out);

static void show(const char *what, int32_t e) { printf("%-34s %d\n", what, e); }

int main(void) {
    const int32_t far = (int32_t)0xfffffff0u;
    static __wasi_ciovec_t iov[2];
    static uint32_t n;
    iov[0].buf = (const uint8_t *)"x";
    iov[0].buf_len = 1;
    iov[1].buf = (const uint8_t *)(uintptr_t)far;
    iov[1].buf_len = 100;
    show("fd_write iovec past memory", raw_fd_write(1, (int32_t)(uintptr_t)iov, 2, (int32_t)(uintptr_t)&n));
    show("fd_write iovec array past memory", raw_fd_write(1, far, 4, (int32_t)(uintptr_t)&n));
    show("fd_write huge iovec count", raw_fd_write(1, (int32_t)(uintptr_t)iov, 0x7fffffff, (int32_t)(uintptr_t)&n));
    show("fd_write result past memory", raw_fd_write(1, (int32_t)(uintptr_t)iov, 1, far + 14));
    show("fd_read into far buffer", raw_fd_read(0, (int32_t)(uintptr_t)&iov[1], 1, (int32_t)(uintptr_t)&n));
    show("args_sizes_get far", raw_args_sizes_get(far, far));
    show("args_get far", raw_args_get(far, far));
    show("environ_get far", raw_environ_get(16, far));
    show("random_get far", raw_random_get(far, 64));
    show("random_get wraps around", raw_random_get(16, -1));
    show("clock_time_get far", raw_clock_time_get(0, 1, far + 12));
    show("path_open path past memory", raw_path_open(3, 0, far, 100, 0, 0, 0, 0, (int32_t)(uintptr_t)&n));
    show("path_open fd out past memory", raw_path_open(3, 0, (int32_t)(uintptr_t)".", 1, 0, 0, 0, 0, far + 14));
    static const char bad_utf8[] = "\xff\xfe";
    show("path_open invalid UTF-8", raw_path_open(3, 0, (int32_t)(uintptr_t)bad_utf8, 2, 0, 0, 0, 0, (int32_t)(uintptr_t)&n));
    show("poll_oneoff far", raw_poll_oneoff(far, far, 1, (int32_t)(uintptr_t)&n));
    show("poll_oneoff zero subscriptions", raw_poll_oneoff(16, 16, 0, (int32_t)(uintptr_t)&n));
    show("poll_oneoff huge count", raw_poll_oneoff(16, 16, 0x7fffffff, (int32_t)(uintptr_t)&n));
    show("prestat_dir_name short buffer", raw_prestat_dir_name(3, (int32_t)(uintptr_t)&n, 0));
    show("prestat_dir_name far", raw_prestat_dir_name(3, far + 15, 100));
    show("fd_readdir far", raw_fd_readdir(3, far, 100, 0, (int32_t)(uintptr_t)&n));
    show("fd_write closed fd", raw_fd_write(99, (int32_t)(uintptr_t)iov, 1, (int32_t)(uintptr_t)&n));
    show("fd_write to stdin", raw_fd_write(0, (int32_t)(uintptr_t)iov, 1, (int32_t)(uintptr_t)&n));
    __wasi_filesize_t pos;
    show("fd_seek on stdout", __wasi_fd_seek(1, 0, __WASI_WHENCE_SET, &pos));
    show("fd_seek bad whence", __wasi_fd_seek(3, 0, 7, &pos));
    __wasi_fd_t fd;
    show("path_open on stdout", __wasi_path_open(1, 0, "x", 0, 0, 0, 0, &fd));
    show("path_open empty path", __wasi_path_open(3, 0, "", 0, 0, 0, 0, &fd));
    show("fd_close 1000", __wasi_fd_close(1000));
    show("fd_renumber to closed", __wasi_fd_renumber(3, 1000));
    show("proc_raise", raw_proc_raise(15));
    show("sock_shutdown on a file", __wasi_sock_shutdown(1, __WASI_SDFLAGS_WR));
    show("sched_yield", __wasi_sched_yield());
    printf("still alive\n");
    return 0;
}
