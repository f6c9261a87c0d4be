//! Publishing a command's results all-or-nothing (docs/reliability.md).
//!
//! Every command that writes a folder (`drq golden`, `drq sim`, network
//! runs, `drq verilog`, `drq regress`, `drq waves`, `drq eval`, `drq synth`)
//! writes into a [`Staging`] folder: a fresh private folder beside `--out`,
//! `<parent>/.<name>.staging-<pid>-<random>`. [`Staging::publish`] then
//! moves it into place in one step: `renameat2(RENAME_EXCHANGE)` swaps the
//! staging folder and the old `--out` (one atomic system call; the old
//! results end up under the staging name and are removed), or a plain
//! `rename` when `--out` does not exist yet. A reader, a concurrent second
//! run or a signal therefore sees the old folder or the new one, never a
//! mix, and never no folder (on file systems without `RENAME_EXCHANGE` a
//! fallback renames the old folder aside first, leaving a short moment
//! without one).
//!
//! Entries of the old folder that the command does not produce (a user's
//! own files, other commands' results) are carried over into the new folder
//! as hard links (copies where links fail) just before the swap; entries it
//! does produce but this run did not write (a stale `mask_out.npy`, a
//! `layer5/` of a longer network) are dropped.
//!
//! [`install_signal_handlers`] makes SIGINT, SIGTERM and SIGHUP remove this
//! process's staging folders and exit non-zero with one line. Staging
//! folders of processes that died without that chance (SIGKILL, power) are
//! removed by the next run that publishes to the same `--out`.
//!
//! Tests pause a run at a named point with `DRQ_TEST_PAUSE_AT=<point>` (see
//! [`pause_point`]) to send it a signal there.

use std::ffi::CString;
use std::hash::{BuildHasher, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A folder could not be staged or published; names the path at fault.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PublishError {
    pub path: String,
    pub message: String,
}

fn err(path: &Path, message: impl ToString) -> PublishError {
    PublishError {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// Where a registered staging folder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Holds this run's unpublished results.
    Staged,
    /// Swapped into place: the staging path now holds the old results.
    Published,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    staging: PathBuf,
    out: PathBuf,
    state: State,
}

/// Staging folders of this process, for the signal handler. Held across a
/// publish's swap so that a signal never lands between two of its steps.
static REGISTRY: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn registry() -> MutexGuard<'static, Vec<Entry>> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// A fresh private folder beside an output folder, moved into its place by
/// [`Staging::publish`]; removed if dropped unpublished.
#[derive(Debug)]
pub struct Staging {
    id: u64,
    /// The output folder as the user named it (for messages).
    shown: PathBuf,
    /// The output folder (symlinks resolved).
    out: PathBuf,
    dir: PathBuf,
    /// The topmost folder that `new` created above `out`, removed again if
    /// the run fails.
    created: Option<PathBuf>,
    files: usize,
    published: bool,
}

/// Prefix of the staging folders of an output folder named `name`.
fn staging_prefix(name: &str) -> String {
    format!(".{name}.staging-")
}

/// Prefix of the old folder moved aside by the fallback publish.
fn aside_prefix(name: &str) -> String {
    format!(".{name}.old-")
}

fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(NEXT_ID.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// Whether process `pid` exists (a process of another user counts).
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks for the process.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The pid in `<prefix><pid>-<random>`.
fn pid_of(entry: &str, prefix: &str) -> Option<u32> {
    entry.strip_prefix(prefix)?.split('-').next()?.parse().ok()
}

/// Remove the staging folders that dead processes left beside `out`, and
/// put back an old folder the fallback publish moved aside when `out` went
/// missing with it.
fn clean_dead(parent: &Path, name: &str, out: &Path) {
    let Ok(rd) = std::fs::read_dir(parent) else {
        return;
    };
    let (staging, aside) = (staging_prefix(name), aside_prefix(name));
    let me = std::process::id();
    for e in rd.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let (pid, is_aside) = match (pid_of(&file, &staging), pid_of(&file, &aside)) {
            (Some(p), _) => (p, false),
            (_, Some(p)) => (p, true),
            _ => continue,
        };
        if pid == me || alive(pid) {
            continue;
        }
        let path = e.path();
        if is_aside && std::fs::symlink_metadata(out).is_err() {
            let _ = std::fs::rename(&path, out);
        } else {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

impl Staging {
    /// A new staging folder for the output folder `out` (created with its
    /// missing parents; `out` itself is not touched). Staging folders of
    /// dead processes beside `out` are removed first.
    pub fn new(out: &Path) -> Result<Staging, PublishError> {
        let shown = out.to_path_buf();
        let meta = std::fs::symlink_metadata(out).ok();
        let out = match &meta {
            Some(m) if m.file_type().is_symlink() => std::fs::canonicalize(out)
                .map_err(|e| err(out, format!("a symbolic link that does not resolve: {e}")))?,
            _ => out.to_path_buf(),
        };
        let name = match out.components().next_back() {
            Some(Component::Normal(n)) => n.to_string_lossy().into_owned(),
            _ => return Err(err(
                &shown,
                "not a folder name (the output folder is replaced as a whole; name a subfolder)",
            )),
        };
        if let Ok(m) = std::fs::metadata(&out) {
            if !m.is_dir() {
                return Err(err(&shown, "exists and is not a folder"));
            }
            if let (Ok(abs), Ok(cwd)) = (std::fs::canonicalize(&out), std::env::current_dir()) {
                if cwd.starts_with(&abs) {
                    return Err(err(
                        &shown,
                        "is the current folder or holds it; the output folder is replaced as a whole: name a subfolder",
                    ));
                }
            }
        }
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut created = None;
        let mut p = parent.as_path();
        while !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_err() {
            created = Some(p.to_path_buf());
            match p.parent() {
                Some(q) => p = q,
                None => break,
            }
        }
        std::fs::create_dir_all(&parent).map_err(|e| err(&parent, e))?;
        clean_dead(&parent, &name, &out);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let dir = parent.join(format!(
            "{}{}-{:016x}",
            staging_prefix(&name),
            std::process::id(),
            random_u64()
        ));
        registry().push(Entry {
            id,
            staging: dir.clone(),
            out: shown.clone(),
            state: State::Staged,
        });
        let staging = Staging {
            id,
            shown,
            out,
            dir,
            created,
            files: 0,
            published: false,
        };
        std::fs::create_dir(&staging.dir).map_err(|e| err(&staging.dir, e))?;
        Ok(staging)
    }

    /// The staging folder: write the results here.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The output folder as given.
    pub fn out(&self) -> &Path {
        &self.shown
    }

    /// Write one file into the staging folder; `name` is a relative path
    /// inside it (`layer0/y.npy`), its folders are created.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), PublishError> {
        let rel = Path::new(name);
        if name.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(err(
                &self.shown.join(name),
                "output names must be relative paths inside the output folder",
            ));
        }
        let path = self.dir.join(rel);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|e| err(folder, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| err(&self.shown.join(name), e))?;
        self.files += 1;
        if self.files == 1 {
            pause_point("staged_first_file");
        }
        Ok(())
    }

    /// Move the staging folder into the place of the output folder in one
    /// step. Entries of the old folder that are not in the staging folder
    /// are carried over unless `owned` claims their name (top-level names:
    /// what this command writes, so that a stale one is dropped).
    pub fn publish(mut self, owned: &dyn Fn(&str) -> bool) -> Result<(), PublishError> {
        pause_point("before_publish");
        carry_over(&self.out, &self.dir, owned)?;
        // The new folder keeps the old one's permissions.
        if let Ok(m) = std::fs::metadata(&self.out) {
            let _ = std::fs::set_permissions(&self.dir, m.permissions());
        }
        {
            let mut reg = registry();
            swap_in(&self.dir, &self.out).map_err(|e| err(&self.shown, e))?;
            if let Some(e) = reg.iter_mut().find(|e| e.id == self.id) {
                e.state = State::Published;
            }
        }
        self.published = true;
        pause_point("after_swap");
        // The staging path now holds the old results (or nothing).
        let _ = std::fs::remove_dir_all(&self.dir);
        unregister(self.id);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.dir);
            if let Some(top) = &self.created {
                remove_empty_tree(top);
            }
            unregister(self.id);
        }
    }
}

fn unregister(id: u64) {
    registry().retain(|e| e.id != id);
}

fn remove_empty_tree(p: &Path) {
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_empty_tree(&e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(p);
}

fn cstring(p: &Path) -> std::io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in a path"))
}

/// Atomically exchange two paths (Linux `renameat2(RENAME_EXCHANGE)`).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let (ca, cb) = (cstring(a)?, cstring(b)?);
    // SAFETY: two valid NUL-terminated paths relative to the current folder.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Put `staging` at `out`; afterwards `staging` holds the old `out` (or
/// does not exist).
fn swap_in(staging: &Path, out: &Path) -> std::io::Result<()> {
    for _ in 0..100 {
        if std::fs::symlink_metadata(out).is_err() {
            match std::fs::rename(staging, out) {
                Ok(()) => return Ok(()),
                // A concurrent run published first: swap with its folder.
                Err(e) if std::fs::symlink_metadata(out).is_ok() => {
                    let _ = e;
                }
                Err(e) => return Err(e),
            }
        }
        match exchange(staging, out) {
            Ok(()) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue, // removed meanwhile
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
                return swap_in_fallback(staging, out)
            }
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "the output folder kept changing under concurrent runs",
    ))
}

/// Without RENAME_EXCHANGE: the old folder aside, the new one in, the old
/// one to the staging name (a dead process's aside folder is put back by
/// the next run).
fn swap_in_fallback(staging: &Path, out: &Path) -> std::io::Result<()> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = out.with_file_name(format!(
        "{}{}-{:016x}",
        aside_prefix(&name),
        std::process::id(),
        random_u64()
    ));
    std::fs::rename(out, &aside)?;
    if let Err(e) = std::fs::rename(staging, out) {
        let _ = std::fs::rename(&aside, out);
        return Err(e);
    }
    std::fs::rename(&aside, staging)
}

/// Link (or copy) every entry of `out` that `staging` lacks and `owned`
/// does not claim into `staging`.
fn carry_over(
    out: &Path,
    staging: &Path,
    owned: &dyn Fn(&str) -> bool,
) -> Result<(), PublishError> {
    let rd = match std::fs::read_dir(out) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(err(out, e)),
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let dest = staging.join(&name);
        if owned(&name.to_string_lossy()) || std::fs::symlink_metadata(&dest).is_ok() {
            continue;
        }
        match link_tree(&e.path(), &dest) {
            Ok(()) => {}
            // Removed meanwhile (a concurrent run's swap): nothing to keep.
            Err(x) if x.kind() == std::io::ErrorKind::NotFound => {}
            Err(x) => {
                return Err(err(
                    &e.path(),
                    format!("cannot keep it in the new folder: {x}"),
                ))
            }
        }
    }
    Ok(())
}

/// Recreate `src` at `dst`: folders as folders, files as hard links (copies
/// where a link fails), symbolic links as the same links.
fn link_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(src)?;
    let ft = meta.file_type();
    if ft.is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(src)?, dst)
    } else if ft.is_dir() {
        std::fs::create_dir(dst)?;
        for e in std::fs::read_dir(src)? {
            let e = e?;
            link_tree(&e.path(), &dst.join(e.file_name()))?;
        }
        std::fs::set_permissions(dst, meta.permissions())
    } else if std::fs::hard_link(src, dst).is_err() {
        std::fs::copy(src, dst).map(|_| ())
    } else {
        Ok(())
    }
}

/// Copy (not link: the run may rewrite them in place) the entries of the
/// published output folder that `wanted` names into a staging folder, for
/// flows that reuse their earlier results (`drq synth`).
pub fn seed_from_published(
    staging: &Staging,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<(), PublishError> {
    let rd = match std::fs::read_dir(&staging.out) {
        Ok(rd) => rd,
        Err(_) => return Ok(()),
    };
    for e in rd.flatten() {
        let name = e.file_name();
        if !wanted(&name.to_string_lossy()) {
            continue;
        }
        copy_tree(&e.path(), &staging.dir.join(&name)).map_err(|x| err(&e.path(), x))?;
    }
    Ok(())
}

fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    let ft = std::fs::symlink_metadata(src)?.file_type();
    if ft.is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(src)?, dst)
    } else if ft.is_dir() {
        std::fs::create_dir_all(dst)?;
        for e in std::fs::read_dir(src)? {
            let e = e?;
            copy_tree(&e.path(), &dst.join(e.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(src, dst).map(|_| ())
    }
}

/// Write `files` (relative names, bytes) as the new content of `out`, all
/// or nothing: staged, then published with `owned` (see
/// [`Staging::publish`]).
pub fn publish_files<N: AsRef<str>>(
    out: &Path,
    files: &[(N, Vec<u8>)],
    owned: &dyn Fn(&str) -> bool,
) -> Result<(), PublishError> {
    let mut stage = Staging::new(out)?;
    for (name, bytes) in files {
        stage.write(name.as_ref(), bytes)?;
    }
    stage.publish(owned)
}

/// The top-level names of `files` (`layer0/y.npy` gives `layer0`).
pub fn top_names<N: AsRef<str>>(files: &[(N, Vec<u8>)]) -> Vec<String> {
    let mut v: Vec<String> = files
        .iter()
        .filter_map(|(n, _)| n.as_ref().split('/').next().map(str::to_string))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Block SIGINT, SIGTERM and SIGHUP in every thread and handle them in one
/// thread of their own: remove this process's staging folders (and the old
/// results a finished swap left under a staging name), print one line, and
/// exit with 128 + the signal number. Call first thing in `main`, before
/// any other thread starts (threads inherit the blocked set; child
/// processes get a clean one from `std::process::Command`).
pub fn install_signal_handlers() {
    // SAFETY: plain libc signal-set calls on a local set.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    std::thread::Builder::new()
        .name("drq-signals".into())
        .spawn(move || loop {
            let mut sig: libc::c_int = 0;
            // SAFETY: `set` is an initialised signal set; `sig` is writable.
            if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                on_signal(sig);
            }
        })
        .expect("cannot start the signal thread");
}

fn on_signal(sig: libc::c_int) -> ! {
    let name = match sig {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "a signal",
    };
    // Held until exit: no publish step runs after this point.
    let reg = registry();
    let mut what = Vec::new();
    for e in reg.iter() {
        let _ = std::fs::remove_dir_all(&e.staging);
        what.push(match e.state {
            State::Staged => format!("{} left as it was", e.out.display()),
            State::Published => format!("{} holds this run's results", e.out.display()),
        });
    }
    let tail = if what.is_empty() {
        "nothing was written".to_string()
    } else {
        what.join("; ")
    };
    eprintln!("drq: error: interrupted by {name}; {tail}");
    std::process::exit(128 + sig);
}

/// A test hook: when `DRQ_TEST_PAUSE_AT` names `point` (a comma-separated
/// list may name several), print `drq: test pause at <point>` and wait:
/// while the file `DRQ_TEST_PAUSE_FILE` exists (this process creates it,
/// holding its pid; the test removes it to let the run go on), or 60 s
/// without one. Points: `staged_first_file` (one file written into the
/// staging folder), `before_publish`, `after_swap` (the new folder in
/// place, the old one not yet removed), `before_model_build` (`drq sim`).
pub fn pause_point(point: &str) {
    let Some(at) = std::env::var_os("DRQ_TEST_PAUSE_AT") else {
        return;
    };
    if !at.to_string_lossy().split(',').any(|p| p == point) {
        return;
    }
    let file = std::env::var_os("DRQ_TEST_PAUSE_FILE").map(PathBuf::from);
    if let Some(f) = &file {
        let _ = std::fs::write(f, format!("{}\n", std::process::id()));
    }
    eprintln!("drq: test pause at {point}");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if file.as_ref().is_some_and(|f| !f.exists()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(dir: &Path, name: &str, text: &str) {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn publishes_replaces_owned_and_keeps_foreign_entries() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("out");
        put(&out, "y.npy", "old");
        put(&out, "mask_out.npy", "stale");
        put(&out, "layer3/y.npy", "stale");
        put(&out, "notes.txt", "mine");
        put(&out, "data/x.npy", "mine too");
        let owned = |n: &str| n == "y.npy" || n == "mask_out.npy" || n.starts_with("layer");
        publish_files(&out, &[("y.npy", b"new".to_vec())], &owned).unwrap();
        assert_eq!(names(&out), ["data", "notes.txt", "y.npy"]);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o700)).unwrap();
        publish_files(&out, &[("y.npy", b"newer".to_vec())], &owned).unwrap();
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "permissions kept");
        assert_eq!(std::fs::read_to_string(out.join("y.npy")).unwrap(), "newer");
        assert_eq!(
            std::fs::read_to_string(out.join("data/x.npy")).unwrap(),
            "mine too"
        );
        // Nothing but the output folder is left beside it.
        assert_eq!(names(t.path()), ["out"]);
    }

    #[test]
    fn creates_missing_folders_and_removes_them_on_failure() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("a/b/out");
        {
            let mut s = Staging::new(&out).unwrap();
            s.write("x", b"1").unwrap();
            assert!(s.write("../escape", b"1").is_err());
        }
        assert_eq!(names(t.path()), Vec::<String>::new());
        publish_files(&out, &[("x", b"1".to_vec())], &|_| false).unwrap();
        assert_eq!(std::fs::read(out.join("x")).unwrap(), b"1");
    }

    #[test]
    fn dead_processes_staging_is_removed() {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("out");
        // pid 2^22 + 1 is above Linux's pid_max default range of live pids
        // only if unused; pick one that is surely dead: a reaped child's.
        let child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let mut child = child;
        child.wait().unwrap();
        let dead = t
            .path()
            .join(format!(".out.staging-{pid}-0123456789abcdef"));
        put(&dead, "y.npy", "half");
        let live = t
            .path()
            .join(format!(".out.staging-{}-0", std::process::id()));
        std::fs::create_dir(&live).unwrap();
        publish_files(&out, &[("y.npy", b"new".to_vec())], &|_| false).unwrap();
        assert!(!dead.exists(), "a dead run's staging is removed");
        assert!(live.exists(), "a live process's staging is kept");
    }

    #[test]
    fn refuses_non_folders_and_the_current_folder() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("file");
        std::fs::write(&f, "x").unwrap();
        assert!(Staging::new(&f)
            .unwrap_err()
            .to_string()
            .contains("not a folder"));
        assert!(Staging::new(Path::new(".")).is_err());
        assert!(Staging::new(Path::new("/")).is_err());
    }

    #[test]
    fn fallback_swap_keeps_old_under_the_staging_name() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        put(&a, "f", "new");
        put(&b, "f", "old");
        swap_in_fallback(&a, &b).unwrap();
        assert_eq!(std::fs::read_to_string(b.join("f")).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(a.join("f")).unwrap(), "old");
    }
}
