//! `tonearm`: Tonearm on a desktop.

fn main() {}
