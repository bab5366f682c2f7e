//! Integration tests of the ingest library over `testdata/`.

mod bad_input;
mod common;
mod incremental;
mod mutations;
mod round_trip;
