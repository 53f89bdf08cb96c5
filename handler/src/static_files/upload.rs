//! Uploads (`PUT /a/b` stores ROOT/a/b): the blocking part. The body goes to a
//! temporary file in the target's directory, renamed over the target at the end,
//! so a reader sees the old file or the new one, never half of it; an upload
//! that does not finish leaves nothing behind (the temporary file is removed when
//! its [`Upload`] is dropped uncommitted).
//!
//! Directories on the way are created beneath the root: each is made with
//! `mkdirat` in its parent and opened with `openat2(RESOLVE_BENEATH)` from the
//! root, so a symlink on the path cannot lead the upload out of the root.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, OpenHow, ResolveFlag, openat, openat2, renameat};
use nix::sys::stat::{Mode, SFlag, fstatat, mkdirat};
use nix::unistd::{UnlinkatFlags, unlinkat};
use seine_buffer::CompositeBuf;

use super::resolve::{Root, status_of};

/// An upload in progress: the temporary file, open for writing, in the directory
/// of its target.
#[derive(Debug)]
pub(crate) struct Upload {
    dir: OwnedFd,
    temp: OsString,
    name: OsString,
    file: File,
    /// The target existed when the upload began (the answer is 204, else 201).
    existed: bool,
    committed: bool,
}

impl Upload {
    /// Starts an upload to the decoded path `decoded` (`/a/b`): creates the
    /// missing directories, then the temporary file. Errors are the status to
    /// answer: 409 for a path that names a directory or crosses a file, 403 for
    /// one that leaves the root or may not be written, 500 otherwise.
    pub(crate) fn start(root: &Root, decoded: &[u8]) -> Result<Upload, u16> {
        let rel = decoded.strip_prefix(b"/").unwrap_or(decoded);
        if rel.is_empty() || rel.ends_with(b"/") {
            return Err(409); // a directory cannot be PUT
        }
        let (parent, name) = match rel.iter().rposition(|&b| b == b'/') {
            Some(i) => (&rel[..i], &rel[i + 1..]),
            None => (&b""[..], rel),
        };
        if name == b"." {
            return Err(409);
        }
        let dir = make_dirs(root, parent)?;
        let name = OsStr::from_bytes(name).to_os_string();
        let existed = match fstatat(&dir, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR => {
                return Err(409);
            }
            Ok(_) => true,
            Err(Errno::ENOENT) => false,
            Err(e) => return Err(status_of(e.into())),
        };
        let temp = temp_name(&name);
        let fd = openat(
            &dir,
            temp.as_os_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW,
            Mode::from_bits_truncate(0o644),
        )
        .map_err(|e| status_of(e.into()))?;
        Ok(Upload {
            dir,
            temp,
            name,
            file: File::from(fd),
            existed,
            committed: false,
        })
    }

    /// Appends `data` to the file. Errors are the status to answer (507 when the
    /// disk or the quota is full).
    pub(crate) fn write(&mut self, data: &CompositeBuf) -> Result<(), u16> {
        for seg in data.segments() {
            self.file.write_all(seg).map_err(write_status)?;
        }
        Ok(())
    }

    /// Renames the file over its target: the upload is done. Returns 201 if the
    /// target is new, 204 if it was replaced.
    pub(crate) fn commit(mut self) -> Result<u16, u16> {
        renameat(
            &self.dir,
            self.temp.as_os_str(),
            &self.dir,
            self.name.as_os_str(),
        )
        .map_err(|e| status_of(e.into()))?;
        self.committed = true;
        Ok(if self.existed { 204 } else { 201 })
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.committed {
            let _ = unlinkat(&self.dir, self.temp.as_os_str(), UnlinkatFlags::NoRemoveDir);
        }
    }
}

/// The status answering a failed write.
fn write_status(e: std::io::Error) -> u16 {
    match e.raw_os_error().map(Errno::from_raw) {
        Some(Errno::ENOSPC | Errno::EDQUOT) => 507,
        _ => status_of(e),
    }
}

/// `.<name>.upload-<16 hex digits>`: hidden, and unique enough to be created
/// with `O_EXCL` (a clash answers 500, it does not overwrite).
fn temp_name(name: &OsStr) -> OsString {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write(name.as_bytes());
    let mut t = OsString::from(".");
    t.push(name);
    t.push(format!(".upload-{:016x}", h.finish()));
    t
}

/// Opens the directory `parent` (relative, no `..`) beneath the root, creating
/// what is missing of it, one level at a time.
fn make_dirs(root: &Root, parent: &[u8]) -> Result<OwnedFd, u16> {
    let open = |rel: &[u8]| -> Result<OwnedFd, Errno> {
        let rel = if rel.is_empty() {
            Path::new(".")
        } else {
            Path::new(OsStr::from_bytes(rel))
        };
        let how = OpenHow::new()
            .flags(OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
            .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        openat2(&root.dir, rel, how)
    };
    let refuse = |e: Errno| match e {
        // Out of the root (or no openat2 here: uploads need it).
        Errno::EXDEV | Errno::ELOOP | Errno::ENOSYS | Errno::EPERM | Errno::EINVAL => 403,
        // A file where a directory should be.
        Errno::ENOTDIR | Errno::EEXIST => 409,
        e => status_of(e.into()),
    };
    match open(parent) {
        Ok(fd) => return Ok(fd),
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(refuse(e)),
    }
    let mut dir = open(b"").map_err(refuse)?;
    let mut end = 0;
    for seg in parent.split(|&b| b == b'/') {
        end += seg.len();
        if !seg.is_empty() && seg != b"." {
            match mkdirat(
                &dir,
                OsStr::from_bytes(seg),
                Mode::from_bits_truncate(0o755),
            ) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(refuse(e)),
            }
            dir = open(&parent[..end]).map_err(refuse)?;
        }
        end += 1; // the slash
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(s: &'static [u8]) -> CompositeBuf {
        CompositeBuf::from(s)
    }

    #[test]
    fn an_upload_creates_directories_and_appears_whole_at_commit() {
        let dir = tempfile::tempdir().unwrap();
        let root = Root::open(dir.path()).unwrap();
        let mut up = Upload::start(&root, b"/a/b/c.txt").unwrap();
        up.write(&data(b"hello ")).unwrap();
        up.write(&data(b"world")).unwrap();
        assert!(
            !dir.path().join("a/b/c.txt").exists(),
            "not before the commit"
        );
        assert_eq!(up.commit(), Ok(201));
        assert_eq!(
            std::fs::read(dir.path().join("a/b/c.txt")).unwrap(),
            b"hello world"
        );
        let mut up = Upload::start(&root, b"/a/b/c.txt").unwrap();
        up.write(&data(b"new")).unwrap();
        assert_eq!(up.commit(), Ok(204));
        assert_eq!(std::fs::read(dir.path().join("a/b/c.txt")).unwrap(), b"new");
        // Nothing else left in the directory (no temporary file).
        assert_eq!(
            std::fs::read_dir(dir.path().join("a/b")).unwrap().count(),
            1
        );
    }

    #[test]
    fn an_unfinished_upload_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep"), b"old").unwrap();
        let root = Root::open(dir.path()).unwrap();
        let mut up = Upload::start(&root, b"/keep").unwrap();
        up.write(&data(b"partial")).unwrap();
        drop(up);
        assert_eq!(std::fs::read(dir.path().join("keep")).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn uploads_stay_beneath_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        std::fs::write(dir.path().join("file"), b"").unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        let root = Root::open(dir.path()).unwrap();
        for (path, status) in [
            (&b"/out/x"[..], 403),
            (b"/out/new/x", 403),
            (b"/file/x", 409),
            (b"/d", 409),
            (b"/d/", 409),
            (b"/", 409),
        ] {
            assert_eq!(
                Upload::start(&root, path).map(drop),
                Err(status),
                "{}",
                String::from_utf8_lossy(path)
            );
        }
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }
}
