//! The shared API corpus (real Spotify bodies that tests and a bench read), found by the
//! build scripts of `tonearm-core` and `tonearm-tests` through [`build_script`].
//!
//! The corpus lives outside the repository: `$TONEARM_SHARED/api-corpus`, else
//! `../shared/api-corpus` beside the checkout. When it is found, the crate is built with
//! `--cfg tonearm_corpus` and `TONEARM_CORPUS=<its absolute path>` (read with
//! `option_env!`); when it is not, the tests that need it are ignored, so a fresh clone
//! still builds and tests. With `CI` set (and not `false` or `0`), a missing corpus fails
//! the build instead: CI must not pass by ignoring tests.

use std::path::PathBuf;

/// Looks for the corpus and tells Cargo what it found (call it from a build script of a
/// crate one level below the workspace root).
pub fn build_script() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=TONEARM_SHARED");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rustc-check-cfg=cfg(tonearm_corpus)");

    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let wanted = match std::env::var_os("TONEARM_SHARED") {
        Some(shared) => PathBuf::from(shared).join("api-corpus"),
        None => manifest.join("../../shared/api-corpus"),
    };
    match std::fs::canonicalize(&wanted) {
        Ok(dir) if dir.is_dir() => {
            let dir = dir.display();
            println!("cargo::rerun-if-changed={dir}");
            println!("cargo::rustc-cfg=tonearm_corpus");
            println!("cargo::rustc-env=TONEARM_CORPUS={dir}");
        }
        _ => {
            if in_ci() {
                eprintln!(
                    "error: the API corpus is missing: no folder {}.\n\
                     CI runs every corpus test, so the corpus must be there: put \
                     `shared/api-corpus` beside the checkout, or set TONEARM_SHARED to the \
                     folder that holds `api-corpus`.",
                    wanted.display()
                );
                std::process::exit(1);
            }
            // Watching a missing path would rerun this script (and rebuild the crate) on
            // every build; watch the `shared` folder instead when it exists, so that an
            // `api-corpus` put into it later is seen. (A `shared` folder created later is
            // seen after `touch build.rs`, or at once with TONEARM_SHARED.)
            if let Some(shared) = wanted.parent().filter(|p| p.is_dir()) {
                println!("cargo::rerun-if-changed={}", shared.display());
            }
        }
    }
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}
