//! `fd_*`: reading, writing, seeking and inspecting open descriptors.

use super::super::WasiCtx;
use super::super::host::{self, FileStat};
use super::super::mem::{GuestMem, IoVec};
use super::super::table::{DirEntry, DirHandle, Entry, Handle};
use super::super::types::{
    Errno, FileType, PREOPENTYPE_DIR, WasiResult, fdflags, fstflags, layout, rights, whence,
};
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};

/// Largest byte count one read or write reports (the result is a `u32`).
const MAX_IO: u64 = u32::MAX as u64;

/// Reads into the guest buffers `iovs` from `src` until one comes back short. A stream
/// stops after the first read that returned data, so a second read cannot block with
/// data already in hand.
fn read_into(
    mem: &mut GuestMem,
    iovs: &[IoVec],
    stream: bool,
    mut src: impl FnMut(&mut [u8], u64) -> std::io::Result<usize>,
) -> WasiResult<u32> {
    let mut total: u64 = 0;
    for v in iovs {
        if v.len == 0 {
            continue;
        }
        let len = u64::from(v.len).min(MAX_IO - total);
        if len == 0 {
            break;
        }
        let dst = mem.slice_mut(v.ptr, len as u32)?;
        match src(dst, total) {
            Ok(n) => {
                total += n as u64;
                if (n as u64) < len || stream {
                    break;
                }
            }
            Err(_) if total > 0 => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(total as u32)
}

fn gather<'m>(mem: &'m GuestMem, iovs: &[IoVec]) -> WasiResult<Vec<&'m [u8]>> {
    let mut total: u64 = 0;
    let mut out = Vec::with_capacity(iovs.len());
    for v in iovs {
        let len = u64::from(v.len).min(MAX_IO - total);
        out.push(mem.slice(v.ptr, len as u32)?);
        total += len;
    }
    Ok(out)
}

/// Writes the guest buffers `iovs` to a file with `write`, returning the bytes written;
/// an error after some bytes went out reports the count instead.
fn write_from(
    bufs: &[&[u8]],
    mut dst: impl FnMut(&[u8], u64) -> std::io::Result<usize>,
) -> WasiResult<u32> {
    let mut total: u64 = 0;
    for b in bufs {
        let mut rest = *b;
        while !rest.is_empty() {
            match dst(rest, total) {
                Ok(0) => {
                    return if total > 0 {
                        Ok(total as u32)
                    } else {
                        Err(Errno::Io)
                    };
                }
                Ok(n) => {
                    total += n as u64;
                    rest = &rest[n..];
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) if total > 0 => return Ok(total as u32),
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(total as u32)
}

pub(crate) fn fd_read(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    out: u32,
) -> WasiResult {
    let e = ctx.table.with_rights(fd, rights::FD_READ)?;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.slice(out, 4)?;
    let n = match &mut e.handle {
        Handle::Stdin(input) => read_into(mem, &iovs, true, |b, _| input.read(b))?,
        Handle::File(f) => read_into(mem, &iovs, false, |b, _| f.file.read(b))?,
        Handle::Dir(_) => return Err(Errno::IsDir),
        Handle::Stdout(_) => return Err(Errno::Badf),
    };
    mem.write_u32(out, n)
}

pub(crate) fn fd_pread(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    out: u32,
) -> WasiResult {
    let e = ctx
        .table
        .with_rights(fd, rights::FD_READ | rights::FD_SEEK)?;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.slice(out, 4)?;
    let n = match &mut e.handle {
        Handle::File(f) => read_into(mem, &iovs, false, |b, done| {
            let at = offset
                .checked_add(done)
                .ok_or(std::io::ErrorKind::InvalidInput)?;
            host::read_at(&f.file, b, at)
        })?,
        Handle::Dir(_) => return Err(Errno::IsDir),
        Handle::Stdin(_) | Handle::Stdout(_) => return Err(Errno::Spipe),
    };
    mem.write_u32(out, n)
}

pub(crate) fn fd_write(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    out: u32,
) -> WasiResult {
    let e = ctx.table.with_rights(fd, rights::FD_WRITE)?;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.slice(out, 4)?;
    let bufs = gather(mem, &iovs)?;
    let flags = e.flags;
    let n = match &mut e.handle {
        Handle::Stdout(o) => {
            o.write_all(&bufs)?;
            bufs.iter().map(|b| b.len() as u64).sum::<u64>() as u32
        }
        Handle::File(f) => {
            // APPEND and the SYNC flags are the descriptor's, not the host file's (`std`
            // cannot change those after opening): each write goes to the end of the
            // file, and is synced afterwards. The guest is one thread, so nothing moves
            // the position in between (another host process appending could).
            if flags & fdflags::APPEND != 0 {
                f.file.seek(SeekFrom::End(0))?;
            }
            let n = write_from(&bufs, |b, _| f.file.write(b))?;
            if flags & fdflags::SYNC != 0 {
                f.file.sync_all()?;
            } else if flags & fdflags::DSYNC != 0 {
                f.file.sync_data()?;
            }
            n
        }
        Handle::Dir(_) => return Err(Errno::IsDir),
        Handle::Stdin(_) => return Err(Errno::Badf),
    };
    mem.write_u32(out, n)
}

pub(crate) fn fd_pwrite(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    out: u32,
) -> WasiResult {
    let e = ctx
        .table
        .with_rights(fd, rights::FD_WRITE | rights::FD_SEEK)?;
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.slice(out, 4)?;
    let bufs = gather(mem, &iovs)?;
    let n = match &mut e.handle {
        Handle::File(f) => write_from(&bufs, |b, done| {
            let at = offset
                .checked_add(done)
                .ok_or(std::io::ErrorKind::InvalidInput)?;
            host::write_at(&f.file, b, at)
        })?,
        Handle::Dir(_) => return Err(Errno::IsDir),
        Handle::Stdin(_) | Handle::Stdout(_) => return Err(Errno::Spipe),
    };
    mem.write_u32(out, n)
}

pub(crate) fn fd_seek(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    offset: u64,
    how: u32,
    out: u32,
) -> WasiResult {
    let offset = offset as i64;
    let how = u8::try_from(how).map_err(|_| Errno::Inval)?;
    // A zero move from the current position only tells: `fd_tell` suffices for it.
    let need = if offset == 0 && how == whence::CUR {
        rights::FD_TELL
    } else {
        rights::FD_SEEK
    };
    let e = ctx.table.with_rights(fd, need)?;
    mem.slice(out, 8)?;
    let pos = match how {
        whence::SET => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
        whence::CUR => SeekFrom::Current(offset),
        whence::END => SeekFrom::End(offset),
        _ => return Err(Errno::Inval),
    };
    let new = match &mut e.handle {
        Handle::File(f) => f.file.seek(pos)?,
        Handle::Dir(_) => return Err(Errno::Badf),
        Handle::Stdin(_) | Handle::Stdout(_) => return Err(Errno::Spipe),
    };
    mem.write_u64(out, new)
}

pub(crate) fn fd_tell(ctx: &mut WasiCtx, mem: &mut GuestMem, fd: u32, out: u32) -> WasiResult {
    let e = ctx.table.with_rights(fd, rights::FD_TELL)?;
    mem.slice(out, 8)?;
    let pos = match &mut e.handle {
        Handle::File(f) => f.file.stream_position()?,
        Handle::Dir(_) => return Err(Errno::Badf),
        Handle::Stdin(_) | Handle::Stdout(_) => return Err(Errno::Spipe),
    };
    mem.write_u64(out, pos)
}

pub(crate) fn fd_close(ctx: &mut WasiCtx, _mem: &mut GuestMem, fd: u32) -> WasiResult {
    ctx.table.remove(fd).map(drop)
}

pub(crate) fn fd_renumber(ctx: &mut WasiCtx, _mem: &mut GuestMem, fd: u32, to: u32) -> WasiResult {
    ctx.table.renumber(fd, to)
}

fn sync(e: &mut Entry, data_only: bool) -> WasiResult {
    match &mut e.handle {
        Handle::File(f) => {
            if data_only {
                f.file.sync_data()?
            } else {
                f.file.sync_all()?
            }
        }
        Handle::Dir(_) => {}
        Handle::Stdout(o) => o.write_all(&[])?,
        Handle::Stdin(_) => return Err(Errno::Inval),
    }
    Ok(())
}

pub(crate) fn fd_sync(ctx: &mut WasiCtx, _mem: &mut GuestMem, fd: u32) -> WasiResult {
    sync(ctx.table.with_rights(fd, rights::FD_SYNC)?, false)
}

pub(crate) fn fd_datasync(ctx: &mut WasiCtx, _mem: &mut GuestMem, fd: u32) -> WasiResult {
    sync(ctx.table.with_rights(fd, rights::FD_DATASYNC)?, true)
}

pub(crate) fn fd_advise(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem,
    fd: u32,
    _offset: u64,
    _len: u64,
    advice: u32,
) -> WasiResult {
    let e = ctx.table.with_rights(fd, rights::FD_ADVISE)?;
    if advice > 5 {
        return Err(Errno::Inval);
    }
    match e.handle {
        // Advice is only advice: `std` has no way to pass it on.
        Handle::File(_) => Ok(()),
        Handle::Dir(_) => Err(Errno::Badf),
        Handle::Stdin(_) | Handle::Stdout(_) => Err(Errno::Spipe),
    }
}

pub(crate) fn fd_allocate(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem,
    fd: u32,
    offset: u64,
    len: u64,
) -> WasiResult {
    let e = ctx.table.with_rights(fd, rights::FD_ALLOCATE)?;
    let end = offset.checked_add(len).ok_or(Errno::Fbig)?;
    match &mut e.handle {
        Handle::File(f) => {
            if i64::try_from(end).is_err() {
                return Err(Errno::Fbig);
            }
            if f.file.metadata()?.len() < end {
                f.file.set_len(end)?;
            }
            Ok(())
        }
        Handle::Dir(_) => Err(Errno::Badf),
        Handle::Stdin(_) | Handle::Stdout(_) => Err(Errno::Spipe),
    }
}

pub(crate) fn fd_fdstat_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    out: u32,
) -> WasiResult {
    let e = ctx.table.get(fd)?;
    let mut b = [0u8; layout::FDSTAT_SIZE as usize];
    b[0] = e.filetype() as u8;
    b[2..4].copy_from_slice(&e.flags.to_le_bytes());
    b[8..16].copy_from_slice(&e.base.to_le_bytes());
    b[16..24].copy_from_slice(&e.inheriting.to_le_bytes());
    mem.write_bytes(out, &b)
}

pub(crate) fn fd_fdstat_set_flags(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem,
    fd: u32,
    flags: u32,
) -> WasiResult {
    let e = ctx.table.with_rights(fd, rights::FD_FDSTAT_SET_FLAGS)?;
    let flags = u16::try_from(flags).map_err(|_| Errno::Inval)?;
    if flags & !fdflags::ALL != 0 {
        return Err(Errno::Inval);
    }
    // `fd_write` honours APPEND, SYNC and DSYNC from the descriptor's flags. NONBLOCK
    // and RSYNC change nothing: reads and writes here always complete.
    e.flags = flags;
    Ok(())
}

pub(crate) fn fd_fdstat_set_rights(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem,
    fd: u32,
    base: u64,
    inheriting: u64,
) -> WasiResult {
    let e = ctx.table.get_mut(fd)?;
    if base & !e.base != 0 || inheriting & !e.inheriting != 0 {
        return Err(Errno::NotCapable);
    }
    e.base = base;
    e.inheriting = inheriting;
    Ok(())
}

fn entry_stat(e: &Entry) -> WasiResult<FileStat> {
    Ok(match &e.handle {
        Handle::File(f) => host::filestat(&f.file.metadata()?),
        Handle::Dir(d) => host::filestat(&fs::symlink_metadata(d.host()?)?),
        Handle::Stdin(_) | Handle::Stdout(_) => FileStat {
            filetype: e.filetype() as u8,
            nlink: 1,
            ..FileStat::default()
        },
    })
}

pub(crate) fn fd_filestat_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    out: u32,
) -> WasiResult {
    let e = ctx.table.with_rights(fd, rights::FD_FILESTAT_GET)?;
    let st = entry_stat(e)?;
    mem.write_bytes(out, &st.to_bytes())
}

pub(crate) fn fd_filestat_set_size(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem,
    fd: u32,
    size: u64,
) -> WasiResult {
    let e = ctx.table.with_rights(fd, rights::FD_FILESTAT_SET_SIZE)?;
    match &mut e.handle {
        Handle::File(f) => {
            if i64::try_from(size).is_err() {
                return Err(Errno::Fbig);
            }
            f.file.set_len(size)?;
            Ok(())
        }
        Handle::Dir(_) => Err(Errno::IsDir),
        Handle::Stdin(_) | Handle::Stdout(_) => Err(Errno::Inval),
    }
}

/// The `FileTimes` for `fst` flags; `EINVAL` when a time is both given and "now".
pub(crate) fn file_times(atim: u64, mtim: u64, fst: u32) -> WasiResult<fs::FileTimes> {
    let fst = u16::try_from(fst).map_err(|_| Errno::Inval)?;
    let both = |set: u16, now: u16| fst & set != 0 && fst & now != 0;
    if both(fstflags::ATIM, fstflags::ATIM_NOW) || both(fstflags::MTIM, fstflags::MTIM_NOW) {
        return Err(Errno::Inval);
    }
    if fst & !0xf != 0 {
        return Err(Errno::Inval);
    }
    let now = std::time::SystemTime::now();
    let mut t = fs::FileTimes::new();
    if fst & fstflags::ATIM != 0 {
        t = t.set_accessed(host::system_time(atim)?);
    } else if fst & fstflags::ATIM_NOW != 0 {
        t = t.set_accessed(now);
    }
    if fst & fstflags::MTIM != 0 {
        t = t.set_modified(host::system_time(mtim)?);
    } else if fst & fstflags::MTIM_NOW != 0 {
        t = t.set_modified(now);
    }
    Ok(t)
}

/// Sets the times of the file or directory at a checked host path.
pub(crate) fn set_path_times(path: &std::path::Path, times: fs::FileTimes) -> WasiResult {
    let f = match fs::File::open(path) {
        Ok(f) => f,
        Err(_) => fs::OpenOptions::new().write(true).open(path)?,
    };
    f.set_times(times)?;
    Ok(())
}

pub(crate) fn fd_filestat_set_times(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem,
    fd: u32,
    atim: u64,
    mtim: u64,
    fst: u32,
) -> WasiResult {
    let e = ctx.table.with_rights(fd, rights::FD_FILESTAT_SET_TIMES)?;
    let times = file_times(atim, mtim, fst)?;
    match &mut e.handle {
        Handle::File(f) => Ok(f.file.set_times(times)?),
        Handle::Dir(d) => set_path_times(&d.host()?, times),
        Handle::Stdin(_) | Handle::Stdout(_) => Err(Errno::Inval),
    }
}

pub(crate) fn fd_prestat_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    out: u32,
) -> WasiResult {
    let e = ctx.table.get(fd)?;
    let Handle::Dir(DirHandle {
        preopen: Some(name),
        ..
    }) = &e.handle
    else {
        return Err(Errno::Badf);
    };
    let len = u32::try_from(name.len()).map_err(|_| Errno::NameTooLong)?;
    let mut b = [0u8; layout::PRESTAT_SIZE as usize];
    b[0] = PREOPENTYPE_DIR;
    b[4..8].copy_from_slice(&len.to_le_bytes());
    mem.write_bytes(out, &b)
}

pub(crate) fn fd_prestat_dir_name(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    path: u32,
    path_len: u32,
) -> WasiResult {
    let e = ctx.table.get(fd)?;
    let Handle::Dir(DirHandle {
        preopen: Some(name),
        ..
    }) = &e.handle
    else {
        return Err(Errno::Badf);
    };
    if (path_len as usize) < name.len() {
        return Err(Errno::NameTooLong);
    }
    mem.write_bytes(path, name.as_bytes())
}

/// Lists a directory the way `fd_readdir` serves it: `.` and `..` first, then the
/// entries in the host's order.
fn list_dir(d: &DirHandle) -> WasiResult<Vec<DirEntry>> {
    let here = d.host()?;
    let ino_of = |p: &std::path::Path| fs::metadata(p).map(|m| host::ino(&m)).unwrap_or(0);
    let mut out = vec![
        DirEntry {
            name: b".".to_vec(),
            ino: ino_of(&here),
            filetype: FileType::Directory,
        },
        DirEntry {
            name: b"..".to_vec(),
            ino: here.parent().map_or(0, ino_of),
            filetype: FileType::Directory,
        },
    ];
    for ent in fs::read_dir(&here)? {
        let ent = ent?;
        let Ok(name) = ent.file_name().into_string() else {
            // WASI names are UTF-8; a host name that is not cannot be shown.
            continue;
        };
        let ft = ent
            .file_type()
            .map(host::file_type)
            .unwrap_or(FileType::Unknown);
        let ino = ent.metadata().map(|m| host::ino(&m)).unwrap_or(0);
        out.push(DirEntry {
            name: name.into_bytes(),
            ino,
            filetype: ft,
        });
    }
    Ok(out)
}

pub(crate) fn fd_readdir(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    buf: u32,
    buf_len: u32,
    cookie: u64,
    out: u32,
) -> WasiResult {
    let e = ctx.table.with_rights(fd, rights::FD_READDIR)?;
    let Handle::Dir(d) = &mut e.handle else {
        return Err(Errno::NotDir);
    };
    mem.slice(buf, buf_len)?;
    mem.slice(out, 4)?;
    if cookie == 0 || d.listing.is_none() {
        d.listing = Some(list_dir(d)?);
    }
    let listing = d.listing.as_deref().unwrap_or_default();
    let mut bytes = Vec::new();
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, ent) in listing.iter().enumerate().skip(start) {
        if bytes.len() >= buf_len as usize {
            break;
        }
        let mut head = [0u8; layout::DIRENT_SIZE as usize];
        head[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        head[8..16].copy_from_slice(&ent.ino.to_le_bytes());
        head[16..20].copy_from_slice(&(ent.name.len() as u32).to_le_bytes());
        head[20] = ent.filetype as u8;
        bytes.extend_from_slice(&head);
        bytes.extend_from_slice(&ent.name);
    }
    // A full buffer tells the guest to come back with a bigger one (or the next cookie).
    bytes.truncate(buf_len as usize);
    mem.write_bytes(buf, &bytes)?;
    mem.write_u32(out, bytes.len() as u32)
}
