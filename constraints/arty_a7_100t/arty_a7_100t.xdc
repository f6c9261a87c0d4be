## Digilent Arty A7-100T (XC7A100T-1CSG324C): pins and clock of the
## drq_arty_a7_100t wrapper. Package pins from Digilent's Arty-A7-100
## master constraints; port names are the wrapper's (drq_arty_a7_100t.v).

## Configuration bank voltage
set_property CFGBVS VCCO [current_design]
set_property CONFIG_VOLTAGE 3.3 [current_design]

## 100 MHz oscillator (Sch=gclk[100])
set_property -dict { PACKAGE_PIN E3  IOSTANDARD LVCMOS33 } [get_ports { clk }]
create_clock -period 10.000 -name sys_clk -waveform {0.000 5.000} [get_ports { clk }]

## RESET button (Sch=ck_rst), active low
set_property -dict { PACKAGE_PIN C2  IOSTANDARD LVCMOS33 } [get_ports { btn_n }]

## USB-UART (FT2232H channel B), named from the FPGA's side
set_property -dict { PACKAGE_PIN A9  IOSTANDARD LVCMOS33 } [get_ports { uart_rx }]
set_property -dict { PACKAGE_PIN D10 IOSTANDARD LVCMOS33 } [get_ports { uart_tx }]

## Green LEDs LD4..LD7 (Sch=led[0..3]), active high
set_property -dict { PACKAGE_PIN H5  IOSTANDARD LVCMOS33 } [get_ports { led[0] }]
set_property -dict { PACKAGE_PIN J5  IOSTANDARD LVCMOS33 } [get_ports { led[1] }]
set_property -dict { PACKAGE_PIN T9  IOSTANDARD LVCMOS33 } [get_ports { led[2] }]
set_property -dict { PACKAGE_PIN T10 IOSTANDARD LVCMOS33 } [get_ports { led[3] }]

## The button and UART input are asynchronous (two-flop synchronisers in
## the design); the UART output and the LEDs have no timing requirement.
set_false_path -from [get_ports { btn_n uart_rx }]
set_false_path -to [get_ports { uart_tx led[*] }]
