//! Writing results: atomic in-place writes (checked against the file as it
//! was read), unified diffs, JSON reports.

use crate::source::{Decoded, Stamp};
use std::collections::BTreeSet;
use std::fmt;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why a file was not written. In every case the file is left as it is.
#[derive(Debug)]
pub enum WriteError {
    /// It is not the file that was read, or its bytes changed, since it was
    /// read (an editor saved it, `git checkout` replaced it...).
    Changed,
    /// It has other names (hard links): see [`Writer::write`].
    HardLinks(u64),
    /// The new file could not be given the file's owner and group.
    Owner {
        uid: u32,
        gid: u32,
        error: std::io::Error,
    },
    /// The user running the tool may not write it (its mode says so):
    /// what `open(path, "w")` in ruff or black would refuse.
    ReadOnly,
    /// It is not a regular file.
    NotAFile,
    Io(std::io::Error),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            WriteError::Changed => write!(f, "changed on disk during the run; not written"),
            WriteError::HardLinks(n) => write!(
                f,
                "has {n} hard links; not written (replacing it would leave the other names with the old text, writing it in place is not atomic; copy it to a file of its own to convert it)"
            ),
            WriteError::Owner { uid, gid, error } => {
                write!(f, "owned by uid {uid} gid {gid}: cannot give the new file that owner ({error}); not written")
            }
            WriteError::ReadOnly => write!(f, "not writable by this user (permission denied); not written"),
            WriteError::NotAFile => write!(f, "not a regular file; not written"),
            WriteError::Io(e) => write!(f, "cannot write: {e}"),
        }
    }
}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// The temporary files that exist now, removed on SIGINT, SIGTERM or
/// SIGHUP. A temporary is created and renamed under this lock, so the
/// handler never sees one half made or already renamed.
static LIVE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn live() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// On SIGINT, SIGTERM or SIGHUP: removes the live temporary files and exits
/// with 128 + the signal (130, 143, 129). Without the handler (it could not
/// be installed) the signal's default applies, and a later run removes what
/// is left (see [`remove_stale_temps`]).
fn install_signal_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        let _ = std::thread::Builder::new().name("signals".into()).spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let live = live();
                for p in live.iter() {
                    let _ = std::fs::remove_file(p);
                }
                // Exits holding the lock: no temporary is made or renamed
                // after this.
                std::process::exit(128 + sig);
            }
        });
    });
}

/// The name of a temporary file for `name`: `.<name>.awaitify-<pid>-`
/// (random characters and `.tmp` follow). A later run recognises it by
/// [`stale_pid`].
fn temp_prefix(name: &str) -> String {
    // Room for the rest of the name within 255 bytes.
    let mut end = name.len().min(200);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!(".{}.awaitify-{}-", &name[..end], std::process::id())
}

/// The process id in the name of a temporary file of this tool
/// (`.<name>.awaitify-<pid>-<6 characters>.tmp`), or `None`.
pub fn stale_pid(file_name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (_, tail) = rest.rsplit_once(".awaitify-")?;
    let (pid, random) = tail.split_once('-')?;
    let ok = !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && random.len() == 6
        && random.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok { pid.parse().ok() } else { None }
}

fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // Signal 0 checks that the process exists; EPERM: it does, not ours.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes, in `dir`, the temporary files of runs of this tool whose
/// process is gone (a run killed by SIGKILL, or by a signal before the
/// handler was installed). Returns the files removed, with the process id
/// of each. Temporaries of a live process (another run) are kept.
pub fn remove_stale_temps(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut removed = vec![];
    let Ok(entries) = std::fs::read_dir(dir) else { return removed };
    let mut stale: Vec<(PathBuf, u32)> = entries
        .flatten()
        .filter_map(|e| {
            let pid = stale_pid(e.file_name().to_str()?)?;
            let regular = e.file_type().is_ok_and(|t| t.is_file());
            (regular && pid != std::process::id() && !alive(pid)).then(|| (e.path(), pid))
        })
        .collect();
    stale.sort();
    for (p, pid) in stale {
        if std::fs::remove_file(&p).is_ok() {
            removed.push((p, pid));
        }
    }
    removed
}

/// Writes converted files in place. One per run: it sweeps each directory
/// it writes into once for stale temporaries (`notes` says what it removed).
#[derive(Default)]
pub struct Writer {
    swept: BTreeSet<PathBuf>,
    /// Messages for the user (`path: note: ...`), in order.
    pub notes: Vec<String>,
}

impl Writer {
    pub fn new() -> Writer {
        install_signal_handler();
        Writer::default()
    }

    /// Replaces the file at `path` (a symbolic link is followed: the file
    /// it points to is replaced, the link stays) with `bytes`, if it is
    /// still the file that was read as `original` with `stamp`.
    ///
    /// The new text goes to a temporary file in the same directory, with
    /// the file's mode, owner and group; the file is then checked again
    /// (same device and inode, size and modification time, same bytes as
    /// read) and the temporary renamed over it right after, so a reader
    /// sees the old file or the new one, never a part. Not written, with a
    /// [`WriteError`]: a file that changed since it was read, a file with
    /// hard links (replacing it would split the links,
    /// and writing it in place could leave a half-written file), or one
    /// whose owner cannot be kept.
    pub fn write(&mut self, path: &Path, bytes: &[u8], stamp: &Stamp, original: &[u8]) -> Result<(), WriteError> {
        let real = std::fs::canonicalize(path)?;
        let dir = real.parent().unwrap_or(Path::new(".")).to_path_buf();
        let name = real.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let meta = std::fs::symlink_metadata(&real)?;
        writable(&meta)?;
        may_write(&real)?;
        if Stamp::of(&meta) != *stamp {
            return Err(WriteError::Changed);
        }
        if self.swept.insert(dir.clone()) {
            for (p, pid) in remove_stale_temps(&dir) {
                self.notes.push(format!(
                    "{}: note: removed a temporary file left by an interrupted run (process {pid})",
                    p.display()
                ));
            }
        }
        let tmp = {
            let mut live = live();
            let tmp = tempfile::Builder::new().prefix(&temp_prefix(&name)).suffix(".tmp").tempfile_in(&dir)?;
            live.insert(tmp.path().to_path_buf());
            tmp
        };
        let filled = fill(&tmp, bytes, &meta);
        let mut live = live();
        let done = filled
            .and_then(|()| still_as_read(&real, stamp, original))
            .and_then(|()| std::fs::rename(tmp.path(), &real).map_err(WriteError::Io));
        if done.is_err() {
            let _ = std::fs::remove_file(tmp.path());
        }
        live.remove(tmp.path());
        drop(live);
        // Renamed or removed: nothing for its destructor to do.
        let _ = tmp.into_temp_path().keep();
        done
    }
}

/// Whether the user running the tool may write the file itself (not only
/// replace it, which the directory allows): the write bit it has by its
/// owner, group and mode, as the kernel decides for the effective user
/// (root may write a file of mode 0444, as ruff and black do then).
fn may_write(path: &Path) -> Result<(), WriteError> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return Ok(());
    };
    // SAFETY: `c` is a valid NUL-terminated path; faccessat only reads it.
    let r = unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) };
    if r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EACCES) {
        return Err(WriteError::ReadOnly);
    }
    Ok(())
}

/// The mode and link count checks made before writing.
fn writable(meta: &std::fs::Metadata) -> Result<(), WriteError> {
    if !meta.file_type().is_file() {
        return Err(WriteError::NotAFile);
    }
    if meta.nlink() > 1 {
        return Err(WriteError::HardLinks(meta.nlink()));
    }
    Ok(())
}

/// Writes the new text into the temporary file, gives it the owner, group
/// and mode of the file (`meta`) and syncs it.
fn fill(tmp: &tempfile::NamedTempFile, bytes: &[u8], meta: &std::fs::Metadata) -> Result<(), WriteError> {
    let mut f = tmp.as_file();
    f.write_all(bytes)?;
    let mine = f.metadata()?;
    if (mine.uid(), mine.gid()) != (meta.uid(), meta.gid()) {
        std::os::unix::fs::fchown(f, Some(meta.uid()), Some(meta.gid())).map_err(|error| WriteError::Owner {
            uid: meta.uid(),
            gid: meta.gid(),
            error,
        })?;
    }
    // After the chown, which clears the set-id bits.
    f.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    f.sync_all()?;
    Ok(())
}

/// Whether the file at `path` is still the one that was read: the same
/// file (device, inode), size and modification time as `stamp`, the
/// checks of [`writable`], and the bytes `original`. Not following a
/// symbolic link, and not blocking on a FIFO put in its place.
pub fn still_as_read(path: &Path, stamp: &Stamp, original: &[u8]) -> Result<(), WriteError> {
    let mut f =
        match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(WriteError::Changed);
            }
            Err(e) => return Err(e.into()),
        };
    let meta = f.metadata()?;
    if !meta.file_type().is_file() || Stamp::of(&meta) != *stamp {
        return Err(WriteError::Changed);
    }
    writable(&meta)?;
    let mut now = Vec::with_capacity(original.len());
    f.read_to_end(&mut now)?;
    if now != original {
        return Err(WriteError::Changed);
    }
    Ok(())
}

/// The diff of a file from its bytes on disk to the bytes that
/// `write_atomic` would write. A BOM is part of the first line of both sides,
/// so the diff's context matches the file and `git apply` / `patch -p1`
/// accept it.
pub fn file_diff(display: &str, decoded: &Decoded, new: &str) -> String {
    let bom = if decoded.bom { "\u{feff}" } else { "" };
    unified_diff(
        display,
        &format!("{bom}{}", decoded.disk_text(&decoded.text)),
        &format!("{bom}{}", decoded.disk_text(new)),
    )
}

/// The path as it appears after `a/` and `b/` in diff headers: relative, with
/// no leading `./` or `/` (an absolute `/tmp/x.py` gives `a/tmp/x.py`, which
/// `git apply` or `patch -p1` run from `/` resolve to the file).
fn diff_name(display: &str) -> &str {
    let mut name = display;
    loop {
        let next = name.strip_prefix("./").unwrap_or(name).trim_start_matches('/');
        if next == name {
            return name;
        }
        name = next;
    }
}

/// A unified diff with `a/` and `b/` prefixes, as `git apply` expects.
///
/// Lines are what `git apply` and `patch` take them to be: they end at
/// `\n` only. A `\r` is part of its line (a CRLF line ends in `\r\n`; a
/// file whose lines end in a bare `\r` is a single line, so its diff
/// replaces that line), and a last line without `\n` is followed by
/// `\ No newline at end of file`.
pub fn unified_diff(display: &str, old: &str, new: &str) -> String {
    let name = diff_name(display);
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let diff = similar::TextDiff::from_slices(&old_lines, &new_lines);
    let mut out = String::new();
    out.push_str(&format!("--- a/{name}\n+++ b/{name}\n"));
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        out.push_str(&format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let line = change.value();
            out.push_str(&format!("{}{line}", change.tag()));
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file at `p` as `read_stamped` reads it.
    fn read(p: &Path) -> (Vec<u8>, Stamp) {
        crate::source::read_stamped(p).unwrap()
    }

    #[test]
    fn an_untouched_file_is_still_as_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.py");
        std::fs::write(&p, "x = 1\n").unwrap();
        let (bytes, stamp) = read(&p);
        assert!(still_as_read(&p, &stamp, &bytes).is_ok());
    }

    #[test]
    fn an_edit_of_the_same_size_with_its_mtime_put_back_is_seen_in_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.py");
        std::fs::write(&p, "x = 1\n").unwrap();
        let (bytes, stamp) = read(&p);
        let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
        std::fs::write(&p, "x = 2\n").unwrap();
        std::fs::File::options().write(true).open(&p).unwrap().set_modified(mtime).unwrap();
        assert_eq!(read(&p).1, stamp, "the stamp alone cannot tell");
        assert!(matches!(still_as_read(&p, &stamp, &bytes), Err(WriteError::Changed)));
    }

    #[test]
    fn a_file_replaced_by_another_with_the_same_bytes_is_changed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.py");
        std::fs::write(&p, "x = 1\n").unwrap();
        let (bytes, stamp) = read(&p);
        let q = dir.path().join("b.py");
        std::fs::write(&q, "x = 1\n").unwrap();
        std::fs::rename(&q, &p).unwrap();
        assert!(matches!(still_as_read(&p, &stamp, &bytes), Err(WriteError::Changed)));
        std::fs::remove_file(&p).unwrap();
        assert!(matches!(still_as_read(&p, &stamp, &bytes), Err(WriteError::Changed)), "removed");
    }

    #[test]
    fn a_fifo_put_in_place_of_the_file_is_changed_and_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.py");
        std::fs::write(&p, "x = 1\n").unwrap();
        let (bytes, stamp) = read(&p);
        std::fs::remove_file(&p).unwrap();
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(matches!(still_as_read(&p, &stamp, &bytes), Err(WriteError::Changed)));
    }

    #[test]
    fn temporary_names_carry_the_process_id() {
        let prefix = temp_prefix("mod.py");
        assert_eq!(prefix, format!(".mod.py.awaitify-{}-", std::process::id()));
        assert_eq!(stale_pid(&format!("{prefix}aB3xY9.tmp")), Some(std::process::id()));
        assert_eq!(stale_pid(".x.awaitify-12-abc.tmp"), None, "six random characters");
        assert_eq!(stale_pid(".awaitify-abcdef.tmp"), None, "the old names carry no pid");
        assert_eq!(stale_pid("x.awaitify-12-abcdef.tmp"), None, "not hidden");
        assert!(temp_prefix(&"é".repeat(200)).len() < 240, "long names are cut");
    }
}
