//! Shared helpers for Tonearm's cross-crate tests (see `tests/integration/`).

pub mod fake_spotify;
pub mod mosquitto;
pub mod webdriver;
pub mod xvfb;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The repository root (the workspace).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// The API corpus folder, as this crate's build script found it: `$TONEARM_SHARED/api-corpus`,
/// else `shared/api-corpus` beside the checkout (see `build.rs`); `None` without it. The
/// tests that need it carry `#[cfg_attr(not(tonearm_corpus), ignore = "...")]`.
pub fn corpus_dir() -> Option<PathBuf> {
    option_env!("TONEARM_CORPUS").map(PathBuf::from)
}

/// The API corpus bodies, sorted by name. Panics without the corpus (see [`corpus_dir`]).
pub fn corpus_files() -> Vec<PathBuf> {
    let dir = corpus_dir().expect("no API corpus was found when this crate was built");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// The core's hand-written fixtures folder.
pub fn fixtures_dir() -> PathBuf {
    repo_root().join("core/tests/fixtures")
}

/// The `tonearm` binary of this build. `cargo test` does not rebuild another package's
/// binary for these tests, so the first call builds it (a no-op when it is up to date):
/// a stale binary is never tested.
pub fn tonearm_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // target/<profile>/deps/integration-<hash> -> target/<profile>/tonearm
        let exe = std::env::current_exe().unwrap_or_default();
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .map(PathBuf::from)
            .unwrap_or_default();
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "-p", "tonearm-sim", "--bin", "tonearm"]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build
            .current_dir(repo_root())
            .status()
            .unwrap_or_else(|e| panic!("cannot run cargo: {e}"));
        assert!(status.success(), "building tonearm failed");
        profile_dir.join(format!("tonearm{}", std::env::consts::EXE_SUFFIX))
    })
    .clone()
}

/// Runs `tonearm` with `args` (and `stdin` as standard input) and returns its output.
pub fn run_tonearm(args: &[&str], stdin: Option<&[u8]>) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(tonearm_bin())
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start tonearm: {e}"));
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // The child may exit early on bad input; a broken pipe is fine then.
        let _ = pipe.write_all(input);
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("tonearm did not finish: {e}"))
}
