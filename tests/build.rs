//! Finds the shared API corpus for `corpus_files()` and the tests that use it: the core's
//! build script, run as is, so both crates agree on the folder.

#[path = "../core/build.rs"]
mod corpus;

fn main() {
    corpus::main();
}
