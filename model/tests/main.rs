//! The integration tests of `drq-model` as one test binary (one link, and
//! one process whose test threads overlap the suites); each module is
//! the file of the same name beside this one.

mod calibrate;
mod model;
