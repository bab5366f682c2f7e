//! Integration tests of the ingest library over the project's own fixtures, generated
//! trails and the third-party samples in `../shared/testdata` (skipped by name where absent).

mod bad_input;
mod common;
mod incremental;
mod manifest;
mod mutations;
mod round_trip;
mod synth;
