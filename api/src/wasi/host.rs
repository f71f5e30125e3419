//! What the host's `std` gives back, in WASI's terms: error numbers, file types,
//! `filestat` records, timestamps.

use super::types::{Errno, FileType, layout};
use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The WASI error number for a host I/O error. On Linux the OS error number is mapped
/// exactly; elsewhere, or for errors without one, the portable `ErrorKind` decides.
pub(crate) fn errno_of(e: &io::Error) -> Errno {
    #[cfg(all(
        target_os = "linux",
        not(any(
            target_arch = "mips",
            target_arch = "mips64",
            target_arch = "sparc",
            target_arch = "sparc64"
        ))
    ))]
    if let Some(n) = e.raw_os_error()
        && let Some(errno) = linux_errno(n)
    {
        return errno;
    }
    errno_of_kind(e.kind())
}

fn errno_of_kind(kind: io::ErrorKind) -> Errno {
    use io::ErrorKind as K;
    match kind {
        K::NotFound => Errno::NoEnt,
        K::PermissionDenied => Errno::Acces,
        K::ConnectionRefused => Errno::ConnRefused,
        K::ConnectionReset => Errno::ConnReset,
        K::HostUnreachable => Errno::HostUnreach,
        K::NetworkUnreachable => Errno::NetUnreach,
        K::ConnectionAborted => Errno::ConnAborted,
        K::NotConnected => Errno::NotConn,
        K::AddrInUse => Errno::AddrInUse,
        K::AddrNotAvailable => Errno::AddrNotAvail,
        K::NetworkDown => Errno::NetDown,
        K::BrokenPipe => Errno::Pipe,
        K::AlreadyExists => Errno::Exist,
        K::WouldBlock => Errno::Again,
        K::NotADirectory => Errno::NotDir,
        K::IsADirectory => Errno::IsDir,
        K::DirectoryNotEmpty => Errno::NotEmpty,
        K::ReadOnlyFilesystem => Errno::Rofs,
        K::StaleNetworkFileHandle => Errno::Stale,
        K::InvalidInput => Errno::Inval,
        K::InvalidData => Errno::Ilseq,
        K::TimedOut => Errno::TimedOut,
        K::StorageFull => Errno::NoSpc,
        K::NotSeekable => Errno::Spipe,
        K::QuotaExceeded => Errno::Dquot,
        K::FileTooLarge => Errno::Fbig,
        K::ResourceBusy => Errno::Busy,
        K::ExecutableFileBusy => Errno::TxtBsy,
        K::Deadlock => Errno::Deadlk,
        K::CrossesDevices => Errno::Xdev,
        K::TooManyLinks => Errno::Mlink,
        K::InvalidFilename => Errno::Inval,
        K::ArgumentListTooLong => Errno::TooBig,
        K::Interrupted => Errno::Intr,
        K::Unsupported => Errno::NotSup,
        K::OutOfMemory => Errno::NoMem,
        _ => Errno::Io,
    }
}

/// Linux's error numbers (the generic table, shared by x86, arm, riscv, ...).
#[cfg(all(
    target_os = "linux",
    not(any(
        target_arch = "mips",
        target_arch = "mips64",
        target_arch = "sparc",
        target_arch = "sparc64"
    ))
))]
fn linux_errno(n: i32) -> Option<Errno> {
    Some(match n {
        1 => Errno::Perm,
        2 => Errno::NoEnt,
        3 => Errno::Srch,
        4 => Errno::Intr,
        5 => Errno::Io,
        6 => Errno::Nxio,
        7 => Errno::TooBig,
        8 => Errno::NoExec,
        9 => Errno::Badf,
        10 => Errno::Child,
        11 => Errno::Again,
        12 => Errno::NoMem,
        13 => Errno::Acces,
        14 => Errno::Fault,
        16 => Errno::Busy,
        17 => Errno::Exist,
        18 => Errno::Xdev,
        19 => Errno::NoDev,
        20 => Errno::NotDir,
        21 => Errno::IsDir,
        22 => Errno::Inval,
        23 => Errno::Nfile,
        24 => Errno::Mfile,
        25 => Errno::NoTty,
        26 => Errno::TxtBsy,
        27 => Errno::Fbig,
        28 => Errno::NoSpc,
        29 => Errno::Spipe,
        30 => Errno::Rofs,
        31 => Errno::Mlink,
        32 => Errno::Pipe,
        33 => Errno::Dom,
        34 => Errno::Range,
        35 => Errno::Deadlk,
        36 => Errno::NameTooLong,
        37 => Errno::NoLck,
        38 => Errno::NoSys,
        39 => Errno::NotEmpty,
        40 => Errno::Loop,
        42 => Errno::NoMsg,
        43 => Errno::Idrm,
        67 => Errno::NoLink,
        71 => Errno::Proto,
        72 => Errno::Multihop,
        74 => Errno::BadMsg,
        75 => Errno::Overflow,
        84 => Errno::Ilseq,
        88 => Errno::NotSock,
        89 => Errno::DestAddrReq,
        90 => Errno::MsgSize,
        91 => Errno::ProtoType,
        92 => Errno::NoProtoOpt,
        93 => Errno::ProtoNoSupport,
        95 => Errno::NotSup,
        97 => Errno::AfNoSupport,
        98 => Errno::AddrInUse,
        99 => Errno::AddrNotAvail,
        100 => Errno::NetDown,
        101 => Errno::NetUnreach,
        102 => Errno::NetReset,
        103 => Errno::ConnAborted,
        104 => Errno::ConnReset,
        105 => Errno::NoBufs,
        106 => Errno::IsConn,
        107 => Errno::NotConn,
        110 => Errno::TimedOut,
        111 => Errno::ConnRefused,
        113 => Errno::HostUnreach,
        114 => Errno::Already,
        115 => Errno::InProgress,
        116 => Errno::Stale,
        122 => Errno::Dquot,
        125 => Errno::Canceled,
        130 => Errno::OwnerDead,
        131 => Errno::NotRecoverable,
        _ => return None,
    })
}

pub(crate) fn file_type(ft: std::fs::FileType) -> FileType {
    if ft.is_symlink() {
        return FileType::SymbolicLink;
    }
    if ft.is_dir() {
        return FileType::Directory;
    }
    if ft.is_file() {
        return FileType::RegularFile;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_block_device() {
            return FileType::BlockDevice;
        }
        if ft.is_char_device() {
            return FileType::CharacterDevice;
        }
        if ft.is_socket() {
            return FileType::SocketStream;
        }
    }
    FileType::Unknown
}

/// A `filestat` record.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FileStat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

impl FileStat {
    pub fn to_bytes(self) -> [u8; layout::FILESTAT_SIZE as usize] {
        let mut b = [0u8; layout::FILESTAT_SIZE as usize];
        b[0..8].copy_from_slice(&self.dev.to_le_bytes());
        b[8..16].copy_from_slice(&self.ino.to_le_bytes());
        b[16] = self.filetype;
        b[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        b[32..40].copy_from_slice(&self.size.to_le_bytes());
        b[40..48].copy_from_slice(&self.atim.to_le_bytes());
        b[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        b[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        b
    }
}

/// Nanoseconds since the Unix epoch (0 for times before it or unknown).
pub(crate) fn nanos(t: io::Result<SystemTime>) -> u64 {
    t.ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The time `nanos` after the Unix epoch; `EINVAL` if the host cannot represent it.
pub(crate) fn system_time(nanos: u64) -> Result<SystemTime, Errno> {
    UNIX_EPOCH
        .checked_add(Duration::from_nanos(nanos))
        .ok_or(Errno::Inval)
}

pub(crate) fn filestat(md: &std::fs::Metadata) -> FileStat {
    let mut st = FileStat {
        filetype: file_type(md.file_type()) as u8,
        size: md.len(),
        nlink: 1,
        atim: nanos(md.accessed()),
        mtim: nanos(md.modified()),
        ctim: nanos(md.created()),
        ..FileStat::default()
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        st.dev = md.dev();
        st.ino = md.ino();
        st.nlink = md.nlink();
        let ts = |s: i64, ns: i64| -> u64 {
            u64::try_from(s)
                .ok()
                .and_then(|s| s.checked_mul(1_000_000_000))
                .and_then(|s| s.checked_add(u64::try_from(ns).unwrap_or(0)))
                .unwrap_or(0)
        };
        st.atim = ts(md.atime(), md.atime_nsec());
        st.mtim = ts(md.mtime(), md.mtime_nsec());
        st.ctim = ts(md.ctime(), md.ctime_nsec());
    }
    st
}

/// The inode number of a directory entry, where the host has one.
pub(crate) fn ino(md: &std::fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        md.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = md;
        0
    }
}

/// Reads at `offset` without moving the file position where the host allows it.
pub(crate) fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, offset)
    }
    #[cfg(not(any(unix, windows)))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = file;
        let pos = f.stream_position()?;
        f.seek(SeekFrom::Start(offset))?;
        let r = f.read(buf);
        f.seek(SeekFrom::Start(pos))?;
        r
    }
}

/// Writes at `offset` without moving the file position where the host allows it.
pub(crate) fn write_at(file: &std::fs::File, buf: &[u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_write(file, buf, offset)
    }
    #[cfg(not(any(unix, windows)))]
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = file;
        let pos = f.stream_position()?;
        f.seek(SeekFrom::Start(offset))?;
        let r = f.write(buf);
        f.seek(SeekFrom::Start(pos))?;
        r
    }
}

/// Creates a symbolic link at `link` whose contents are `target`.
pub(crate) fn symlink(target: &str, link: &std::path::Path, target_is_dir: bool) -> io::Result<()> {
    #[cfg(unix)]
    {
        let _ = target_is_dir;
        std::os::unix::fs::symlink(target, link)
    }
    #[cfg(windows)]
    {
        if target_is_dir {
            std::os::windows::fs::symlink_dir(target, link)
        } else {
            std::os::windows::fs::symlink_file(target, link)
        }
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (target, link, target_is_dir);
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Fills `buf` with random bytes from the host: `/dev/urandom` where there is one, else a
/// SipHash stream keyed by std's randomly seeded hasher keys.
pub(crate) fn random_fill(buf: &mut [u8]) {
    use std::io::Read;
    use std::sync::Mutex;
    static URANDOM: Mutex<Option<std::fs::File>> = Mutex::new(None);
    if let Ok(mut guard) = URANDOM.lock() {
        if guard.is_none() {
            *guard = std::fs::File::open("/dev/urandom").ok();
        }
        if let Some(f) = guard.as_mut()
            && f.read_exact(buf).is_ok()
        {
            return;
        }
    }
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let state = std::collections::hash_map::RandomState::new();
    for chunk in buf.chunks_mut(8) {
        let mut h = state.build_hasher();
        h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}
