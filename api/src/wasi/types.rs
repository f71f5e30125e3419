//! The `wasi_snapshot_preview1` ABI: error numbers, flags, rights and struct layouts, as
//! the witx definitions of preview 1 give them. Everything the guest sees as a number is
//! named here once.

use std::fmt;

macro_rules! errnos {
    ($($name:ident = $n:literal, $msg:literal;)*) => {
        /// A WASI error number (`errno`), returned by every call as its `i32` result.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Errno {
            $(#[doc = $msg] $name = $n,)*
        }

        impl Errno {
            /// The description the WASI documentation gives.
            pub fn message(self) -> &'static str {
                match self { $(Errno::$name => $msg,)* }
            }

            /// The error with number `n`, if there is one.
            pub fn from_raw(n: u16) -> Option<Errno> {
                match n { $($n => Some(Errno::$name),)* _ => None }
            }
        }
    };
}

errnos! {
    Success = 0, "No error occurred.";
    TooBig = 1, "Argument list too long.";
    Acces = 2, "Permission denied.";
    AddrInUse = 3, "Address in use.";
    AddrNotAvail = 4, "Address not available.";
    AfNoSupport = 5, "Address family not supported.";
    Again = 6, "Resource unavailable, or operation would block.";
    Already = 7, "Connection already in progress.";
    Badf = 8, "Bad file descriptor.";
    BadMsg = 9, "Bad message.";
    Busy = 10, "Device or resource busy.";
    Canceled = 11, "Operation canceled.";
    Child = 12, "No child processes.";
    ConnAborted = 13, "Connection aborted.";
    ConnRefused = 14, "Connection refused.";
    ConnReset = 15, "Connection reset.";
    Deadlk = 16, "Resource deadlock would occur.";
    DestAddrReq = 17, "Destination address required.";
    Dom = 18, "Mathematics argument out of domain of function.";
    Dquot = 19, "Reserved.";
    Exist = 20, "File exists.";
    Fault = 21, "Bad address.";
    Fbig = 22, "File too large.";
    HostUnreach = 23, "Host is unreachable.";
    Idrm = 24, "Identifier removed.";
    Ilseq = 25, "Illegal byte sequence.";
    InProgress = 26, "Operation in progress.";
    Intr = 27, "Interrupted function.";
    Inval = 28, "Invalid argument.";
    Io = 29, "I/O error.";
    IsConn = 30, "Socket is connected.";
    IsDir = 31, "Is a directory.";
    Loop = 32, "Too many levels of symbolic links.";
    Mfile = 33, "File descriptor value too large.";
    Mlink = 34, "Too many links.";
    MsgSize = 35, "Message too large.";
    Multihop = 36, "Reserved.";
    NameTooLong = 37, "Filename too long.";
    NetDown = 38, "Network is down.";
    NetReset = 39, "Connection aborted by network.";
    NetUnreach = 40, "Network unreachable.";
    Nfile = 41, "Too many files open in system.";
    NoBufs = 42, "No buffer space available.";
    NoDev = 43, "No such device.";
    NoEnt = 44, "No such file or directory.";
    NoExec = 45, "Executable file format error.";
    NoLck = 46, "No locks available.";
    NoLink = 47, "Reserved.";
    NoMem = 48, "Not enough space.";
    NoMsg = 49, "No message of the desired type.";
    NoProtoOpt = 50, "Protocol not available.";
    NoSpc = 51, "No space left on device.";
    NoSys = 52, "Function not supported.";
    NotConn = 53, "The socket is not connected.";
    NotDir = 54, "Not a directory or a symbolic link to a directory.";
    NotEmpty = 55, "Directory not empty.";
    NotRecoverable = 56, "State not recoverable.";
    NotSock = 57, "Not a socket.";
    NotSup = 58, "Not supported, or operation not supported on socket.";
    NoTty = 59, "Inappropriate I/O control operation.";
    Nxio = 60, "No such device or address.";
    Overflow = 61, "Value too large to be stored in data type.";
    OwnerDead = 62, "Previous owner died.";
    Perm = 63, "Operation not permitted.";
    Pipe = 64, "Broken pipe.";
    Proto = 65, "Protocol error.";
    ProtoNoSupport = 66, "Protocol not supported.";
    ProtoType = 67, "Protocol wrong type for socket.";
    Range = 68, "Result too large.";
    Rofs = 69, "Read-only file system.";
    Spipe = 70, "Invalid seek.";
    Srch = 71, "No such process.";
    Stale = 72, "Reserved.";
    TimedOut = 73, "Connection timed out.";
    TxtBsy = 74, "Text file busy.";
    Xdev = 75, "Cross-device link.";
    NotCapable = 76, "Extension: Capabilities insufficient.";
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (errno {})", self.message(), *self as u16)
    }
}

impl std::error::Error for Errno {}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        crate::wasi::host::errno_of(&e)
    }
}

/// What a WASI call returns to the glue: success or an error number.
pub type WasiResult<T = ()> = Result<T, Errno>;

/// `clockid`.
pub mod clock {
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
    pub const PROCESS_CPUTIME: u32 = 2;
    pub const THREAD_CPUTIME: u32 = 3;
}

/// `filetype`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FileType {
    Unknown = 0,
    BlockDevice = 1,
    CharacterDevice = 2,
    Directory = 3,
    RegularFile = 4,
    SocketDgram = 5,
    SocketStream = 6,
    SymbolicLink = 7,
}

/// `fdflags`.
pub mod fdflags {
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
    pub const ALL: u16 = APPEND | DSYNC | NONBLOCK | RSYNC | SYNC;
}

/// `oflags`.
pub mod oflags {
    pub const CREAT: u16 = 1 << 0;
    pub const DIRECTORY: u16 = 1 << 1;
    pub const EXCL: u16 = 1 << 2;
    pub const TRUNC: u16 = 1 << 3;
    pub const ALL: u16 = CREAT | DIRECTORY | EXCL | TRUNC;
}

/// `lookupflags`.
pub const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

/// `fstflags`.
pub mod fstflags {
    pub const ATIM: u16 = 1 << 0;
    pub const ATIM_NOW: u16 = 1 << 1;
    pub const MTIM: u16 = 1 << 2;
    pub const MTIM_NOW: u16 = 1 << 3;
}

/// `whence`.
pub mod whence {
    pub const SET: u8 = 0;
    pub const CUR: u8 = 1;
    pub const END: u8 = 2;
}

/// `eventtype`.
pub mod eventtype {
    pub const CLOCK: u8 = 0;
    pub const FD_READ: u8 = 1;
    pub const FD_WRITE: u8 = 2;
}

/// `subclockflags`.
pub const SUBSCRIPTION_CLOCK_ABSTIME: u16 = 1;

/// `eventrwflags`.
pub const EVENT_FD_READWRITE_HANGUP: u16 = 1;

/// `preopentype`.
pub const PREOPENTYPE_DIR: u8 = 0;

/// `rights`: what a descriptor may be used for. A directory's *inheriting* rights bound
/// the rights of the descriptors opened through it.
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;
    pub const ALL: u64 = (1 << 30) - 1;

    /// Rights that make sense on a regular file.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;

    /// Rights that make sense on a directory.
    pub const DIR: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_ADVISE
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE
        | POLL_FD_READWRITE;

    /// Directory rights that change the tree (left out of a read-only preopen).
    pub const DIR_MUTATE: u64 = PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;

    /// File rights that write (left out of a read-only preopen's inheriting rights).
    pub const FILE_WRITE: u64 = FD_DATASYNC
        | FD_WRITE
        | FD_ALLOCATE
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | FD_FDSTAT_SET_FLAGS;

    /// Rights of standard input and output: a stream, no seeking.
    pub const STDIO: u64 = FD_READ
        | FD_WRITE
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_DATASYNC
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE;
}

/// Byte layouts of the structs the calls read or write (wasm32, little-endian).
pub mod layout {
    /// `iovec`/`ciovec`: `buf: u32`, `buf_len: u32`.
    pub const IOVEC_SIZE: u32 = 8;
    /// `fdstat`: filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16.
    pub const FDSTAT_SIZE: u32 = 24;
    /// `filestat`: dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40,
    /// mtim @48, ctim @56.
    pub const FILESTAT_SIZE: u32 = 64;
    /// `prestat`: tag u8 @0, name length u32 @4.
    pub const PRESTAT_SIZE: u32 = 8;
    /// `dirent` header: d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20.
    pub const DIRENT_SIZE: u32 = 24;
    /// `subscription`: userdata u64 @0, tag u8 @8, body @16 (clock: id u32 @16,
    /// timeout u64 @24, precision u64 @32, flags u16 @40; fd_readwrite: fd u32 @16).
    pub const SUBSCRIPTION_SIZE: u32 = 48;
    /// `event`: userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24.
    pub const EVENT_SIZE: u32 = 32;
}
