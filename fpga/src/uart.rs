//! Host side of the board UART bridge (`constraints/common/drq_uart_axil.v`,
//! protocol in `docs/boards.md`), shared by the board tests and a future
//! host tool.
//!
//! * [`Request`]: a write or read request encoded into the bytes the host
//!   sends; [`Request::decode_answer`] turns the bridge's answer bytes into
//!   an [`Answer`].
//! * [`UartTx`] / [`UartRx`]: bit-level 8N1 transmitter and receiver models
//!   that drive or sample a 1-bit line once per clock cycle, for a given
//!   number of clock cycles per bit (the bridge's `CLKS_PER_BIT`).
//!
//! Protocol: `'W'` + address (3 bytes, big-endian byte address) + data (4
//! bytes, big-endian) is answered by `'K'` (OKAY) or `'E'` (SLVERR/DECERR);
//! `'R'` + address is answered by `'K'` or `'E'` and the read data (4 bytes,
//! big-endian).

use std::collections::VecDeque;

/// Command byte of a write request.
pub const CMD_WRITE: u8 = b'W';
/// Command byte of a read request.
pub const CMD_READ: u8 = b'R';
/// Answer status: the AXI response was OKAY.
pub const STATUS_OK: u8 = b'K';
/// Answer status: the AXI response was SLVERR or DECERR.
pub const STATUS_ERR: u8 = b'E';
/// Largest byte address the 24-bit bus carries.
pub const MAX_ADDR: u32 = 0xFF_FFFF;

/// One request of the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Write { addr: u32, data: u32 },
    Read { addr: u32 },
}

/// The AXI response as the bridge reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Okay,
    Error,
}

/// A decoded answer: the status, and for reads the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: Status,
    /// Read data (None for a write).
    pub data: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UartError {
    #[error("address 0x{0:X} does not fit the 24-bit bus")]
    Address(u32),
    #[error("answer has {got} bytes, expected {expected}")]
    Length { got: usize, expected: usize },
    #[error("answer starts with 0x{0:02X}, expected 'K' or 'E'")]
    Status(u8),
}

impl Request {
    /// The bytes the host sends.
    pub fn encode(&self) -> Result<Vec<u8>, UartError> {
        let (cmd, addr) = match *self {
            Request::Write { addr, .. } => (CMD_WRITE, addr),
            Request::Read { addr } => (CMD_READ, addr),
        };
        if addr > MAX_ADDR {
            return Err(UartError::Address(addr));
        }
        let mut v = vec![cmd];
        v.extend_from_slice(&addr.to_be_bytes()[1..]);
        if let Request::Write { data, .. } = *self {
            v.extend_from_slice(&data.to_be_bytes());
        }
        Ok(v)
    }

    /// Bytes of the bridge's answer: 1 for a write, 5 for a read.
    pub fn answer_len(&self) -> usize {
        match self {
            Request::Write { .. } => 1,
            Request::Read { .. } => 5,
        }
    }

    /// Decode the answer to this request.
    pub fn decode_answer(&self, bytes: &[u8]) -> Result<Answer, UartError> {
        if bytes.len() != self.answer_len() {
            return Err(UartError::Length {
                got: bytes.len(),
                expected: self.answer_len(),
            });
        }
        let status = match bytes[0] {
            STATUS_OK => Status::Okay,
            STATUS_ERR => Status::Error,
            other => return Err(UartError::Status(other)),
        };
        let data = match self {
            Request::Write { .. } => None,
            Request::Read { .. } => {
                Some(u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]))
            }
        };
        Ok(Answer { status, data })
    }
}

/// Line levels of one 8N1 character: start (low), 8 data bits LSB first,
/// stop (high).
pub fn frame(byte: u8) -> [bool; 10] {
    let mut f = [true; 10];
    f[0] = false;
    for (i, bit) in f[1..9].iter_mut().enumerate() {
        *bit = (byte >> i) & 1 == 1;
    }
    f
}

/// Transmitter model: queue bytes, then call [`UartTx::level`] once per
/// clock cycle for the line level of that cycle (high when idle).
#[derive(Debug, Clone)]
pub struct UartTx {
    clks_per_bit: u32,
    queue: VecDeque<u8>,
    /// The character being sent, its bit index and the cycle within the bit.
    current: Option<([bool; 10], usize, u32)>,
}

impl UartTx {
    pub fn new(clks_per_bit: u32) -> UartTx {
        assert!(clks_per_bit >= 1, "clks_per_bit must be at least 1");
        UartTx {
            clks_per_bit,
            queue: VecDeque::new(),
            current: None,
        }
    }

    /// Queue bytes to send back to back.
    pub fn send(&mut self, bytes: &[u8]) {
        self.queue.extend(bytes);
    }

    /// Nothing sent or queued.
    pub fn idle(&self) -> bool {
        self.current.is_none() && self.queue.is_empty()
    }

    /// The line level for the next clock cycle.
    pub fn level(&mut self) -> bool {
        if self.current.is_none() {
            self.current = self.queue.pop_front().map(|b| (frame(b), 0, 0));
        }
        let Some((bits, idx, cnt)) = self.current.as_mut() else {
            return true;
        };
        let out = bits[*idx];
        *cnt += 1;
        if *cnt == self.clks_per_bit {
            *cnt = 0;
            *idx += 1;
            if *idx == bits.len() {
                self.current = None;
            }
        }
        out
    }
}

/// Receiver model: call [`UartRx::sample`] once per clock cycle with the
/// line level; it finds the start bit's falling edge and samples every bit
/// in its middle, like the bridge. Characters whose stop bit is low count
/// as framing errors and are dropped.
#[derive(Debug, Clone)]
pub struct UartRx {
    clks_per_bit: u32,
    /// None: idle. Some((bit index 0 = start .. 9 = stop, cycles left to
    /// the next sample, data so far)).
    state: Option<(usize, u32, u8)>,
    received: VecDeque<u8>,
    /// Characters dropped for a low stop bit (or a start bit that vanished).
    pub framing_errors: u32,
}

impl UartRx {
    pub fn new(clks_per_bit: u32) -> UartRx {
        assert!(clks_per_bit >= 2, "clks_per_bit must be at least 2");
        UartRx {
            clks_per_bit,
            state: None,
            received: VecDeque::new(),
            framing_errors: 0,
        }
    }

    /// Feed the line level of one clock cycle.
    pub fn sample(&mut self, level: bool) {
        match self.state.as_mut() {
            None => {
                if !level {
                    // This is the first low cycle; the middle of the start
                    // bit is half a bit later.
                    self.state = Some((0, self.clks_per_bit / 2 - 1, 0));
                }
            }
            Some((idx, left, data)) => {
                if *left > 0 {
                    *left -= 1;
                    return;
                }
                match *idx {
                    0 => {
                        if level {
                            self.framing_errors += 1;
                            self.state = None;
                            return;
                        }
                    }
                    1..=8 => *data |= u8::from(level) << (*idx - 1),
                    _ => {
                        if level {
                            self.received.push_back(*data);
                        } else {
                            self.framing_errors += 1;
                        }
                        self.state = None;
                        return;
                    }
                }
                *idx += 1;
                *left = self.clks_per_bit - 1;
            }
        }
    }

    /// A character is being received.
    pub fn busy(&self) -> bool {
        self.state.is_some()
    }

    /// Bytes received so far (and not yet taken).
    pub fn available(&self) -> usize {
        self.received.len()
    }

    /// Take every byte received so far.
    pub fn take(&mut self) -> Vec<u8> {
        self.received.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_encode_big_endian() {
        let w = Request::Write {
            addr: 0x00_0004,
            data: 0x0000_0005,
        };
        assert_eq!(w.encode().unwrap(), [0x57, 0, 0, 4, 0, 0, 0, 5]);
        let r = Request::Read { addr: 0x14_0000 };
        assert_eq!(r.encode().unwrap(), [0x52, 0x14, 0, 0]);
        assert_eq!(
            Request::Read { addr: 0x100_0000 }.encode(),
            Err(UartError::Address(0x100_0000))
        );
    }

    #[test]
    fn answers_decode() {
        let r = Request::Read { addr: 0x9C };
        assert_eq!(
            r.decode_answer(&[b'K', 0x44, 0x52, 0x51, 0x01]).unwrap(),
            Answer {
                status: Status::Okay,
                data: Some(0x4452_5101)
            }
        );
        let w = Request::Write {
            addr: 0x4C,
            data: 1,
        };
        assert_eq!(
            w.decode_answer(b"E").unwrap(),
            Answer {
                status: Status::Error,
                data: None
            }
        );
        assert!(matches!(
            w.decode_answer(b"EK"),
            Err(UartError::Length { .. })
        ));
        assert_eq!(w.decode_answer(b"x"), Err(UartError::Status(b'x')));
    }

    #[test]
    fn transmitter_and_receiver_agree_at_several_rates() {
        for cpb in [2, 3, 4, 8, 17] {
            let mut tx = UartTx::new(cpb);
            let mut rx = UartRx::new(cpb);
            let bytes: Vec<u8> = (0..=255u8).step_by(7).chain([0x00, 0xFF]).collect();
            tx.send(&bytes);
            let mut cycles = 0;
            while !tx.idle() || rx.busy() {
                rx.sample(tx.level());
                cycles += 1;
            }
            assert_eq!(rx.take(), bytes, "clks_per_bit {cpb}");
            assert_eq!(rx.framing_errors, 0);
            assert_eq!(cycles as usize, bytes.len() * 10 * cpb as usize);
        }
    }

    #[test]
    fn frame_is_lsb_first_with_start_and_stop() {
        let f = frame(0x01);
        assert_eq!(
            f,
            [false, true, false, false, false, false, false, false, false, true]
        );
    }
}
