//! `path_*`: opening, creating, removing, renaming and inspecting files by name. Every
//! name goes through [`resolve`] against its directory descriptor first.

use super::super::WasiCtx;
use super::super::host;
use super::super::mem::GuestMem;
use super::super::path::{ESCAPE, Resolved, resolve};
use super::super::table::{DirHandle, Entry, FileHandle, Handle};
use super::super::types::{Errno, LOOKUP_SYMLINK_FOLLOW, WasiResult, fdflags, oflags, rights};
use super::fd::{file_times, set_path_times};
use std::fs;

/// Resolves the guest path at `ptr`/`len` against directory `fd`, which must hold `need`.
fn lookup(
    ctx: &mut WasiCtx,
    mem: &GuestMem,
    fd: u32,
    need: u64,
    ptr: u32,
    len: u32,
    follow: bool,
) -> WasiResult<Resolved> {
    let (dir, _, _) = ctx.table.dir(fd, need)?;
    let path = mem.read_str(ptr, len)?;
    resolve(&dir.host()?, path, follow)
}

pub(crate) fn path_create_directory(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    path: u32,
    path_len: u32,
) -> WasiResult {
    let r = lookup(
        ctx,
        mem,
        fd,
        rights::PATH_CREATE_DIRECTORY,
        path,
        path_len,
        false,
    )?;
    let host = r.named(Errno::Exist)?;
    if r.exists() {
        return Err(Errno::Exist);
    }
    fs::create_dir(host)?;
    Ok(())
}

pub(crate) fn path_filestat_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    flags: u32,
    path: u32,
    path_len: u32,
    out: u32,
) -> WasiResult {
    let follow = flags & LOOKUP_SYMLINK_FOLLOW != 0;
    let r = lookup(
        ctx,
        mem,
        fd,
        rights::PATH_FILESTAT_GET,
        path,
        path_len,
        follow,
    )?;
    // The resolver already looked without following: a final link is only still there
    // when the guest asked not to follow it.
    let md = r.meta.as_ref().ok_or(Errno::NoEnt)?;
    mem.write_bytes(out, &host::filestat(md).to_bytes())
}

pub(crate) fn path_filestat_set_times(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    flags: u32,
    path: u32,
    path_len: u32,
    atim: u64,
    mtim: u64,
    fst: u32,
) -> WasiResult {
    let follow = flags & LOOKUP_SYMLINK_FOLLOW != 0;
    let r = lookup(
        ctx,
        mem,
        fd,
        rights::PATH_FILESTAT_SET_TIMES,
        path,
        path_len,
        follow,
    )?;
    let times = file_times(atim, mtim, fst)?;
    if !r.exists() {
        return Err(Errno::NoEnt);
    }
    if r.is_symlink() {
        // `std` can only set times through an open file, which follows the link.
        return Err(Errno::NotSup);
    }
    set_path_times(&r.host(), times)
}

pub(crate) fn path_link(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    old_fd: u32,
    old_flags: u32,
    old_path: u32,
    old_len: u32,
    new_fd: u32,
    new_path: u32,
    new_len: u32,
) -> WasiResult {
    let follow = old_flags & LOOKUP_SYMLINK_FOLLOW != 0;
    let old = lookup(
        ctx,
        mem,
        old_fd,
        rights::PATH_LINK_SOURCE,
        old_path,
        old_len,
        follow,
    )?;
    let new = lookup(
        ctx,
        mem,
        new_fd,
        rights::PATH_LINK_TARGET,
        new_path,
        new_len,
        false,
    )?;
    if !old.exists() {
        return Err(Errno::NoEnt);
    }
    if old.is_dir() {
        return Err(Errno::Perm);
    }
    let dst = new.named(Errno::Exist)?;
    if new.exists() {
        return Err(Errno::Exist);
    }
    if new.dir_required {
        // `link/` names a directory that would have to exist; the source is a file.
        return Err(Errno::NoEnt);
    }
    let src = old.named(Errno::Perm)?;
    fs::hard_link(src, dst)?;
    Ok(())
}

/// Rights a new descriptor may get through a directory with inheriting rights `inh`.
fn masked(requested: u64, inh: u64, kind: u64) -> u64 {
    requested & inh & kind
}

pub(crate) fn path_open(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    dirflags: u32,
    path: u32,
    path_len: u32,
    oflags: u32,
    base: u64,
    inheriting: u64,
    fdflags: u32,
    out: u32,
) -> WasiResult {
    let of = u16::try_from(oflags).map_err(|_| Errno::Inval)?;
    let ff = u16::try_from(fdflags).map_err(|_| Errno::Inval)?;
    if of & !oflags::ALL != 0 || ff & !fdflags::ALL != 0 {
        return Err(Errno::Inval);
    }
    let (creat, directory, excl, trunc) = (
        of & oflags::CREAT != 0,
        of & oflags::DIRECTORY != 0,
        of & oflags::EXCL != 0,
        of & oflags::TRUNC != 0,
    );
    let mut need = rights::PATH_OPEN;
    if creat {
        need |= rights::PATH_CREATE_FILE;
    }
    if trunc {
        need |= rights::PATH_FILESTAT_SET_SIZE;
    }
    mem.slice(out, 4)?;
    let (dir, _, dir_inh) = ctx.table.dir(fd, need)?;
    let p = mem.read_str(path, path_len)?;
    let follow = dirflags & LOOKUP_SYMLINK_FOLLOW != 0;
    let r = resolve(&dir.host()?, p, follow)?;
    // Reading or writing a file needs the directory to pass that right on.
    let io = rights::FD_READ | rights::FD_WRITE;
    if base & io & !dir_inh != 0 {
        return Err(Errno::NotCapable);
    }
    if creat && excl && r.exists() {
        return Err(Errno::Exist);
    }
    if r.is_symlink() {
        // A final link the guest asked not to follow (O_NOFOLLOW).
        return Err(Errno::Loop);
    }
    let entry = if r.is_dir() {
        if trunc || base & rights::FD_WRITE != 0 {
            return Err(Errno::IsDir);
        }
        if creat && excl {
            return Err(Errno::Exist);
        }
        Entry {
            handle: Handle::Dir(DirHandle {
                root: dir.root.clone(),
                rel: dir
                    .rel
                    .iter()
                    .chain(&r.stack)
                    .chain(&r.name)
                    .cloned()
                    .collect(),
                preopen: None,
                listing: None,
            }),
            base: masked(base, dir_inh, rights::DIR),
            inheriting: masked(inheriting, dir_inh, rights::ALL),
            flags: ff,
        }
    } else {
        if directory {
            return Err(if r.exists() {
                Errno::NotDir
            } else {
                Errno::NoEnt
            });
        }
        if !r.exists() && !creat {
            return Err(Errno::NoEnt);
        }
        if r.dir_required {
            return Err(Errno::IsDir);
        }
        let host = r.named(Errno::IsDir)?;
        let read = base & rights::FD_READ != 0;
        let write =
            base & (rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE) != 0;
        // APPEND is kept as a descriptor flag and done by `fd_write` (see there), so
        // that `fd_fdstat_set_flags` can turn it on and off.
        let mut opts = fs::OpenOptions::new();
        opts.read(read || !(write || creat || trunc))
            .write(write || creat || trunc)
            .truncate(trunc);
        if creat && excl {
            opts.create_new(true);
        } else {
            opts.create(creat);
        }
        let file = opts.open(&host)?;
        let md = file.metadata()?;
        if md.is_dir() {
            // Swapped for a directory since the check: open it as one instead.
            return Err(Errno::IsDir);
        }
        Entry {
            handle: Handle::File(FileHandle {
                file,
                filetype: host::file_type(md.file_type()),
            }),
            base: masked(base, dir_inh, rights::FILE),
            inheriting: 0,
            flags: ff,
        }
    };
    let new_fd = ctx.table.push(entry)?;
    mem.write_u32(out, new_fd)
}

pub(crate) fn path_readlink(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    path: u32,
    path_len: u32,
    buf: u32,
    buf_len: u32,
    out: u32,
) -> WasiResult {
    let r = lookup(ctx, mem, fd, rights::PATH_READLINK, path, path_len, false)?;
    mem.slice(buf, buf_len)?;
    mem.slice(out, 4)?;
    if !r.exists() {
        return Err(Errno::NoEnt);
    }
    if !r.is_symlink() {
        return Err(Errno::Inval);
    }
    let target = fs::read_link(r.host())?;
    let target = target.to_str().ok_or(Errno::Ilseq)?.as_bytes();
    // Like readlink(2), a short buffer gets the first bytes.
    let n = target.len().min(buf_len as usize);
    mem.write_bytes(buf, &target[..n])?;
    mem.write_u32(out, n as u32)
}

pub(crate) fn path_remove_directory(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    path: u32,
    path_len: u32,
) -> WasiResult {
    let r = lookup(
        ctx,
        mem,
        fd,
        rights::PATH_REMOVE_DIRECTORY,
        path,
        path_len,
        false,
    )?;
    // Removing `.` (or the capability's own directory) is refused, as rmdir(2) does.
    let host = r.named(Errno::Inval)?;
    if !r.exists() {
        return Err(Errno::NoEnt);
    }
    if !r.is_dir() {
        return Err(Errno::NotDir);
    }
    fs::remove_dir(host)?;
    Ok(())
}

pub(crate) fn path_unlink_file(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    path: u32,
    path_len: u32,
) -> WasiResult {
    let r = lookup(
        ctx,
        mem,
        fd,
        rights::PATH_UNLINK_FILE,
        path,
        path_len,
        false,
    )?;
    let host = r.named(Errno::IsDir)?;
    if !r.exists() {
        return Err(Errno::NoEnt);
    }
    if r.is_dir() {
        return Err(Errno::IsDir);
    }
    if r.dir_required {
        return Err(Errno::NotDir);
    }
    fs::remove_file(host)?;
    Ok(())
}

pub(crate) fn path_rename(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    fd: u32,
    old_path: u32,
    old_len: u32,
    new_fd: u32,
    new_path: u32,
    new_len: u32,
) -> WasiResult {
    let old = lookup(
        ctx,
        mem,
        fd,
        rights::PATH_RENAME_SOURCE,
        old_path,
        old_len,
        false,
    )?;
    let new = lookup(
        ctx,
        mem,
        new_fd,
        rights::PATH_RENAME_TARGET,
        new_path,
        new_len,
        false,
    )?;
    let src = old.named(Errno::Busy)?;
    let dst = new.named(Errno::Busy)?;
    if !old.exists() {
        return Err(Errno::NoEnt);
    }
    if (old.dir_required || new.dir_required) && !old.is_dir() {
        return Err(Errno::NotDir);
    }
    if new.exists() {
        match (old.is_dir(), new.is_dir()) {
            (true, false) => return Err(Errno::NotDir),
            (false, true) => return Err(Errno::IsDir),
            _ => {}
        }
    }
    fs::rename(src, dst)?;
    Ok(())
}

pub(crate) fn path_symlink(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem,
    old_path: u32,
    old_len: u32,
    fd: u32,
    new_path: u32,
    new_len: u32,
) -> WasiResult {
    let target = mem.read_str(old_path, old_len)?.to_string();
    let r = lookup(ctx, mem, fd, rights::PATH_SYMLINK, new_path, new_len, false)?;
    if target.is_empty() {
        return Err(Errno::NoEnt);
    }
    if target.contains('\0') {
        return Err(Errno::Inval);
    }
    // The resolver never follows an absolute link, but other programs on the host would:
    // do not plant one.
    if target.starts_with('/') || std::path::Path::new(&target).is_absolute() {
        return Err(ESCAPE);
    }
    let host = r.named(Errno::Exist)?;
    if r.exists() {
        return Err(Errno::Exist);
    }
    if r.dir_required {
        // `target/` would have to be a directory; a new link is not one.
        return Err(Errno::NoEnt);
    }
    // Only Windows needs to know (it has two kinds of link); it looks inside the tree.
    let target_is_dir = cfg!(windows) && r.dir.join(&target).is_dir();
    host::symlink(&target, &host, target_is_dir)?;
    Ok(())
}
