//! `quota.json` beside the config file: the daily request budget's state, which survives a
//! restart and a logout.
//!
//! Spotify counts a development-mode app's quota per developer account, and asking during
//! a quota hold lengthens the ban, so what the session knows about both must outlive the
//! process: the hourly request counts of the last 25 hours, the hold, the quota answers in
//! a row and the effective budget ([`QuotaState`]). A new login does not reset an account's
//! quota, so `tonearm logout` leaves this file alone.
//!
//! The file is a small versioned JSON object:
//!
//! ```json
//! {"version": 1, "hour": 491234, "counts": [3, 41, 0, ...], "hold_until_s": 0,
//!  "hits_in_row": 0, "effective": 700, "since_s": 0}
//! ```
//!
//! `counts[i]` counts the requests of Unix hour `hour - i` (newest first). It is written
//! like `token.json` (atomically, mode 0600, see [`crate::atomic`]). A file that cannot
//! be read as one is set aside as `quota.json.corrupt-<epoch seconds>` with a one-line warning, and the
//! budget starts from empty counts: the display keeps working.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tonearm_core::budget::{BUDGET_HOURS, QuotaState};

use super::{JsonFile, read_json_file, set_aside, write_json_file};

/// The file name beside the config file.
pub const FILE_NAME: &str = "quota.json";

/// The file's format version.
const VERSION: u32 = 1;

/// Largest file read (a real one is under 300 bytes).
const MAX_FILE: u64 = 16 * 1024;

/// The file as stored.
#[derive(Debug, Serialize, Deserialize)]
struct FileV1 {
    version: u32,
    hour: u64,
    counts: Vec<u16>,
    hold_until_s: u64,
    hits_in_row: u8,
    effective: u32,
    since_s: u64,
}

/// Why `quota.json` cannot be read or written. Each is one line naming the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuotaStoreError {
    /// An I/O error.
    #[error("{}: cannot {op}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a valid quota file.
    #[error("{}: not a valid quota file ({detail})", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// The quota file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaStore {
    path: PathBuf,
}

impl QuotaStore {
    /// The store at `path` (usually [`Config::quota_path`](crate::config::Config::quota_path)).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        QuotaStore { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file: `Ok(None)` when there is none.
    pub fn load(&self) -> Result<Option<QuotaState>, QuotaStoreError> {
        let raw: FileV1 = match read_json_file(&self.path, MAX_FILE) {
            JsonFile::Missing => return Ok(None),
            JsonFile::Io(source) => {
                return Err(QuotaStoreError::Io {
                    path: self.path.clone(),
                    op: "read",
                    source,
                });
            }
            JsonFile::Corrupt(detail) => return Err(self.corrupt(detail)),
            JsonFile::Value(v) => v,
        };
        if raw.version != VERSION {
            return Err(self.corrupt(format!("unknown version {}", raw.version)));
        }
        if raw.counts.len() > BUDGET_HOURS {
            return Err(self.corrupt(format!(
                "{} hourly counts, at most {BUDGET_HOURS}",
                raw.counts.len()
            )));
        }
        let mut counts = [0u16; BUDGET_HOURS];
        for (slot, n) in counts.iter_mut().zip(&raw.counts) {
            *slot = *n;
        }
        Ok(Some(QuotaState {
            hour: raw.hour,
            counts,
            hold_until_s: raw.hold_until_s,
            hits_in_row: raw.hits_in_row,
            effective: raw.effective,
            since_s: raw.since_s,
        }))
    }

    /// The state to start with, never failing: empty counts when there is no file, and
    /// also, with a one-line warning (returned for the caller to print), when the file
    /// cannot be read or is corrupt. A corrupt file is set aside first (see the module
    /// docs), so the next save does not meet it.
    pub fn load_for_start(&self) -> (QuotaState, Option<String>) {
        match self.load() {
            Ok(state) => (state.unwrap_or_default(), None),
            Err(e @ QuotaStoreError::Corrupt { .. }) => {
                let fate = match set_aside(&self.path) {
                    Ok(Some(aside)) => format!("moved to {}", aside.display()),
                    Ok(None) => "gone".to_owned(),
                    Err(why) => format!("could not be moved aside: {why}"),
                };
                let warning =
                    format!("warning: {e}; {fate}; the request budget starts from empty counts");
                (QuotaState::default(), Some(warning))
            }
            Err(e) => (
                QuotaState::default(),
                Some(format!(
                    "warning: {e}; the request budget starts from empty counts"
                )),
            ),
        }
    }

    /// Writes `state` atomically (mode 0600).
    pub fn save(&self, state: &QuotaState) -> Result<(), QuotaStoreError> {
        let file = FileV1 {
            version: VERSION,
            hour: state.hour,
            counts: state.counts.to_vec(),
            hold_until_s: state.hold_until_s,
            hits_in_row: state.hits_in_row,
            effective: state.effective,
            since_s: state.since_s,
        };
        write_json_file(&self.path, &file, false).map_err(|e| QuotaStoreError::Io {
            path: e.path,
            op: e.op,
            source: e.source,
        })
    }

    fn corrupt(&self, detail: String) -> QuotaStoreError {
        QuotaStoreError::Corrupt {
            path: self.path.clone(),
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn state() -> QuotaState {
        let mut counts = [0u16; BUDGET_HOURS];
        counts[0] = 12;
        counts[1] = 40;
        counts[24] = 7;
        QuotaState {
            hour: 491_234,
            counts,
            hold_until_s: 1_768_000_000,
            hits_in_row: 2,
            effective: 525,
            since_s: 1_767_950_000,
        }
    }

    #[test]
    fn save_then_load_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = QuotaStore::new(dir.path().join("sub/quota.json"));
        assert_eq!(store.load().expect("empty"), None);
        assert_eq!(store.load_for_start(), (QuotaState::default(), None));
        store.save(&state()).expect("save");
        assert_eq!(store.load().expect("load"), Some(state()));
        store.save(&QuotaState::default()).expect("save again");
        assert_eq!(store.load().expect("load"), Some(QuotaState::default()));
        let text = fs::read_to_string(store.path()).expect("read");
        assert!(text.starts_with("{\"version\":1,"), "{text}");
        assert!(!crate::atomic::temp_path_of(store.path()).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(store.path())
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_format_is_the_documented_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = QuotaStore::new(dir.path().join("quota.json"));
        // Fewer counts than hours (an older writer) are padded with zeros.
        fs::write(
            store.path(),
            r#"{"version": 1, "hour": 10, "counts": [3, 41], "hold_until_s": 99,
                "hits_in_row": 1, "effective": 700, "since_s": 5}"#,
        )
        .expect("write");
        let got = store.load().expect("load").expect("some");
        assert_eq!((got.hour, got.used(), got.counts[1]), (10, 44, 41));
        assert_eq!(
            (
                got.hold_until_s,
                got.hits_in_row,
                got.effective,
                got.since_s
            ),
            (99, 1, 700, 5)
        );
    }

    #[test]
    fn a_corrupt_file_is_set_aside_with_a_warning_and_counts_start_empty() {
        let cases = [
            "",
            "{",
            "not json",
            "\u{0}\u{1}",
            r#"{"version":2,"hour":1,"counts":[],"hold_until_s":0,"hits_in_row":0,"effective":0,"since_s":0}"#,
            r#"{"version":1,"hour":1,"counts":[-1],"hold_until_s":0,"hits_in_row":0,"effective":0,"since_s":0}"#,
            r#"{"version":1,"hour":1,"counts":[70000],"hold_until_s":0,"hits_in_row":0,"effective":0,"since_s":0}"#,
            r#"{"version":1,"hour":1,"counts":[],"hold_until_s":0,"hits_in_row":300,"effective":0,"since_s":0}"#,
            r#"{"version":1,"hour":1,"counts":[],"hold_until_s":0,"hits_in_row":0,"effective":0}"#,
            r#"[1,2,3]"#,
        ];
        let long_counts = format!(
            r#"{{"version":1,"hour":1,"counts":[{}],"hold_until_s":0,"hits_in_row":0,"effective":0,"since_s":0}}"#,
            vec!["1"; BUDGET_HOURS + 1].join(",")
        );
        let huge = " ".repeat(20 * 1024);
        for content in cases
            .iter()
            .copied()
            .chain([long_counts.as_str(), huge.as_str()])
        {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = QuotaStore::new(dir.path().join("quota.json"));
            fs::write(store.path(), content).expect("write");
            assert!(
                matches!(store.load(), Err(QuotaStoreError::Corrupt { .. })),
                "{content:?}"
            );
            let (got, warning) = store.load_for_start();
            assert_eq!(got, QuotaState::default(), "{content:?}");
            let warning = warning.expect("a warning");
            assert!(!warning.contains('\n'), "one line: {warning}");
            assert!(
                warning.contains("quota.json: not a valid quota file")
                    && warning.contains("moved to")
                    && warning.contains("starts from empty counts"),
                "{warning}"
            );
            // Set aside, byte for byte; the next save writes a fresh file.
            assert!(!store.path().exists());
            let aside: Vec<_> = fs::read_dir(dir.path())
                .expect("dir")
                .map(|e| e.expect("entry").path())
                .collect();
            assert_eq!(aside.len(), 1, "{aside:?}");
            assert!(
                aside[0].to_string_lossy().contains("quota.json.corrupt-"),
                "{aside:?}"
            );
            assert_eq!(fs::read(&aside[0]).expect("read"), content.as_bytes());
            store.save(&state()).expect("save");
            assert_eq!(store.load().expect("load"), Some(state()));
        }
    }

    #[test]
    fn an_unreadable_path_warns_and_starts_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A directory where the file should be: not corrupt, just unreadable.
        let store = QuotaStore::new(dir.path().join("quota.json"));
        fs::create_dir(store.path()).expect("mkdir");
        let (got, warning) = store.load_for_start();
        assert_eq!(got, QuotaState::default());
        let warning = warning.expect("a warning");
        assert!(warning.contains("quota.json: cannot read"), "{warning}");
        assert!(store.path().is_dir(), "left where it is");
        assert!(store.save(&state()).is_err());
    }
}
