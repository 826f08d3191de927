//! The one way this crate writes a file: atomically.
//!
//! [`write_atomically`] puts the new content in a fresh temporary file beside the target
//! (`.<name>.tmp-<pid>`: hidden, and one per process, so two writers never share one),
//! fsyncs it, renames it over the target (or, with [`Replace::Never`], links it there,
//! which fails if the target appeared meanwhile) and fsyncs the directory. A crash or a
//! kill at any moment leaves the old file or the new one, never a mix; on an error the
//! temporary file is removed. A leftover temporary file (from a writer that was killed)
//! is removed before the new one is created, so no link planted there is followed.
//!
//! Every writer of the crate goes through it: `token.json` and `quota.json` (private),
//! the config file (private when new, else its own permissions), the board's settings
//! image (private), and the PNGs of `render` and `--snapshot`.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Who may read the new file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Mode {
    /// Mode 0600 on Unix: it holds secrets (tokens, a Wi-Fi password).
    Private,
    /// These permissions (an existing file's, kept across the rewrite).
    Keep(Permissions),
    /// The process's default (0666 less the umask): a picture.
    #[default]
    Public,
}

/// Whether the target may already exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Replace {
    /// Replace it (rename over it).
    #[default]
    Always,
    /// Never replace it: if it exists, even if it appeared while writing, fail with
    /// [`std::io::ErrorKind::AlreadyExists`] and leave it as it is.
    Never,
}

/// How [`write_atomically`] writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The new file's permissions.
    pub mode: Mode,
    /// Create the directory (and its parents) when missing, mode 0700 on Unix; else a
    /// missing directory is an error.
    pub create_dir: bool,
    /// Whether an existing target is replaced.
    pub replace: Replace,
}

impl Options {
    /// A private file (0600) in a private directory created when needed (0700): the
    /// token and quota files.
    pub fn private_state() -> Self {
        Options {
            mode: Mode::Private,
            create_dir: true,
            replace: Replace::Always,
        }
    }
}

/// Why a file could not be written. The message names the path and the step, never the
/// content.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot {op}: {source}", path.display())]
pub struct WriteError {
    /// The file (or its directory, for `create the directory`).
    pub path: PathBuf,
    /// What was being done (`write the temporary file`, `rename`, ...).
    pub op: &'static str,
    /// The error.
    #[source]
    pub source: std::io::Error,
}

impl WriteError {
    /// The I/O error's kind (`AlreadyExists` for [`Replace::Never`]).
    pub fn kind(&self) -> std::io::ErrorKind {
        self.source.kind()
    }
}

/// The directory `path` is in (`.` for a bare file name).
pub fn dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The temporary file [`write_atomically`] uses for `path` in this process.
pub fn temp_path_of(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_else(|| "file".as_ref()));
    name.push(format!(".tmp-{}", std::process::id()));
    dir_of(path).join(name)
}

/// Writes `bytes` to `path` atomically, as the module docs describe.
pub fn write_atomically(path: &Path, bytes: &[u8], options: &Options) -> Result<(), WriteError> {
    let at = |path: &Path, op: &'static str| {
        let path = path.to_path_buf();
        move |source| WriteError { path, op, source }
    };
    let dir = dir_of(path);
    if options.create_dir {
        create_private_dir(dir).map_err(at(dir, "create the directory"))?;
    }
    let temp = temp_path_of(path);
    let result = write_new(&temp, bytes, &options.mode)
        .map_err(at(path, "write the temporary file"))
        .and_then(|()| match options.replace {
            Replace::Always => fs::rename(&temp, path).map_err(at(path, "rename")),
            Replace::Never => fs::hard_link(&temp, path)
                .and_then(|()| fs::remove_file(&temp))
                .map_err(at(path, "create")),
        })
        .and_then(|()| sync_dir(dir).map_err(at(path, "sync the directory")));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Creates `dir` (and its parents) if needed; a new directory gets mode 0700 on Unix.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Writes `bytes` to a fresh file at `path` and fsyncs it. A leftover file there is
/// removed first, so nothing is followed.
fn write_new(path: &Path, bytes: &[u8], mode: &Mode) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if *mode != Mode::Public {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    if let Mode::Keep(permissions) = mode {
        file.set_permissions(permissions.clone())?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes a rename in `dir` durable (Unix; elsewhere a no-op).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        fs::metadata(p).expect("meta").permissions().mode() & 0o777
    }

    fn entries(dir: &Path) -> usize {
        fs::read_dir(dir).expect("dir").count()
    }

    #[test]
    fn private_files_and_directories() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a/b/token.json");
        write_atomically(&path, b"one", &Options::private_state()).expect("write");
        write_atomically(&path, b"two", &Options::private_state()).expect("rewrite");
        assert_eq!(fs::read(&path).expect("read"), b"two");
        assert_eq!(
            entries(&dir.path().join("a/b")),
            1,
            "no temporary file left"
        );
        #[cfg(unix)]
        {
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir.path().join("a")), 0o700);
        }
    }

    #[test]
    fn a_missing_directory_is_an_error_unless_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nope/out.png");
        let err = write_atomically(&path, b"png", &Options::default()).expect_err("no dir");
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(
            err.to_string()
                .contains("out.png: cannot write the temporary file")
        );
        assert!(!dir.path().join("nope").exists());
    }

    #[test]
    fn never_replace_keeps_what_is_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("board.bin");
        let never = Options {
            mode: Mode::Private,
            replace: Replace::Never,
            ..Options::default()
        };
        write_atomically(&path, b"new", &never).expect("a new file");
        let err = write_atomically(&path, b"newer", &never).expect_err("exists");
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).expect("read"), b"new");
        assert_eq!(entries(dir.path()), 1, "no temporary file left");
    }

    #[cfg(unix)]
    #[test]
    fn kept_and_public_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let keep = Options {
            mode: Mode::Keep(Permissions::from_mode(0o640)),
            ..Options::default()
        };
        write_atomically(&path, b"x", &keep).expect("write");
        assert_eq!(mode(&path), 0o640);
        let png = dir.path().join("out.png");
        write_atomically(&png, b"x", &Options::default()).expect("write");
        assert_ne!(mode(&png), 0o600, "a picture is not private");
    }

    #[test]
    fn a_leftover_temporary_file_is_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("quota.json");
        fs::write(temp_path_of(&path), "half").expect("leftover");
        write_atomically(&path, b"whole", &Options::private_state()).expect("write");
        assert_eq!(fs::read(&path).expect("read"), b"whole");
        assert!(!temp_path_of(&path).exists());
    }
}
