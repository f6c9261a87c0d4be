//! DRQ accelerator hardware in rust-hdl. Parameters come from
//! `drq_arch::AccelConfig`; each block owns its ports and its shell.
//!
//! Layers, bottom to top (no module imports one above it):
//! * [`comb`]: the post-pass that assigns each combinational output once per
//!   evaluation (no glitches in event-driven simulators).
//! * [`dedup`]: the post-pass that writes each distinct module once with
//!   plain names (no `$`).
//! * [`shell`]: a block's top-level shell with exact-width ports, the lint
//!   waivers, `clog2`.
//! * [`leaf`], [`ram`]: multipliers, registers, shifters; `WordRam`, the
//!   generic on-chip buffer (block RAM inference).
//! * [`pe`], [`shadow`], [`mesh`], [`skew`], [`array`]: the variable-precision
//!   systolic array, PE (and its shadow accumulators) to top `drq_array`.
//! * [`predictor`] (`drq_predictor`), [`controller`] (`drq_controller`,
//!   composed of [`loop_nest`], [`token_issue`] and [`run_counters`]),
//!   [`output_stage`] (`drq_output_stage`, with its [`requant`] lanes and
//!   [`row_queue`]), [`axil`] (the AXI4-Lite slave); [`predictor_banks`]:
//!   the top's predictor, one bank per region column a lane group spans.
//! * [`regfile`]: the host interface, the AXI4-Lite slave with the register
//!   map as named ports (generated from `drq_arch::regs` by `build.rs`);
//!   [`scan`]: the input-mask scan of the DRQ top; [`sequencer`]: the
//!   top's phases and run counters.
//! * The stored-once buffers (docs/banked.md): [`digit_counter`],
//!   [`bank_steps`], [`banked_ram`], [`layout_table`]; the cyclic layout's
//!   [`cyclic_rotation`], [`cyclic_steps`] and [`digit_sum`] (the
//!   controller's with `ControllerParams::cyclic`, the buffers', scan's and
//!   write-back's with `act_layout = "cyclic"`).
//! * [`top`]: the whole accelerator `drq_top`.
//! * [`designs`]: the registry of every emitted design and `params.json`.

pub mod acc_combine;
pub mod array;
pub mod axil;
pub mod bank_steps;
pub mod banked_ram;
pub mod buffers;
pub mod comb;
pub mod controller;
pub mod cyclic_rotation;
pub mod cyclic_steps;
pub mod dedup;
pub mod designs;
pub mod digit_counter;
pub mod digit_sum;
pub mod layout_table;
pub mod leaf;
pub mod loop_nest;
pub mod mesh;
pub mod output_stage;
pub mod pe;
pub mod predictor;
pub mod predictor_banks;
pub mod ram;
pub mod regfile;
pub mod requant;
pub mod row_queue;
pub mod run_counters;
pub mod scan;
pub mod sequencer;
pub mod shadow;
pub mod shell;
pub mod skew;
pub mod tile_room;
pub mod token_issue;
pub mod top;
