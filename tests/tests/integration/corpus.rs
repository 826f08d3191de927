//! Every real body of the shared API corpus parses right.
