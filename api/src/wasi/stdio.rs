//! Standard input and output: inherited from the host process, in-memory pipes, or any
//! `Read`/`Write` the embedder supplies.
//!
//! Inherited stdin needs one extra piece for `poll_oneoff`: `std` cannot ask whether a
//! read would block, so the first poll that waits on inherited stdin starts a reader
//! thread that moves the process's stdin into a shared buffer. From then on every read of
//! inherited stdin is served from that buffer, and readiness is "the buffer has bytes or
//! input has ended". Programs that never poll stdin read it directly, with no thread.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Where a guest's standard input comes from.
pub(crate) enum Input {
    /// Reads return end of file at once.
    Null,
    /// The host process's stdin.
    Inherit,
    /// Anything the embedder gave.
    Reader(Box<dyn Read + Send>),
}

/// Where a guest's standard output or error goes.
pub(crate) enum Output {
    /// Writes succeed and are dropped.
    Null,
    /// The host process's stdout.
    Stdout,
    /// The host process's stderr.
    Stderr,
    /// Anything the embedder gave.
    Writer(Box<dyn Write + Send>),
}

/// How a read of a stream turned out when polled.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Readiness {
    /// Bytes known to be readable without blocking.
    pub nbytes: u64,
    /// The stream has ended.
    pub hangup: bool,
}

impl Input {
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Null => Ok(0),
            Input::Inherit => shared_stdin_read(buf),
            Input::Reader(r) => r.read(buf),
        }
    }

    /// Readiness now, or `None` if a read would block. Never blocks.
    pub fn poll_now(&self) -> Option<Readiness> {
        match self {
            Input::Null => Some(Readiness {
                nbytes: 0,
                hangup: true,
            }),
            Input::Reader(_) => Some(Readiness {
                nbytes: 0,
                hangup: false,
            }),
            Input::Inherit => {
                let state = stdin_state();
                state.readiness()
            }
        }
    }

    pub fn is_inherited(&self) -> bool {
        matches!(self, Input::Inherit)
    }
}

impl Output {
    /// Writes all of `bufs`, flushing afterwards so output order matches call order.
    pub fn write_all(&mut self, bufs: &[&[u8]]) -> io::Result<()> {
        fn all(w: &mut dyn Write, bufs: &[&[u8]]) -> io::Result<()> {
            for b in bufs {
                w.write_all(b)?;
            }
            w.flush()
        }
        match self {
            Output::Null => Ok(()),
            Output::Stdout => all(&mut io::stdout().lock(), bufs),
            Output::Stderr => all(&mut io::stderr().lock(), bufs),
            Output::Writer(w) => all(w, bufs),
        }
    }

    pub fn is_terminal(&self) -> bool {
        use std::io::IsTerminal;
        match self {
            Output::Stdout => io::stdout().is_terminal(),
            Output::Stderr => io::stderr().is_terminal(),
            _ => false,
        }
    }
}

/// An in-memory standard input: the guest reads `bytes`, then end of file.
pub struct MemoryInputPipe {
    data: io::Cursor<Vec<u8>>,
}

impl MemoryInputPipe {
    pub fn new(bytes: impl Into<Vec<u8>>) -> MemoryInputPipe {
        MemoryInputPipe {
            data: io::Cursor::new(bytes.into()),
        }
    }
}

impl Read for MemoryInputPipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.data.read(buf)
    }
}

/// An in-memory standard output or error, shared with the embedder: clone it, hand one
/// clone to the builder, and read [`MemoryOutputPipe::contents`] after the run. Writes
/// past `capacity` bytes fail (the guest sees `ENOSPC`).
#[derive(Clone)]
pub struct MemoryOutputPipe {
    buf: Arc<Mutex<Vec<u8>>>,
    capacity: usize,
}

impl MemoryOutputPipe {
    pub fn new(capacity: usize) -> MemoryOutputPipe {
        MemoryOutputPipe {
            buf: Arc::new(Mutex::new(Vec::new())),
            capacity,
        }
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.buf.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

impl Write for MemoryOutputPipe {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut buf = self
            .buf
            .lock()
            .map_err(|_| io::Error::other("output pipe poisoned"))?;
        let room = self.capacity.saturating_sub(buf.len());
        if room == 0 && !data.is_empty() {
            return Err(io::ErrorKind::StorageFull.into());
        }
        let n = room.min(data.len());
        buf.extend_from_slice(&data[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// ---- inherited stdin, shared by every context of the process ----

/// Bytes the reader thread holds before it waits for the guest to take some.
const STDIN_HIGH_WATER: usize = 1 << 20;

struct StdinState {
    started: bool,
    buf: VecDeque<u8>,
    eof: bool,
    error: Option<io::ErrorKind>,
}

impl StdinState {
    fn readiness(&self) -> Option<Readiness> {
        if !self.started {
            return None;
        }
        if !self.buf.is_empty() || self.eof || self.error.is_some() {
            Some(Readiness {
                nbytes: self.buf.len() as u64,
                hangup: self.buf.is_empty() && self.eof,
            })
        } else {
            None
        }
    }
}

static STDIN: Mutex<StdinState> = Mutex::new(StdinState {
    started: false,
    buf: VecDeque::new(),
    eof: false,
    error: None,
});
static STDIN_CHANGED: Condvar = Condvar::new();

fn stdin_state() -> MutexGuard<'static, StdinState> {
    // The state stays consistent under every early exit, so a poisoned lock is usable.
    STDIN.lock().unwrap_or_else(|e| e.into_inner())
}

fn shared_stdin_read(dst: &mut [u8]) -> io::Result<usize> {
    let mut state = stdin_state();
    if !state.started {
        drop(state);
        return io::stdin().read(dst);
    }
    loop {
        if !state.buf.is_empty() {
            let n = dst.len().min(state.buf.len());
            for (d, s) in dst.iter_mut().zip(state.buf.drain(..n)) {
                *d = s;
            }
            STDIN_CHANGED.notify_all();
            return Ok(n);
        }
        if let Some(kind) = state.error.take() {
            return Err(kind.into());
        }
        if state.eof || dst.is_empty() {
            return Ok(0);
        }
        state = STDIN_CHANGED.wait(state).unwrap_or_else(|e| e.into_inner());
    }
}

fn start_stdin_thread(state: &mut StdinState) {
    if state.started {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("gloam-wasi-stdin".into())
        .spawn(|| {
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                let r = io::stdin().read(&mut chunk);
                let mut state = stdin_state();
                match r {
                    Ok(0) => {
                        state.eof = true;
                        STDIN_CHANGED.notify_all();
                        return;
                    }
                    Ok(n) => state.buf.extend(&chunk[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        state.error = Some(e.kind());
                        state.eof = true;
                        STDIN_CHANGED.notify_all();
                        return;
                    }
                }
                STDIN_CHANGED.notify_all();
                while state.buf.len() >= STDIN_HIGH_WATER {
                    state = STDIN_CHANGED.wait(state).unwrap_or_else(|e| e.into_inner());
                }
            }
        });
    // Without a thread, stdin is reported ready and reads block as usual.
    state.started = true;
    if spawned.is_err() {
        state.eof = true;
    }
}

/// Waits until inherited stdin is readable or `deadline` passes (`None`: no deadline).
/// Starts the reader thread on first use.
pub(crate) fn wait_stdin(deadline: Option<Instant>) -> Option<Readiness> {
    let mut state = stdin_state();
    start_stdin_thread(&mut state);
    loop {
        if let Some(r) = state.readiness() {
            return Some(r);
        }
        match deadline {
            None => state = STDIN_CHANGED.wait(state).unwrap_or_else(|e| e.into_inner()),
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return None;
                }
                state = STDIN_CHANGED
                    .wait_timeout(state, d - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_pipes() {
        let mut out = MemoryOutputPipe::new(4);
        let view = out.clone();
        assert_eq!(out.write(b"abcdef").unwrap(), 4);
        assert_eq!(
            out.write(b"x").unwrap_err().kind(),
            io::ErrorKind::StorageFull
        );
        assert_eq!(view.contents(), b"abcd");
        let mut input = Input::Reader(Box::new(MemoryInputPipe::new("hi")));
        let mut b = [0u8; 8];
        assert_eq!(input.read(&mut b).unwrap(), 2);
        assert_eq!(input.read(&mut b).unwrap(), 0);
    }
}
