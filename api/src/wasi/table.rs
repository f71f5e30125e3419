//! The descriptor table: what each guest file descriptor refers to, and its rights.

use super::stdio::{Input, Output};
use super::types::{Errno, FileType, WasiResult, rights};
use std::path::PathBuf;
use std::sync::Arc;

/// Most descriptors a guest may hold open at once.
pub(crate) const MAX_FDS: usize = 16 * 1024;

/// An open regular file (or other non-directory the host let us open).
pub(crate) struct FileHandle {
    pub file: std::fs::File,
    pub filetype: FileType,
}

/// An open directory: a capability for the tree below it.
///
/// It is named by its preopen's canonical host path plus the components that lead from
/// there, each checked by the path resolver to be a real directory when it was opened.
/// The guest can rename those directories later and put a symbolic link in their place,
/// so [`DirHandle::host`] checks every component again before each use; a directory
/// that is no longer where it was opened is `ENOENT`. (A real directory put in its
/// place is inside the preopen too, and is used instead.)
pub(crate) struct DirHandle {
    pub root: Arc<PathBuf>,
    pub rel: Vec<String>,
    /// The guest's name for a preopened directory (what `fd_prestat_dir_name` returns).
    pub preopen: Option<String>,
    /// The listing `fd_readdir` serves, taken when a read starts at cookie 0.
    pub listing: Option<Vec<DirEntry>>,
}

/// One `fd_readdir` entry.
#[derive(Clone, Debug)]
pub(crate) struct DirEntry {
    pub name: Vec<u8>,
    pub ino: u64,
    pub filetype: FileType,
}

impl DirHandle {
    /// The host path of the directory, after checking that every component below the
    /// preopen is still a real directory (not a symbolic link).
    pub fn host(&self) -> WasiResult<PathBuf> {
        let mut p = PathBuf::clone(&self.root);
        for c in &self.rel {
            p.push(c);
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(Errno::NoEnt),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Errno::NoEnt),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(p)
    }
}

pub(crate) enum Handle {
    Stdin(Input),
    Stdout(Output),
    File(FileHandle),
    Dir(DirHandle),
}

pub(crate) struct Entry {
    pub handle: Handle,
    pub base: u64,
    pub inheriting: u64,
    pub flags: u16,
}

impl Entry {
    pub fn filetype(&self) -> FileType {
        match &self.handle {
            Handle::Stdin(Input::Inherit) => {
                use std::io::IsTerminal;
                if std::io::stdin().is_terminal() {
                    FileType::CharacterDevice
                } else {
                    FileType::Unknown
                }
            }
            Handle::Stdin(_) => FileType::Unknown,
            Handle::Stdout(o) if o.is_terminal() => FileType::CharacterDevice,
            Handle::Stdout(_) => FileType::Unknown,
            Handle::File(f) => f.filetype,
            Handle::Dir(_) => FileType::Directory,
        }
    }

    /// Fails with `ENOTCAPABLE` unless the descriptor has every right in `need`.
    pub fn require(&self, need: u64) -> WasiResult<()> {
        if self.base & need == need {
            Ok(())
        } else {
            Err(Errno::NotCapable)
        }
    }
}

pub(crate) struct Table {
    entries: Vec<Option<Entry>>,
}

impl Table {
    pub fn new() -> Table {
        Table {
            entries: Vec::new(),
        }
    }

    /// Puts `entry` at the lowest free descriptor number.
    pub fn push(&mut self, entry: Entry) -> WasiResult<u32> {
        let slot = self.entries.iter().position(Option::is_none);
        let fd = match slot {
            Some(i) => i,
            None if self.entries.len() < MAX_FDS => {
                self.entries.push(None);
                self.entries.len() - 1
            }
            None => return Err(Errno::Mfile),
        };
        self.entries[fd] = Some(entry);
        Ok(fd as u32)
    }

    pub fn get(&self, fd: u32) -> WasiResult<&Entry> {
        self.entries
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::Badf)
    }

    pub fn get_mut(&mut self, fd: u32) -> WasiResult<&mut Entry> {
        self.entries
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::Badf)
    }

    /// The entry for `fd` if it has the rights in `need`.
    pub fn with_rights(&mut self, fd: u32, need: u64) -> WasiResult<&mut Entry> {
        let e = self.get_mut(fd)?;
        e.require(need)?;
        Ok(e)
    }

    /// The directory `fd` with the rights in `need`: `ENOTDIR` for a non-directory.
    pub fn dir(&mut self, fd: u32, need: u64) -> WasiResult<(&mut DirHandle, u64, u64)> {
        let e = self.get_mut(fd)?;
        let (base, inheriting) = (e.base, e.inheriting);
        match &mut e.handle {
            Handle::Dir(d) => {
                if base & need != need {
                    return Err(Errno::NotCapable);
                }
                Ok((d, base, inheriting))
            }
            _ => Err(Errno::NotDir),
        }
    }

    pub fn remove(&mut self, fd: u32) -> WasiResult<Entry> {
        let slot = self.entries.get_mut(fd as usize).ok_or(Errno::Badf)?;
        let e = slot.take().ok_or(Errno::Badf)?;
        while matches!(self.entries.last(), Some(None)) {
            self.entries.pop();
        }
        Ok(e)
    }

    /// Moves `from` to `to`, closing what `to` held. Both must be open.
    pub fn renumber(&mut self, from: u32, to: u32) -> WasiResult<()> {
        self.get(from)?;
        self.get(to)?;
        if from == to {
            return Ok(());
        }
        let e = self.remove(from)?;
        self.entries[to as usize] = Some(e);
        Ok(())
    }
}

/// The rights stdin, stdout and stderr start with.
pub(crate) fn stdio_rights(input: bool) -> u64 {
    if input {
        rights::STDIO & !rights::FD_WRITE
    } else {
        rights::STDIO & !rights::FD_READ
    }
}
