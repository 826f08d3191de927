//! One process polls Spotify per config: [`PollLock`], an exclusive lock on `tonearm.lock`
//! beside `token.json`.
//!
//! Two processes on one PKCE login rotate its refresh token under each other: each
//! refresh revokes the token the other holds, and one of them ends at "log in again". So
//! `tonearm run` and `tonearm hub` take this lock before their first request, and a
//! second one stops at once, naming the first (more screens are fed by `tonearm hub` and
//! `tonearm run --hub`, which needs no lock: it never talks to Spotify).
//!
//! The lock is the operating system's advisory file lock (`flock` on Linux, through
//! `std::fs::File::try_lock`): it goes with the process, however the process ends, so a
//! crash leaves nothing to clean up. The file holds the holder's PID, for the message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

/// The lock file's name, beside `token.json`.
pub const FILE_NAME: &str = "tonearm.lock";

/// Why the lock cannot be taken. Each message is one line and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another process polls Spotify with this config.
    #[error(
        "another tonearm (PID {}) already polls Spotify with this config ({}): two processes on one login revoke each other's tokens. Stop it, or feed more screens from one `tonearm hub` with `tonearm run --hub mqtt://HOST/ID`",
        pid.map_or_else(|| "unknown".to_owned(), |p| p.to_string()),
        path.display()
    )]
    Held {
        /// The lock file.
        path: PathBuf,
        /// The holder's PID, when the file names one.
        pid: Option<u32>,
    },
    /// The lock file cannot be opened or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The lock, held until dropped (or the process ends).
#[derive(Debug)]
pub struct PollLock {
    _file: File,
    path: PathBuf,
}

impl PollLock {
    /// Takes the lock in `dir` (the config's folder), or says who holds it.
    pub fn acquire(dir: &Path) -> Result<PollLock, LockError> {
        let path = dir.join(FILE_NAME);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(LockError::Held {
                    pid: text.trim().parse().ok(),
                    path,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(PollLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_names_the_first_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = PollLock::acquire(dir.path()).unwrap();
        let text = std::fs::read_to_string(first.path()).unwrap();
        assert_eq!(text.trim(), std::process::id().to_string());
        // (Within one process `flock` locks conflict between separate opens too.)
        let err = PollLock::acquire(dir.path()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("PID {}", std::process::id())) && msg.contains("--hub"),
            "{msg}"
        );
        drop(first);
        let again = PollLock::acquire(dir.path()).unwrap();
        drop(again);
        // Another folder, another lock.
        let other = tempfile::tempdir().unwrap();
        let _a = PollLock::acquire(dir.path()).unwrap();
        let _b = PollLock::acquire(other.path()).unwrap();
    }
}
