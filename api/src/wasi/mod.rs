//! WASI preview 1 (`wasi_snapshot_preview1`) for gloam stores.
//!
//! Shaped like wasmtime's preview 1 helpers, so an embedder moves between the two with
//! little more than a crate rename:
//!
//! ```no_run
//! use gloam::*;
//! use gloam::wasi::{WasiCtx, WasiCtxBuilder, DirPerms, FilePerms, I32Exit};
//!
//! struct State { wasi: WasiCtx }
//!
//! let engine = Engine::default();
//! let module = Module::from_file(&engine, "prog.wasm")?;
//! let mut linker = Linker::new(&engine);
//! gloam::wasi::add_to_linker(&mut linker, |s: &mut State| &mut s.wasi)?;
//! let wasi = WasiCtxBuilder::new()
//!     .inherit_stdio()
//!     .args(&["prog", "hello"])
//!     .env("LANG", "C")
//!     .preopened_dir("/tmp/sandbox", ".", DirPerms::all(), FilePerms::all())?
//!     .build();
//! let mut store = Store::new(&engine, State { wasi });
//! let instance = linker.instantiate(&mut store, &module)?;
//! let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
//! match start.call(&mut store, ()) {
//!     Ok(()) => {}
//!     Err(e) => match e.downcast_ref::<I32Exit>() {
//!         Some(exit) => println!("exited with {}", exit.0),
//!         None => return Err(e),
//!     },
//! }
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Implemented over `std` only. The filesystem is limited to preopened directories; the
//! resolver in `path.rs` keeps every path (`..`, absolute paths, symbolic links) inside
//! the directory descriptor it is resolved against. Guest pointers are bounds-checked
//! (`EFAULT`), never trusted. `proc_exit` unwinds the wasm stack by returning an
//! [`I32Exit`] error from the host call.
//!
//! Set `GLOAM_WASI_TRACE=1` to print every call and its result to stderr.

mod calls;
mod host;
mod link;
mod mem;
mod path;
mod stdio;
mod table;
pub mod types;

pub use link::{MODULE, add_to_linker};
pub use stdio::{MemoryInputPipe, MemoryOutputPipe};
pub use types::Errno;

use anyhow::{Context, Result};
use std::path::Path;
use std::time::Instant;
use stdio::{Input, Output};
use table::{DirHandle, Entry, Handle, Table};
use types::rights;

/// The error `proc_exit` returns to unwind the guest: the exit status it asked for.
/// Downcast a call's error to it to tell an exit from a trap.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct I32Exit(pub i32);

impl std::fmt::Display for I32Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exited with status {}", self.0)
    }
}

impl std::error::Error for I32Exit {}

/// What a preopened directory lets the guest do to the tree.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DirPerms(u8);

impl DirPerms {
    /// List, open and stat.
    pub const READ: DirPerms = DirPerms(1);
    /// Create, remove, rename, link.
    pub const MUTATE: DirPerms = DirPerms(2);
    pub const fn all() -> DirPerms {
        DirPerms(3)
    }
    pub const fn empty() -> DirPerms {
        DirPerms(0)
    }
    pub const fn contains(self, other: DirPerms) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for DirPerms {
    type Output = DirPerms;
    fn bitor(self, o: DirPerms) -> DirPerms {
        DirPerms(self.0 | o.0)
    }
}

/// What files below a preopened directory may be opened for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FilePerms(u8);

impl FilePerms {
    pub const READ: FilePerms = FilePerms(1);
    pub const WRITE: FilePerms = FilePerms(2);
    pub const fn all() -> FilePerms {
        FilePerms(3)
    }
    pub const fn empty() -> FilePerms {
        FilePerms(0)
    }
    pub const fn contains(self, other: FilePerms) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for FilePerms {
    type Output = FilePerms;
    fn bitor(self, o: FilePerms) -> FilePerms {
        FilePerms(self.0 | o.0)
    }
}

/// The state of one guest's WASI world: arguments, environment, descriptors.
pub struct WasiCtx {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) table: Table,
    /// When the context was built: the origin of the CPU-time clocks (see `calls`).
    pub(crate) start: Instant,
}

impl WasiCtx {
    /// A context with no arguments, environment, preopens, or stdio.
    pub fn builder() -> WasiCtxBuilder {
        WasiCtxBuilder::new()
    }
}

struct Preopen {
    host: std::path::PathBuf,
    guest: String,
    dir: DirPerms,
    file: FilePerms,
}

/// Builds a [`WasiCtx`]. Methods take and return `&mut Self`, so a chain can start at
/// `WasiCtxBuilder::new()` and end with `build()`.
pub struct WasiCtxBuilder {
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<Input>,
    stdout: Option<Output>,
    stderr: Option<Output>,
    preopens: Vec<Preopen>,
}

impl Default for WasiCtxBuilder {
    fn default() -> Self {
        WasiCtxBuilder::new()
    }
}

impl WasiCtxBuilder {
    pub fn new() -> WasiCtxBuilder {
        WasiCtxBuilder {
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            stdout: None,
            stderr: None,
            preopens: Vec::new(),
        }
    }

    /// Appends one argument (the first is the program name, `argv[0]`).
    pub fn arg(&mut self, arg: impl AsRef<str>) -> &mut Self {
        self.args.push(arg.as_ref().to_string());
        self
    }

    /// Appends arguments.
    pub fn args(&mut self, args: &[impl AsRef<str>]) -> &mut Self {
        for a in args {
            self.arg(a);
        }
        self
    }

    /// Appends the host process's arguments.
    pub fn inherit_args(&mut self) -> &mut Self {
        for a in std::env::args() {
            self.arg(a);
        }
        self
    }

    /// Sets one environment variable.
    pub fn env(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> &mut Self {
        let key = key.as_ref().to_string();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.as_ref().to_string()));
        self
    }

    /// Sets environment variables.
    pub fn envs(&mut self, env: &[(impl AsRef<str>, impl AsRef<str>)]) -> &mut Self {
        for (k, v) in env {
            self.env(k, v);
        }
        self
    }

    /// Copies the host process's environment (variables that are valid UTF-8).
    pub fn inherit_env(&mut self) -> &mut Self {
        for (k, v) in std::env::vars() {
            self.env(k, v);
        }
        self
    }

    pub fn inherit_stdin(&mut self) -> &mut Self {
        self.stdin = Some(Input::Inherit);
        self
    }
    pub fn inherit_stdout(&mut self) -> &mut Self {
        self.stdout = Some(Output::Stdout);
        self
    }
    pub fn inherit_stderr(&mut self) -> &mut Self {
        self.stderr = Some(Output::Stderr);
        self
    }
    /// The guest's stdin, stdout and stderr are the host process's.
    pub fn inherit_stdio(&mut self) -> &mut Self {
        self.inherit_stdin().inherit_stdout().inherit_stderr()
    }

    /// The guest reads its stdin from `input` (e.g. a [`MemoryInputPipe`]).
    pub fn stdin(&mut self, input: impl std::io::Read + Send + 'static) -> &mut Self {
        self.stdin = Some(Input::Reader(Box::new(input)));
        self
    }
    /// The guest's stdout goes to `output` (e.g. a [`MemoryOutputPipe`]).
    pub fn stdout(&mut self, output: impl std::io::Write + Send + 'static) -> &mut Self {
        self.stdout = Some(Output::Writer(Box::new(output)));
        self
    }
    /// The guest's stderr goes to `output`.
    pub fn stderr(&mut self, output: impl std::io::Write + Send + 'static) -> &mut Self {
        self.stderr = Some(Output::Writer(Box::new(output)));
        self
    }

    /// Gives the guest the host directory `host_path` under the name `guest_path`. The
    /// guest can reach nothing outside it. Fails if `host_path` is not a directory.
    pub fn preopened_dir(
        &mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl AsRef<str>,
        dir_perms: DirPerms,
        file_perms: FilePerms,
    ) -> Result<&mut Self> {
        let host_path = host_path.as_ref();
        let host = std::fs::canonicalize(host_path)
            .with_context(|| format!("failed to open directory `{}`", host_path.display()))?;
        if !host.is_dir() {
            anyhow::bail!("`{}` is not a directory", host_path.display());
        }
        self.preopens.push(Preopen {
            host,
            guest: guest_path.as_ref().to_string(),
            dir: dir_perms,
            file: file_perms,
        });
        Ok(self)
    }

    /// The context. The builder is left empty, ready for another.
    pub fn build(&mut self) -> WasiCtx {
        let b = std::mem::take(self);
        let nul = |s: String| {
            let mut v = s.into_bytes();
            v.push(0);
            v
        };
        let mut table = Table::new();
        let stdio = [
            (Handle::Stdin(b.stdin.unwrap_or(Input::Null)), true),
            (Handle::Stdout(b.stdout.unwrap_or(Output::Null)), false),
            (Handle::Stdout(b.stderr.unwrap_or(Output::Null)), false),
        ];
        for (handle, input) in stdio {
            let r = table::stdio_rights(input);
            // A fresh table has room for three descriptors.
            let _ = table.push(Entry {
                handle,
                base: r,
                inheriting: 0,
                flags: 0,
            });
        }
        for p in b.preopens {
            let mut base = rights::DIR;
            if !p.dir.contains(DirPerms::MUTATE) {
                base &= !rights::DIR_MUTATE;
            }
            if !p.dir.contains(DirPerms::READ) {
                base &= !(rights::FD_READDIR | rights::PATH_OPEN | rights::PATH_READLINK);
            }
            let mut inheriting = base | rights::FILE;
            if !p.file.contains(FilePerms::WRITE) {
                inheriting &= !rights::FILE_WRITE;
            }
            if !p.file.contains(FilePerms::READ) {
                inheriting &= !rights::FD_READ;
            }
            let _ = table.push(Entry {
                handle: Handle::Dir(DirHandle {
                    root: std::sync::Arc::new(p.host),
                    rel: Vec::new(),
                    preopen: Some(p.guest),
                    listing: None,
                }),
                base,
                inheriting,
                flags: 0,
            });
        }
        WasiCtx {
            args: b.args.into_iter().map(nul).collect(),
            env: b
                .env
                .into_iter()
                .map(|(k, v)| nul(format!("{k}={v}")))
                .collect(),
            table,
            start: Instant::now(),
        }
    }
}

impl<T: 'static> crate::Linker<T> {
    /// Defines every `wasi_snapshot_preview1` function, reaching each store's
    /// [`WasiCtx`] through `get` (same as [`add_to_linker`]).
    pub fn add_wasi(
        &mut self,
        get: impl Fn(&mut T) -> &mut WasiCtx + Copy + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        add_to_linker(self, get)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn contexts_can_move_between_threads() {
        fn is_send<T: Send>() {}
        is_send::<super::WasiCtx>();
        is_send::<super::WasiCtxBuilder>();
    }
}
