//! The serial scanner's line reader on any byte stream: it never panics, never holds more than a
//! line's worth of bytes, and a stream split anywhere is read as the same scans.

use devices::scanner::{Lines, Scan, MAX_LINE};

fn scans(pieces: &[&[u8]]) -> Vec<Scan> {
    let mut lines = Lines::new();
    let mut out = Vec::new();
    for piece in pieces {
        lines.feed(piece, |scan| out.push(scan));
    }
    lines.end(|scan| out.push(scan));
    out
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let whole = scans(&[data]);
        let split = data.first().map_or(0, |&b| usize::from(b)) % (data.len() + 1);
        assert_eq!(whole, scans(&[&data[..split], &data[split..]]));
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        assert_eq!(whole, scans(&bytes));
        for scan in whole {
            if let Scan::Text(text) = scan {
                assert!(!text.is_empty() && text.len() <= MAX_LINE);
                assert!(!text.contains(['\r', '\n']));
            }
        }
    });
}
