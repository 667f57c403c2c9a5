//! Properties of the serial scanner's line reader (issue 17, "every input parser
//! property-tested"): any byte stream is read without a panic and within its memory bound, a
//! stream split anywhere (the serial line delivers it in pieces of any size) is read as the same
//! scans, and a code sent between any garbage lines arrives as itself.

use proptest::prelude::*;

use devices::scanner::{Lines, Scan, MAX_LINE};

/// The scans of a stream delivered in `pieces`, the line then going quiet.
fn scans(pieces: &[&[u8]]) -> Vec<Scan> {
    let mut lines = Lines::new();
    let mut out = Vec::new();
    for piece in pieces {
        lines.feed(piece, |scan| out.push(scan));
    }
    lines.end(|scan| out.push(scan));
    out
}

/// What a scanner's line carries: codes, URLs, line endings of every kind, wrappers (STX/ETX),
/// padding, noise, over-long runs, broken UTF-8.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => "[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]".prop_map(String::into_bytes),
        2 => "https://[a-z.]{1,20}/T/[0-9A-Z]{17}(\\?lang=en)?".prop_map(String::into_bytes),
        3 => prop::sample::select(vec![
            b"\r".to_vec(), b"\n".to_vec(), b"\r\n".to_vec(), b"\n\r".to_vec(), b"\x02".to_vec(),
            b"\x03".to_vec(), b"  ".to_vec(), b"\t".to_vec(), b"\x00".to_vec(), b"\xff\xfe".to_vec(),
            b"\xe4\xb8".to_vec(), b"\xad".to_vec(), "中文".as_bytes().to_vec(),
        ]),
        2 => proptest::collection::vec(any::<u8>(), 0..40),
        1 => (0usize..3 * MAX_LINE, any::<u8>()).prop_map(|(n, b)| vec![if b == b'\r' || b == b'\n' { b'X' } else { b }; n]),
    ];
    proptest::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
}

/// The stream cut at the given points (any number, anywhere).
fn cut<'a>(bytes: &'a [u8], points: &[prop::sample::Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = points.iter().map(|p| p.index(bytes.len() + 1)).collect();
    at.push(0);
    at.push(bytes.len());
    at.sort();
    at.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A stream read in any pieces gives the same scans as read whole, and every scan is a
    /// trimmed, non-empty line of text no longer than the bound.
    #[test]
    fn a_stream_split_anywhere_reads_the_same(
        bytes in stream(),
        points in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let whole = scans(&[&bytes]);
        prop_assert_eq!(&scans(&cut(&bytes, &points)), &whole);
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        prop_assert_eq!(&scans(&singles), &whole);
        for scan in &whole {
            if let Scan::Text(text) = scan {
                prop_assert!(!text.is_empty());
                prop_assert!(text.len() <= MAX_LINE);
                prop_assert!(!text.contains(['\r', '\n']));
                prop_assert_eq!(text.trim_matches(|c: char| c.is_whitespace() || c.is_control()), text.as_str());
            }
        }
        // Never more scans than lines the stream could hold.
        let endings = bytes.iter().filter(|&&b| b == b'\r' || b == b'\n').count();
        prop_assert!(whole.len() <= endings + 1);
    }

    /// A code sent as its own line comes out as itself, whatever garbage lines come before and
    /// after it and however the line delivers the bytes.
    #[test]
    fn a_code_between_garbage_lines_arrives_as_itself(
        before in stream(),
        code in "[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]|https://[a-z]{1,12}\\.cn/T/[0-9A-Z]{17}",
        ending in prop::sample::select(vec!["\r", "\n", "\r\n"]),
        after in stream(),
        points in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let bytes = [before.as_slice(), b"\r\n", code.as_bytes(), ending.as_bytes(), after.as_slice()].concat();
        let read = scans(&cut(&bytes, &points));
        prop_assert!(read.contains(&Scan::Text(code.clone())), "{:?} not in {:?}", code, read);
    }

    /// However long a run without a line ending, the reader keeps no more than the bound and
    /// reports the run once as too long; the next line is read.
    #[test]
    fn an_endless_line_is_bounded_and_reported_once(
        chunk in proptest::collection::vec(any::<u8>().prop_filter("no line end", |b| *b != b'\r' && *b != b'\n'), 1..600),
        repeats in 1usize..40,
    ) {
        let mut lines = Lines::new();
        let mut out = Vec::new();
        for _ in 0..repeats {
            lines.feed(&chunk, |scan| out.push(scan));
        }
        lines.feed(b"\nNEXT\n", |scan| out.push(scan));
        let total = chunk.len() * repeats;
        if total > MAX_LINE {
            prop_assert_eq!(out.first(), Some(&Scan::TooLong));
        }
        prop_assert_eq!(out.iter().filter(|s| **s == Scan::TooLong).count(), usize::from(total > MAX_LINE));
        prop_assert_eq!(out.last(), Some(&Scan::Text("NEXT".into())));
        prop_assert!(!lines.pending());
    }
}
