//! `poll_oneoff`: waiting on clocks and descriptors.
//!
//! Regular files, directories and output streams are always ready. Embedder-supplied
//! input is always ready too (a read will not block on it for long). Inherited stdin is
//! ready when the shared stdin buffer has bytes or input has ended (see `stdio.rs`); a
//! poll that must wait for it sleeps on that buffer until the earliest clock deadline.

use super::super::WasiCtx;
use super::super::mem::GuestMem;
use super::super::stdio::{self, Readiness};
use super::super::table::Handle;
use super::super::types::{
    EVENT_FD_READWRITE_HANGUP, Errno, SUBSCRIPTION_CLOCK_ABSTIME, WasiResult, clock, eventtype,
    layout, rights,
};
use super::now;
use std::io::Seek;
use std::time::{Duration, Instant};

enum Sub {
    /// Fires at `deadline` (`None`: too far away to ever fire).
    Clock(Option<Instant>),
    Read(u32),
    Write(u32),
}

struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

impl Event {
    fn bytes(&self) -> [u8; layout::EVENT_SIZE as usize] {
        let mut b = [0u8; layout::EVENT_SIZE as usize];
        b[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&(self.error as u16).to_le_bytes());
        b[10] = self.kind;
        b[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
        b[24..26].copy_from_slice(&self.flags.to_le_bytes());
        b
    }
}

/// What one fd subscription looks like now.
enum FdState {
    Ready(Readiness),
    Failed(Errno),
    /// Inherited stdin with nothing to read yet.
    Pending,
}

fn fd_state(ctx: &mut WasiCtx, fd: u32, read: bool) -> FdState {
    let e = match ctx.table.get_mut(fd) {
        Ok(e) => e,
        Err(err) => return FdState::Failed(err),
    };
    if e.require(rights::POLL_FD_READWRITE).is_err() {
        return FdState::Failed(Errno::NotCapable);
    }
    let ready = |nbytes| {
        FdState::Ready(Readiness {
            nbytes,
            hangup: false,
        })
    };
    match (&mut e.handle, read) {
        (Handle::Stdin(input), true) => match input.poll_now() {
            Some(r) => FdState::Ready(r),
            None if input.is_inherited() => FdState::Pending,
            None => ready(0),
        },
        (Handle::File(f), true) => {
            let len = f.file.metadata().map(|m| m.len()).unwrap_or(0);
            let pos = f.file.stream_position().unwrap_or(0);
            ready(len.saturating_sub(pos))
        }
        (Handle::Dir(_), _) => FdState::Failed(Errno::Badf),
        (Handle::Stdout(_) | Handle::File(_), false) => ready(0),
        (Handle::Stdin(_), false) | (Handle::Stdout(_), true) => FdState::Failed(Errno::Badf),
    }
}

pub(crate) fn poll_oneoff(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    subs_ptr: u32,
    events_ptr: u32,
    nsubs: u32,
    out: u32,
) -> WasiResult {
    if nsubs == 0 {
        return Err(Errno::Inval);
    }
    let in_size = nsubs
        .checked_mul(layout::SUBSCRIPTION_SIZE)
        .ok_or(Errno::Fault)?;
    let out_size = nsubs.checked_mul(layout::EVENT_SIZE).ok_or(Errno::Fault)?;
    mem.slice(subs_ptr, in_size)?;
    mem.slice(events_ptr, out_size)?;
    mem.slice(out, 4)?;

    let start = Instant::now();
    let mut subs = Vec::with_capacity(nsubs as usize);
    let mut events: Vec<Event> = Vec::new();
    for i in 0..nsubs {
        let at = subs_ptr + i * layout::SUBSCRIPTION_SIZE;
        let userdata = mem.read_u64(at)?;
        let tag = mem.read_u8(at + 8)?;
        let sub = match tag {
            eventtype::CLOCK => {
                let id = mem.read_u32(at + 16)?;
                let timeout = mem.read_u64(at + 24)?;
                let flags = mem.read_u16(at + 40)?;
                let wait = if flags & SUBSCRIPTION_CLOCK_ABSTIME != 0 {
                    match id {
                        clock::REALTIME | clock::MONOTONIC => {
                            now(ctx, id).map(|t| timeout.saturating_sub(t))
                        }
                        _ => Err(Errno::Inval),
                    }
                } else {
                    now(ctx, id).map(|_| timeout)
                };
                match wait {
                    Ok(ns) => Sub::Clock(start.checked_add(Duration::from_nanos(ns))),
                    Err(error) => {
                        events.push(Event {
                            userdata,
                            error,
                            kind: tag,
                            nbytes: 0,
                            flags: 0,
                        });
                        continue;
                    }
                }
            }
            eventtype::FD_READ => Sub::Read(mem.read_u32(at + 16)?),
            eventtype::FD_WRITE => Sub::Write(mem.read_u32(at + 16)?),
            _ => return Err(Errno::Inval),
        };
        subs.push((userdata, tag, sub));
    }

    loop {
        let mut pending_stdin = false;
        let now_i = Instant::now();
        let mut earliest: Option<Instant> = None;
        for (userdata, tag, sub) in &subs {
            let (userdata, kind) = (*userdata, *tag);
            match sub {
                Sub::Clock(deadline) => match deadline {
                    Some(d) if *d <= now_i => events.push(Event {
                        userdata,
                        error: Errno::Success,
                        kind,
                        nbytes: 0,
                        flags: 0,
                    }),
                    Some(d) => earliest = Some(earliest.map_or(*d, |e: Instant| e.min(*d))),
                    None => {}
                },
                Sub::Read(fd) | Sub::Write(fd) => {
                    match fd_state(ctx, *fd, matches!(sub, Sub::Read(_))) {
                        FdState::Ready(r) => events.push(Event {
                            userdata,
                            error: Errno::Success,
                            kind,
                            nbytes: r.nbytes,
                            flags: if r.hangup {
                                EVENT_FD_READWRITE_HANGUP
                            } else {
                                0
                            },
                        }),
                        FdState::Failed(error) => events.push(Event {
                            userdata,
                            error,
                            kind,
                            nbytes: 0,
                            flags: 0,
                        }),
                        FdState::Pending => pending_stdin = true,
                    }
                }
            }
        }
        if !events.is_empty() {
            break;
        }
        if pending_stdin {
            stdio::wait_stdin(earliest);
        } else if let Some(d) = earliest {
            std::thread::sleep(d.saturating_duration_since(Instant::now()));
        } else {
            // Only clocks too far away to fire: nothing will ever happen.
            std::thread::sleep(Duration::from_secs(3600));
        }
    }

    for (i, ev) in events.iter().enumerate() {
        mem.write_bytes(events_ptr + i as u32 * layout::EVENT_SIZE, &ev.bytes())?;
    }
    mem.write_u32(out, events.len() as u32)
}
