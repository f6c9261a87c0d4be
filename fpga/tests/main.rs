//! The integration tests of `drq-fpga` as one test binary (one link, and
//! one process whose test threads overlap the suites); each module is
//! the file of the same name beside this one.

mod boards;
mod synth_families;
