//! Guest path resolution: the security boundary of the filesystem.
//!
//! A guest names files by a directory descriptor plus a relative path. The descriptor is
//! a capability for the tree below its host directory, and nothing the guest writes may
//! reach outside it. The kernel would follow `..` and symbolic links wherever they point,
//! so the resolver walks the path itself, one component at a time:
//!
//! - an absolute path is refused at once;
//! - `.` and empty components (`a//b`) are skipped;
//! - `..` pops the last directory entered; popping above the capability's directory is an
//!   escape and is refused;
//! - a symbolic link met along the way is read and its contents spliced into the path in
//!   its place (a link with an absolute target is refused), with at most
//!   [`MAX_SYMLINKS`] expansions (`ELOOP` beyond);
//! - every component entered must be a real directory (checked with `symlink_metadata`,
//!   which does not follow links).
//!
//! The result is a host path made only of checked real directories below the capability
//! root, plus a final name. Callers that must not follow a final symbolic link act on the
//! link itself (`symlink_metadata`, `remove_file`, `rename`, `read_link`); callers that
//! follow had the resolver expand it. Either way, the host path handed to `std::fs`
//! contains no symbolic link the guest could have aimed outside.
//!
//! Directory descriptors stay open while the guest renames things, so a descriptor's
//! own path is checked again, component by component, each time it is used
//! (`DirHandle::host`): moving a directory away and planting a link out under its old
//! name does not carry the descriptor outside.
//!
//! The guest runs on one thread and cannot change the tree between the check and the use.
//! Another host process that swaps a checked directory for a symbolic link in that
//! window could still redirect one operation; guarding against that needs `openat`-style
//! descriptor-relative calls, which `std` does not offer.

use super::types::{Errno, WasiResult};
use std::collections::VecDeque;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Most symbolic links one resolution expands (Linux's limit is 40).
pub(crate) const MAX_SYMLINKS: usize = 32;

/// The error for a path that would leave its directory capability. wasmtime reports
/// `EPERM` for these (its filesystem layer maps the sandbox check to "permission
/// denied"); we do the same so programs behave alike on both.
pub(crate) const ESCAPE: Errno = Errno::Perm;

/// Where a guest path leads.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// Host path of the directory holding the final component.
    pub dir: PathBuf,
    /// The components leading from the capability directory to `dir`.
    pub stack: Vec<String>,
    /// The final component; `None` when the path names the directory `dir` itself (`.`,
    /// `a/..`, `a/.`).
    pub name: Option<String>,
    /// What the final component is (`None` if it does not exist), without following it.
    pub meta: Option<fs::Metadata>,
    /// The path ended in `/`: the final object must be a directory.
    pub dir_required: bool,
}

impl Resolved {
    /// The host path of the final object.
    pub fn host(&self) -> PathBuf {
        match &self.name {
            Some(n) => self.dir.join(n),
            None => self.dir.clone(),
        }
    }

    /// The host path, for operations that need a name (not `.` or `..`).
    pub fn named(&self, otherwise: Errno) -> WasiResult<PathBuf> {
        match &self.name {
            Some(n) => Ok(self.dir.join(n)),
            None => Err(otherwise),
        }
    }

    pub fn exists(&self) -> bool {
        self.meta.is_some()
    }

    pub fn is_dir(&self) -> bool {
        self.meta.as_ref().is_some_and(|m| m.is_dir())
    }

    pub fn is_symlink(&self) -> bool {
        self.meta
            .as_ref()
            .is_some_and(|m| m.file_type().is_symlink())
    }
}

fn lstat(p: &Path) -> WasiResult<Option<fs::Metadata>> {
    match fs::symlink_metadata(p) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn check_component(c: &str) -> WasiResult<()> {
    if c.contains('\0') {
        return Err(Errno::Inval);
    }
    // On Windows `\` and `:` would start a new path or name a drive or stream.
    #[cfg(windows)]
    if c.contains('\\') || c.contains(':') {
        return Err(ESCAPE);
    }
    Ok(())
}

/// Resolves `path` against the capability directory `root`, following a final symbolic
/// link only when `follow` is set (or the path ends in `/`).
pub(crate) fn resolve(root: &Path, path: &str, follow: bool) -> WasiResult<Resolved> {
    if path.is_empty() {
        return Err(Errno::NoEnt);
    }
    if path.starts_with('/') {
        return Err(ESCAPE);
    }
    #[cfg(windows)]
    if path.starts_with('\\') || path.contains(':') {
        return Err(ESCAPE);
    }
    let trimmed = path.trim_end_matches('/');
    let mut dir_required = trimmed.len() != path.len();
    let mut pending: VecDeque<String> = trimmed.split('/').map(str::to_string).collect();
    let mut stack: Vec<String> = Vec::new();
    let mut here = root.to_path_buf();
    let mut links = 0;
    while let Some(c) = pending.pop_front() {
        let last = pending.is_empty();
        match c.as_str() {
            "" | "." => {}
            ".." => {
                if stack.pop().is_none() {
                    return Err(ESCAPE);
                }
                here.pop();
            }
            name => {
                check_component(name)?;
                let candidate = here.join(name);
                let meta = lstat(&candidate)?;
                let is_link = meta.as_ref().is_some_and(|m| m.file_type().is_symlink());
                if is_link && (!last || follow || dir_required) {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Errno::Loop);
                    }
                    let target = fs::read_link(&candidate)?;
                    let target = target.to_str().ok_or(Errno::Ilseq)?;
                    if target.starts_with('/') || Path::new(target).is_absolute() {
                        return Err(ESCAPE);
                    }
                    let t = target.trim_end_matches('/');
                    if last && t.len() != target.len() {
                        dir_required = true;
                    }
                    for part in t.split('/').rev() {
                        pending.push_front(part.to_string());
                    }
                    if t.is_empty() {
                        // A link to "" names nothing.
                        return Err(Errno::NoEnt);
                    }
                    continue;
                }
                if last {
                    if dir_required && meta.as_ref().is_some_and(|m| !m.is_dir()) {
                        return Err(Errno::NotDir);
                    }
                    return Ok(Resolved {
                        dir: here,
                        stack,
                        name: Some(name.to_string()),
                        meta,
                        dir_required,
                    });
                }
                match meta {
                    None => return Err(Errno::NoEnt),
                    Some(m) if !m.is_dir() => return Err(Errno::NotDir),
                    Some(_) => {}
                }
                stack.push(name.to_string());
                here = candidate;
            }
        }
    }
    // The path ended in `.`, `..` or a link to a directory above: it names `here`.
    let meta = lstat(&here)?;
    Ok(Resolved {
        dir: here,
        stack,
        name: None,
        meta,
        dir_required: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory under the system temp dir, removed on drop.
    struct Scratch(PathBuf);
    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let p = std::env::temp_dir().join(format!(
                "gloam-wasi-path-{tag}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(p.join("root/a/b")).unwrap();
            fs::write(p.join("root/a/file"), b"x").unwrap();
            fs::write(p.join("secret"), b"s").unwrap();
            Scratch(p)
        }
        fn root(&self) -> PathBuf {
            self.0.join("root")
        }
    }
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn err(root: &Path, p: &str, follow: bool) -> Errno {
        resolve(root, p, follow).unwrap_err()
    }

    #[test]
    fn plain_paths() {
        let s = Scratch::new("plain");
        let root = s.root();
        let r = resolve(&root, "a/file", true).unwrap();
        assert_eq!(r.host(), root.join("a/file"));
        assert!(r.exists() && !r.is_dir());
        let r = resolve(&root, "./a//b/../b/", false).unwrap();
        assert_eq!(r.host(), root.join("a/b"));
        assert!(r.dir_required);
        let r = resolve(&root, ".", false).unwrap();
        assert!(r.name.is_none());
        assert_eq!(r.host(), root);
        let r = resolve(&root, "a/new", false).unwrap();
        assert!(!r.exists());
        assert_eq!(err(&root, "", false), Errno::NoEnt);
        assert_eq!(err(&root, "nope/x", false), Errno::NoEnt);
        assert_eq!(err(&root, "a/file/x", false), Errno::NotDir);
        assert_eq!(err(&root, "a/file/", false), Errno::NotDir);
    }

    #[test]
    fn escapes_are_refused() {
        let s = Scratch::new("escape");
        let root = s.root();
        assert_eq!(err(&root, "..", false), ESCAPE);
        assert_eq!(err(&root, "../secret", true), ESCAPE);
        assert_eq!(err(&root, "a/../../secret", true), ESCAPE);
        assert_eq!(err(&root, "a/b/../../..", true), ESCAPE);
        assert_eq!(err(&root, "/etc/passwd", true), ESCAPE);
        // Inside again after a `..` that stays within: fine.
        assert!(resolve(&root, "a/../a/file", true).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_stay_inside() {
        use std::os::unix::fs::symlink;
        let s = Scratch::new("links");
        let root = s.root();
        symlink("../../secret", root.join("a/up")).unwrap();
        symlink(s.0.join("secret"), root.join("abs")).unwrap();
        symlink("b", root.join("a/inside")).unwrap();
        symlink("loop2", root.join("loop1")).unwrap();
        symlink("loop1", root.join("loop2")).unwrap();
        symlink("file", root.join("a/tofile")).unwrap();
        // Following a link out is refused; not following it names the link itself.
        assert_eq!(err(&root, "a/up", true), ESCAPE);
        assert_eq!(err(&root, "abs", true), ESCAPE);
        assert_eq!(err(&root, "abs/x", false), ESCAPE);
        let r = resolve(&root, "a/up", false).unwrap();
        assert!(r.is_symlink());
        assert_eq!(r.host(), root.join("a/up"));
        // A link inside resolves to its target, physically (`inside/..` is `a`).
        let r = resolve(&root, "a/inside/..", true).unwrap();
        assert_eq!(r.host(), root.join("a"));
        let r = resolve(&root, "a/inside", true).unwrap();
        assert_eq!(r.host(), root.join("a/b"));
        assert_eq!(err(&root, "loop1", true), Errno::Loop);
        assert_eq!(err(&root, "a/tofile/", false), Errno::NotDir);
    }
}
