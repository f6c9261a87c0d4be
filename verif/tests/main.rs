//! The integration tests of `drq-verif` as one test binary (one link, and
//! one process whose test threads overlap the suites); each module is
//! the file of the same name beside this one.

mod array_cosim;
mod axil_cosim;
mod controller_cosim;
mod coverage;
mod icarus;
mod multiplier_cosim;
mod output_stage_cosim;
mod predictor_cosim;
mod regfile_unit;
mod rotation_unit;
mod scan_unit;
mod testplan;
mod top_cosim;
mod top_host;
mod waves;
