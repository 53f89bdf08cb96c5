//! From a request target to an open file beneath the root: percent-decoding,
//! merged slashes, `..` refused, and `openat2(RESOLVE_BENEATH)` relative to the
//! root so that a symlink may point anywhere under the root but not out of it.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};

/// The served directory: its canonical path, and the directory opened once
/// (`O_PATH`) so that requests open their files relative to it.
#[derive(Debug)]
pub(crate) struct Root {
    pub(crate) path: PathBuf,
    pub(crate) dir: OwnedFd,
}

impl Root {
    /// Canonicalizes and opens `path`, which must be a directory.
    pub(crate) fn open(path: &Path) -> std::io::Result<Root> {
        let path = path.canonicalize()?;
        let dir = nix::fcntl::open(
            &path,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )?;
        Ok(Root { path, dir })
    }
}

/// The decoded path of a request target (`/a/b`, slashes merged), or the status
/// refusing it: 400 for a malformed escape, a NUL or a path not starting with
/// `/`, 403 for a `..` segment.
pub(crate) fn decoded_path(path: &str) -> Result<Cow<'_, [u8]>, u16> {
    let decoded = percent_decode(path.as_bytes()).ok_or(400u16)?;
    if !decoded.starts_with(b"/") || decoded.contains(&0) {
        return Err(400);
    }
    // `//etc/passwd` is `/etc/passwd` under the root, not the host's (nginx's
    // `merge_slashes`): what follows the first `/` is always relative.
    let decoded = merge_slashes(decoded);
    if decoded.split(|&b| b == b'/').any(|seg| seg == b"..") {
        return Err(403);
    }
    Ok(decoded)
}

/// The path relative to the root of a decoded path from [`decoded_path`] (`.` for
/// the root itself).
pub(crate) fn relative(decoded: &[u8]) -> &Path {
    let rel = decoded.strip_prefix(b"/").unwrap_or(decoded);
    if rel.is_empty() {
        Path::new(".")
    } else {
        Path::new(OsStr::from_bytes(rel))
    }
}

/// `a//b///c` as `a/b/c`. Borrows when there is nothing to merge.
pub(crate) fn merge_slashes(path: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    if !path.windows(2).any(|w| w == b"//") {
        return path;
    }
    let mut out = Vec::with_capacity(path.len());
    for &b in path.iter() {
        if !(b == b'/' && out.last() == Some(&b'/')) {
            out.push(b);
        }
    }
    out.into()
}

/// Decodes `%XX` escapes; `None` for a malformed one. Borrows when there is none.
pub(crate) fn percent_decode(s: &[u8]) -> Option<Cow<'_, [u8]>> {
    if !s.contains(&b'%') {
        return Some(s.into());
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let hex = std::str::from_utf8(s.get(i + 1..i + 3)?).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Some(out.into())
}

/// Opens `relative` under the root for reading, following symlinks only while
/// they stay under it: `openat2(RESOLVE_BENEATH)`, one system call. Where that
/// refuses (an absolute symlink, a path leaving the root) or is missing (Linux
/// before 5.6), `canonicalize` and a prefix check decide. Errors are the status
/// to answer: 403 for a path out of the root or not readable, 404 for a missing
/// one, 500 for the server's trouble (logged).
pub(crate) fn open_beneath(root: &Root, relative: &Path) -> Result<File, u16> {
    // O_NONBLOCK: a FIFO under the root must not hang open(2) (it is then
    // refused as not a regular file). No effect on regular files.
    let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    match openat2_beneath(root, relative, flags) {
        Ok(fd) => Ok(File::from(fd)),
        Err(Fallback::Canonical) => open_canonical(&root.path, relative),
        Err(Fallback::Status(s)) => Err(s),
    }
}

#[derive(Debug)]
pub(crate) enum Fallback {
    /// openat2 could not decide: resolve the path in full and check its prefix.
    Canonical,
    /// The status to answer.
    Status(u16),
}

/// `openat2(root, relative, flags, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`.
pub(crate) fn openat2_beneath(
    root: &Root,
    relative: &Path,
    flags: OFlag,
) -> Result<OwnedFd, Fallback> {
    // No mode: openat2 refuses one without O_CREAT (EINVAL), which would send
    // every open down the slow path.
    let how = OpenHow::new()
        .flags(flags)
        .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    match openat2(&root.dir, relative, how) {
        Ok(fd) => Ok(fd),
        // EXDEV: the path left the root, or met an absolute symlink (which may
        // well point under the root); ELOOP: a symlink chain; ENOSYS, EPERM,
        // EINVAL, E2BIG: no (full) openat2 here. The slow path decides.
        Err(
            Errno::EXDEV
            | Errno::ELOOP
            | Errno::ENOSYS
            | Errno::EPERM
            | Errno::EINVAL
            | Errno::E2BIG,
        ) => Err(Fallback::Canonical),
        Err(e) => Err(Fallback::Status(status_of(e.into()))),
    }
}

/// The fallback of [`open_beneath`]: resolve every symlink, then check the prefix.
fn open_canonical(root: &Path, relative: &Path) -> Result<File, u16> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = root.join(relative).canonicalize().map_err(status_of)?;
    if !path.starts_with(root) {
        return Err(403); // a symlink out of the root
    }
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OFlag::O_NONBLOCK.bits())
        .open(&path)
        .map_err(status_of)
}

/// The status answering a failed file system call: the request's fault (404,
/// 403) or the server's (500, logged: out of file descriptors, for instance).
pub(crate) fn status_of(e: std::io::Error) -> u16 {
    match e.raw_os_error().map(Errno::from_raw) {
        Some(Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG | Errno::ELOOP) => 404,
        Some(Errno::EACCES | Errno::EPERM | Errno::EROFS) => 403,
        _ => {
            tracing::error!(error = %e, "static files: a file system call failed");
            500
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn targets_are_decoded_merged_and_checked() {
        for (target, want) in [
            ("/a%20b", Ok(&b"/a b"[..])),
            ("//etc/passwd", Ok(b"/etc/passwd")),
            ("/%2Fetc/passwd", Ok(b"/etc/passwd")),
            ("/a//b///c/", Ok(b"/a/b/c/")),
            ("/", Ok(b"/")),
            ("/../x", Err(403)),
            ("/a/%2e%2e/x", Err(403)),
            ("/bad%zz", Err(400)),
            ("/bad%+1", Err(400)),
            ("/bad%4", Err(400)),
            ("/nul%00", Err(400)),
            ("%2Fx", Ok(b"/x")),
            ("x", Err(400)),
        ] {
            let got = decoded_path(target);
            assert_eq!(got.as_deref().map_err(|&s| s), want, "{target}");
        }
        assert_eq!(relative(b"/"), Path::new("."));
        assert_eq!(relative(b"/a/b"), Path::new("a/b"));
    }

    /// The fast path is taken: one openat2, no fallback (which costs a
    /// `readlink` per path component and an open).
    #[test]
    fn a_plain_file_opens_with_openat2_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"x").unwrap();
        let root = Root::open(dir.path()).unwrap();
        let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
        let got = openat2_beneath(&root, Path::new("f"), flags);
        assert!(got.is_ok(), "{got:?} (Linux 5.6 or later has openat2)");
    }

    #[test]
    fn files_open_beneath_the_root_only() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"x").unwrap();
        std::fs::write(outside.path().join("secret"), b"s").unwrap();
        symlink(dir.path().join("f"), dir.path().join("abs-in")).unwrap();
        symlink(outside.path().join("secret"), dir.path().join("abs-out")).unwrap();
        symlink("f", dir.path().join("rel-in")).unwrap();
        let root = Root::open(dir.path()).unwrap();
        for (p, want) in [
            ("f", Ok(())),
            ("abs-in", Ok(())),
            ("rel-in", Ok(())),
            (".", Ok(())),
            ("abs-out", Err(403)),
            ("missing", Err(404)),
            ("f/under-a-file", Err(404)),
        ] {
            let got = open_beneath(&root, Path::new(p)).map(drop);
            assert_eq!(got, want, "{p}");
        }
    }
}
