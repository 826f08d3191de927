//! Finds the shared API corpus for `corpus_files()` and the tests that use it (see `tonearm_testkit::corpus`).

fn main() {
    tonearm_testkit::corpus::build_script();
}
