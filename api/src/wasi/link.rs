//! Glue between the linker and the calls: each `wasi_snapshot_preview1` import becomes a
//! host function that finds the caller's memory and the store's [`WasiCtx`], runs the
//! call, and returns its `errno`.

use super::calls;
use super::mem::GuestMem;
use super::types::WasiResult;
use super::{I32Exit, WasiCtx};
use crate::{Caller, Linker};
use anyhow::Result;
use gloam_interp::ExternAddr;
use std::sync::OnceLock;

/// The import module name of WASI preview 1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// The store's context and the calling instance's exported `memory`. A module without
/// one gets an empty memory: every pointer it passes is then `EFAULT`.
fn parts<'a, T: 'static>(
    caller: &'a mut Caller<'_, T>,
    get: impl Fn(&mut T) -> &mut WasiCtx,
) -> (&'a mut WasiCtx, GuestMem<'a>) {
    let addr = caller
        .inner
        .caller_instance()
        .and_then(|i| caller.inner.instance_export(i, "memory"));
    let bytes: &'a mut [u8] = match addr {
        Some(ExternAddr::Memory(m)) => match caller.inner.memories.get_mut(m as usize) {
            Some(mem) => &mut mem.data,
            None => &mut [],
        },
        _ => &mut [],
    };
    (get(caller.data), GuestMem::new(bytes))
}

fn tracing() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("GLOAM_WASI_TRACE").is_some_and(|v| v != "0"))
}

fn finish(name: &str, args: &[u64], r: WasiResult) -> i32 {
    let code = match r {
        Ok(()) => 0,
        Err(e) => e as u16 as i32,
    };
    if tracing() {
        let args: Vec<String> = args.iter().map(u64::to_string).collect();
        let what = match r {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("{e:?} ({code})"),
        };
        eprintln!("wasi: {name}({}) -> {what}", args.join(", "));
    }
    code
}

macro_rules! calls {
    ($linker:expr, $get:expr; $( $name:ident ( $($a:ident : $t:ty),* ); )*) => {$(
        $linker.func_wrap(
            MODULE,
            stringify!($name),
            move |mut caller: Caller<'_, T>, $($a: $t),*| -> Result<i32> {
                let (ctx, mut mem) = parts(&mut caller, $get);
                let r = calls::$name(ctx, &mut mem, $($a),*);
                Ok(finish(stringify!($name), &[$(u64::from($a)),*], r))
            },
        )?;
    )*};
}

/// Defines every `wasi_snapshot_preview1` function in `linker`; `get` finds the
/// [`WasiCtx`] in the store's data.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiCtx + Copy + Send + Sync + 'static,
) -> Result<()> {
    calls!(linker, get;
        args_get(argv: u32, buf: u32);
        args_sizes_get(argc: u32, buf_size: u32);
        environ_get(environ: u32, buf: u32);
        environ_sizes_get(count: u32, buf_size: u32);
        clock_res_get(id: u32, out: u32);
        clock_time_get(id: u32, precision: u64, out: u32);
        random_get(buf: u32, len: u32);
        sched_yield();
        proc_raise(sig: u32);
        fd_advise(fd: u32, offset: u64, len: u64, advice: u32);
        fd_allocate(fd: u32, offset: u64, len: u64);
        fd_close(fd: u32);
        fd_datasync(fd: u32);
        fd_fdstat_get(fd: u32, out: u32);
        fd_fdstat_set_flags(fd: u32, flags: u32);
        fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64);
        fd_filestat_get(fd: u32, out: u32);
        fd_filestat_set_size(fd: u32, size: u64);
        fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u32);
        fd_pread(fd: u32, iovs: u32, iovs_len: u32, offset: u64, out: u32);
        fd_prestat_get(fd: u32, out: u32);
        fd_prestat_dir_name(fd: u32, path: u32, path_len: u32);
        fd_pwrite(fd: u32, iovs: u32, iovs_len: u32, offset: u64, out: u32);
        fd_read(fd: u32, iovs: u32, iovs_len: u32, out: u32);
        fd_readdir(fd: u32, buf: u32, buf_len: u32, cookie: u64, out: u32);
        fd_renumber(fd: u32, to: u32);
        fd_seek(fd: u32, offset: u64, whence: u32, out: u32);
        fd_sync(fd: u32);
        fd_tell(fd: u32, out: u32);
        fd_write(fd: u32, iovs: u32, iovs_len: u32, out: u32);
        path_create_directory(fd: u32, path: u32, path_len: u32);
        path_filestat_get(fd: u32, flags: u32, path: u32, path_len: u32, out: u32);
        path_filestat_set_times(
            fd: u32, flags: u32, path: u32, path_len: u32, atim: u64, mtim: u64, fst: u32
        );
        path_link(
            old_fd: u32, old_flags: u32, old_path: u32, old_len: u32,
            new_fd: u32, new_path: u32, new_len: u32
        );
        path_open(
            fd: u32, dirflags: u32, path: u32, path_len: u32, oflags: u32,
            base: u64, inheriting: u64, fdflags: u32, out: u32
        );
        path_readlink(fd: u32, path: u32, path_len: u32, buf: u32, buf_len: u32, out: u32);
        path_remove_directory(fd: u32, path: u32, path_len: u32);
        path_rename(fd: u32, old_path: u32, old_len: u32, new_fd: u32, new_path: u32, new_len: u32);
        path_symlink(old_path: u32, old_len: u32, fd: u32, new_path: u32, new_len: u32);
        path_unlink_file(fd: u32, path: u32, path_len: u32);
        poll_oneoff(subs: u32, events: u32, nsubs: u32, out: u32);
        sock_accept(fd: u32, flags: u32, out: u32);
        sock_recv(fd: u32, iovs: u32, iovs_len: u32, flags: u32, out_len: u32, out_flags: u32);
        sock_send(fd: u32, iovs: u32, iovs_len: u32, flags: u32, out: u32);
        sock_shutdown(fd: u32, how: u32);
    );
    linker.func_wrap(MODULE, "proc_exit", |code: u32| -> Result<()> {
        if tracing() {
            eprintln!("wasi: proc_exit({code})");
        }
        Err(I32Exit(code as i32).into())
    })?;
    Ok(())
}
