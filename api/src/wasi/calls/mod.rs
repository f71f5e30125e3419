//! The calls themselves, one function per import, grouped by area. Each takes the
//! context, the guest memory and the import's parameters, and returns `Ok(())` or the
//! `errno` the guest sees. This file: arguments, environment, clocks, randomness,
//! scheduling, signals and sockets.

// Each call's parameters are the import's, one for one.
#![allow(clippy::too_many_arguments)]

mod fd;
mod path;
mod poll;

pub(crate) use fd::*;
pub(crate) use path::*;
pub(crate) use poll::*;

use super::WasiCtx;
use super::mem::GuestMem;
use super::table::Handle;
use super::types::{Errno, WasiResult, clock};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Writes a list of NUL-terminated strings the C way: pointers at `list`, bytes at `buf`.
fn write_strings(mem: &mut GuestMem, items: &[Vec<u8>], list: u32, buf: u32) -> WasiResult {
    let mut at = buf;
    for (i, item) in items.iter().enumerate() {
        let slot = u32::try_from(i)
            .ok()
            .and_then(|i| i.checked_mul(4))
            .and_then(|o| list.checked_add(o))
            .ok_or(Errno::Fault)?;
        mem.write_u32(slot, at)?;
        mem.write_bytes(at, item)?;
        let len = u32::try_from(item.len()).map_err(|_| Errno::Fault)?;
        at = at.checked_add(len).ok_or(Errno::Fault)?;
    }
    Ok(())
}

fn write_sizes(mem: &mut GuestMem, items: &[Vec<u8>], count: u32, size: u32) -> WasiResult {
    let n = u32::try_from(items.len()).map_err(|_| Errno::Overflow)?;
    let bytes: usize = items.iter().map(Vec::len).sum();
    let bytes = u32::try_from(bytes).map_err(|_| Errno::Overflow)?;
    mem.write_u32(count, n)?;
    mem.write_u32(size, bytes)
}

pub(crate) fn args_get(ctx: &mut WasiCtx, mem: &mut GuestMem, argv: u32, buf: u32) -> WasiResult {
    write_strings(mem, &ctx.args, argv, buf)
}

pub(crate) fn args_sizes_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    argc: u32,
    buf_size: u32,
) -> WasiResult {
    write_sizes(mem, &ctx.args, argc, buf_size)
}

pub(crate) fn environ_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    environ: u32,
    buf: u32,
) -> WasiResult {
    write_strings(mem, &ctx.env, environ, buf)
}

pub(crate) fn environ_sizes_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    count: u32,
    buf_size: u32,
) -> WasiResult {
    write_sizes(mem, &ctx.env, count, buf_size)
}

/// The origin of the monotonic clock: the first time any context asked for it.
fn monotonic_origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

fn saturating_nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The current time of clock `id` in nanoseconds.
///
/// `std` has no CPU-time clock, so the process and thread CPU-time clocks report the time
/// since the context was built: an upper bound on the CPU time of a single-threaded
/// guest, and what `clock()` needs to measure elapsed work.
pub(crate) fn now(ctx: &WasiCtx, id: u32) -> WasiResult<u64> {
    match id {
        clock::REALTIME => Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(saturating_nanos)
            .unwrap_or(0)),
        clock::MONOTONIC => Ok(saturating_nanos(monotonic_origin().elapsed())),
        clock::PROCESS_CPUTIME | clock::THREAD_CPUTIME => Ok(saturating_nanos(ctx.start.elapsed())),
        _ => Err(Errno::Inval),
    }
}

pub(crate) fn clock_res_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    id: u32,
    out: u32,
) -> WasiResult {
    now(ctx, id)?;
    // `Instant` and `SystemTime` carry nanoseconds on the hosts we know; the OS may tick
    // more coarsely, but no portable call tells.
    mem.write_u64(out, 1)
}

pub(crate) fn clock_time_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    id: u32,
    _precision: u64,
    out: u32,
) -> WasiResult {
    let t = now(ctx, id)?;
    mem.write_u64(out, t)
}

pub(crate) fn random_get(_ctx: &mut WasiCtx, mem: &mut GuestMem, buf: u32, len: u32) -> WasiResult {
    let dst = mem.slice_mut(buf, len)?;
    super::host::random_fill(dst);
    Ok(())
}

pub(crate) fn sched_yield(_ctx: &mut WasiCtx, _mem: &mut GuestMem) -> WasiResult {
    std::thread::yield_now();
    Ok(())
}

/// Signals are not delivered to guests.
pub(crate) fn proc_raise(_ctx: &mut WasiCtx, _mem: &mut GuestMem, _sig: u32) -> WasiResult {
    Err(Errno::NotSup)
}

/// No descriptor is ever a socket: `EBADF` for a closed one, `ENOTSOCK` otherwise.
fn not_a_socket(ctx: &WasiCtx, fd: u32) -> WasiResult {
    let e = ctx.table.get(fd)?;
    match e.handle {
        Handle::Stdin(_) | Handle::Stdout(_) | Handle::File(_) | Handle::Dir(_) => {
            Err(Errno::NotSock)
        }
    }
}

pub(crate) fn sock_accept(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem,
    fd: u32,
    _flags: u32,
    _out: u32,
) -> WasiResult {
    not_a_socket(ctx, fd)
}

pub(crate) fn sock_recv(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem,
    fd: u32,
    _iovs: u32,
    _iovs_len: u32,
    _flags: u32,
    _out_len: u32,
    _out_flags: u32,
) -> WasiResult {
    not_a_socket(ctx, fd)
}

pub(crate) fn sock_send(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem,
    fd: u32,
    _iovs: u32,
    _iovs_len: u32,
    _flags: u32,
    _out: u32,
) -> WasiResult {
    not_a_socket(ctx, fd)
}

pub(crate) fn sock_shutdown(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem,
    fd: u32,
    _how: u32,
) -> WasiResult {
    not_a_socket(ctx, fd)
}
