//! The integration tests of `drq-golden` as one test binary (one link, and
//! one process whose test threads overlap the suites); each module is
//! the file of the same name beside this one.

mod cycles;
mod golden;
