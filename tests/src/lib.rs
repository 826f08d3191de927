//! Shared helpers for Tonearm's cross-crate tests (see `tests/integration/`).

use std::path::PathBuf;

/// The repository root (the workspace).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// The `shared/` folder beside the checkout, which holds the API corpus.
pub fn shared_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("TONEARM_SHARED") {
        return PathBuf::from(dir);
    }
    repo_root().parent().map(|p| p.join("shared")).unwrap_or_default()
}
