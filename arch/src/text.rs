//! Bounded text: error messages that quote user input are clipped, and
//! small description files (configurations, layers, networks) are read no
//! further than a fixed size, so that neither a 10 MB TOML value nor
//! `--config /dev/zero` can blow up an error line or the memory.

use std::io::Read;
use std::path::Path;

/// Largest configuration, layer or network description file read (bytes).
pub const MAX_TEXT_FILE: u64 = 16 << 20;

/// Longest piece of quoted input kept in an error message (characters).
pub const MAX_QUOTE: usize = 80;

/// `s` if it has at most `max` characters, else its first `max - 1`
/// characters and an ellipsis with the number of characters left out.
pub fn clip(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let keep: String = s.chars().take(max.saturating_sub(1)).collect();
    format!("{keep}… ({} more characters)", n - keep.chars().count())
}

/// Clip every double- or backquoted run of `message` longer than
/// [`MAX_QUOTE`] (serde and TOML errors quote the offending value), and the
/// whole message to `max` characters.
pub fn clip_quotes(message: &str, max: usize) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let q = rest[open..].chars().next().unwrap_or('"');
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        match after.find(q) {
            Some(close) => {
                out.push_str(&clip(&after[..close], MAX_QUOTE));
                out.push(q);
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&clip(after, MAX_QUOTE));
                rest = "";
            }
        }
    }
    out.push_str(rest);
    clip(&out, max)
}

/// Read a UTF-8 text file of at most `max` bytes: a longer file (or an
/// endless one such as `/dev/zero`) is refused after reading `max + 1`
/// bytes, with an error that says so.
pub fn read_text_bounded(path: &Path, max: u64) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    if let Ok(meta) = file.metadata() {
        if meta.is_file() && meta.len() > max {
            return Err(too_large(meta.len(), max));
        }
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64, max));
    }
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn too_large(len: u64, max: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!(
            "{}{len} bytes, more than the {max} bytes a description file may hold",
            if len == max + 1 { "at least " } else { "" }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_long_quotes_and_lines() {
        assert_eq!(clip("abc", 3), "abc");
        assert!(clip(&"x".repeat(1000), 10).starts_with("xxxxxxxxx…"));
        let long = format!(
            "invalid type: string \"{}\", expected i64",
            "a".repeat(10_000)
        );
        let c = clip_quotes(&long, 300);
        assert!(c.len() < 300 && c.ends_with("expected i64"), "{c}");
        assert!(clip_quotes(&"b".repeat(5000), 300).chars().count() < 330);
    }

    #[test]
    fn bounded_read_refuses_endless_input() {
        let e = read_text_bounded(Path::new("/dev/zero"), 1024).unwrap_err();
        assert!(e.to_string().contains("more than the 1024 bytes"), "{e}");
    }
}
