//! The integration tests of `drq-hdl` as one test binary (one link, and
//! one process whose test threads overlap the suites); each module is
//! the file of the same name beside this one.

mod axil_emit;
mod banked_emit;
mod common;
mod controller_emit;
mod emit;
mod laned_ram;
mod output_stage_emit;
mod predictor_emit;
mod top_emit;
