//! Integration tests of the ingest library over `testdata/`.

mod bad_input;
mod common;
mod incremental;
mod round_trip;
