//! Finds the shared API corpus for the tests and the parse bench (see `tonearm_testkit::corpus`).

fn main() {
    tonearm_testkit::corpus::build_script();
}
