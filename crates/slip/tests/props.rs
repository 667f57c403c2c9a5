//! Properties of the ESC/POS interpreter and the encoder in front of it (issue 17, "every input
//! parser property-tested"): any bytes are read without a panic, in one piece or split anywhere
//! with the same result; whatever the encoder makes reads back as the text and the QR data it was
//! given, with no warning; any slip's layout fits its paper; a printer profile of any content is
//! read or refused by field. Cases are bounded so the file runs in seconds.

use proptest::prelude::*;

use slip::layout::SlipFeature;
use slip::{
    builtin_profiles, encode, interpret, layout, Align, Block, ChineseMode, Element, Interpreter,
    PrinterProfile, QrMode, SlipContent, TextSize,
};

/// Bytes that look like a printer stream: commands, their arguments, text, GB18030, QR data.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..24),
        2 => prop::sample::select(vec![
            b"\x1b@".to_vec(), b"\x1c&".to_vec(), b"\x1c.".to_vec(), b"\x1ba\x01".to_vec(),
            b"\x1bE\x01".to_vec(), b"\x1d!\x11".to_vec(), b"\x1bd\x03".to_vec(), b"\n".to_vec(),
            b"\x1dV\x42\x00".to_vec(), b"\x1d(k\x04\x001A2\x00".to_vec(), b"\x1d(k\x03\x001C\x06".to_vec(),
            b"\x1d(k\x03\x001E1".to_vec(), b"\x1d(k\x08\x001P0ABCDE".to_vec(), b"\x1d(k\x03\x001Q0".to_vec(),
            b"\x1dv0\x00\x02\x00\x04\x00".to_vec(), b"\x10\x04\x01".to_vec(), b"\x1dr\x01".to_vec(),
            b"\x1dk\x04".to_vec(), b"\x1bt\x00".to_vec(), b"\x1b3\x40".to_vec(), b"\t".to_vec(),
            "中文".as_bytes().to_vec(), b"\xd6\xd0\xce\xc4".to_vec(), b"\x81\x30\x81\x30".to_vec(),
            b"\xff\xff\xff\xff".to_vec(), b"\x1d(k\xff\xff1P0".to_vec(), b"\x1dv0\x00\xff\xff\xff\xff".to_vec(),
        ]),
        1 => "[ -~]{0,20}".prop_map(String::into_bytes),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// A profile's key as its TOML form has it (the fields are the crate's own).
fn field(p: &PrinterProfile, key: &str) -> toml::Value {
    toml::Value::try_from(p).unwrap()[key].clone()
}

fn has_chinese_font(p: &PrinterProfile) -> bool {
    let chinese: ChineseMode = field(p, "chinese").try_into().unwrap();
    chinese == ChineseMode::Gb18030
}

fn columns(p: &PrinterProfile) -> usize {
    field(p, "columns").as_integer().unwrap() as usize
}

/// Reads `pieces` one after another into one interpreter.
fn read_in_pieces(pieces: &[&[u8]]) -> slip::Printout {
    let mut interpreter = Interpreter::new();
    for piece in pieces {
        interpreter.push(piece);
    }
    interpreter.printout().clone()
}

fn profile() -> impl Strategy<Value = PrinterProfile> {
    prop::sample::select(builtin_profiles())
}

/// Text a printer with a Chinese font prints as it is: ASCII, Hanzi, Chinese punctuation.
fn printable(chinese: bool) -> BoxedStrategy<String> {
    if chinese {
        "[ -~一-龥，。、：？！（）《》“”·￥]{1,30}".boxed()
    } else {
        "[ -~]{1,30}".boxed()
    }
}

fn size() -> impl Strategy<Value = TextSize> {
    prop::sample::select(vec![
        TextSize::Normal,
        TextSize::Double,
        TextSize::Tall,
        TextSize::Wide,
        TextSize::Triple,
    ])
}

fn align() -> impl Strategy<Value = Align> {
    prop::sample::select(vec![Align::Left, Align::Center, Align::Right])
}

fn words() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~一-龥，。]{0,40}",
        1 => any::<String>(),
        1 => "[\u{0}-\u{1f}\u{7f}-\u{9f}\u{202e}\u{200b}\u{1F600}\u{E000}a中]{0,12}",
        1 => "[A-Z0-9]{1,120}",
    ]
}

fn content() -> impl Strategy<Value = SlipContent> {
    (
        (words(), words(), words(), words()),
        proptest::option::of((words(), words(), proptest::collection::vec(words(), 0..3))),
        (words(), words(), words(), words()),
        (
            proptest::collection::vec(words(), 0..3),
            proptest::collection::vec(words(), 0..3),
            words(),
        ),
    )
        .prop_map(
            |(
                (heading, station_name, service_line, issued_at),
                feature,
                (code_label, code, qr_payload, qr_caption),
                (next_steps, emergency, hotline),
            )| SlipContent {
                heading,
                station_name,
                service_line,
                issued_at,
                feature: feature.map(|(label, big, lines)| SlipFeature { label, big, lines }),
                code_label,
                code,
                qr_payload,
                qr_caption,
                next_steps,
                emergency,
                hotline,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes are read without a panic, and reading them in two pieces split anywhere, or a
    /// byte at a time, prints the same as reading them whole.
    #[test]
    fn any_stream_reads_the_same_whole_or_in_pieces(bytes in prop_oneof![stream(), proptest::collection::vec(any::<u8>(), 0..300)], at in any::<prop::sample::Index>()) {
        let whole = read_in_pieces(&[&bytes]);
        let split = at.index(bytes.len() + 1);
        prop_assert_eq!(&read_in_pieces(&[&bytes[..split], &bytes[split..]]), &whole);
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        prop_assert_eq!(&read_in_pieces(&singles), &whole);
        // The whole stream ended: the same elements, and at most two warnings more (a command,
        // and a line, left unfinished).
        let finished = interpret(&bytes);
        prop_assert_eq!(&finished.elements[..whole.elements.len()], &whole.elements[..]);
        prop_assert!(finished.warnings.len() <= whole.warnings.len() + 2);
        let _ = slip::render::paper_length_dots(&finished, 576);
        if bytes.len() < 200 {
            let _ = slip::render::render_png(&finished, 384);
        }
    }

    /// Text the printer can print reads back exactly, line by line, in every size, alignment
    /// and weight, on every built-in printer, and the stream holds nothing the interpreter
    /// would warn about.
    #[test]
    fn printable_text_reads_back_exactly(
        p in profile(),
        lines in proptest::collection::vec((any::<bool>(), size(), align(), any::<bool>()), 1..6),
        seed in proptest::collection::vec(printable(true), 6),
        ascii in proptest::collection::vec(printable(false), 6),
    ) {
        let chinese = has_chinese_font(&p);
        let texts: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(i, (hanzi, ..))| if chinese && *hanzi { seed[i].clone() } else { ascii[i].clone() })
            .collect();
        let blocks: Vec<Block> = lines
            .iter()
            .zip(&texts)
            .map(|((_, size, align, bold), text)| Block::Text { text: text.clone(), size: *size, align: *align, bold: *bold })
            .collect();
        let printout = interpret(&encode(&blocks, &p));
        prop_assert!(printout.warnings.is_empty(), "{:?}", printout.warnings);
        prop_assert_eq!(printout.text_lines(), texts);
    }

    /// Any text at all (controls, bidirectional overrides, emoji, private use) becomes exactly
    /// one printed line per block with no control character in it, and never a command: the
    /// interpreter has nothing to warn about and prints nothing but those lines and the cut.
    #[test]
    fn any_text_stays_text(p in profile(), texts in proptest::collection::vec(words(), 1..5)) {
        let mut blocks: Vec<Block> = texts
            .iter()
            .map(|t| Block::Text { text: t.clone(), size: TextSize::Normal, align: Align::Left, bold: false })
            .collect();
        blocks.push(Block::Cut);
        let printout = interpret(&encode(&blocks, &p));
        prop_assert!(printout.warnings.is_empty(), "{:?}", printout.warnings);
        prop_assert!(printout.status_queries.is_empty());
        // One element a block: its line, or blank paper for a text with nothing printable.
        let (cut, printed) = printout.elements.split_last().unwrap();
        prop_assert!(matches!(cut, Element::Cut { .. }), "{:?}", cut);
        prop_assert_eq!(printed.len(), texts.len());
        for (element, text) in printed.iter().zip(&texts) {
            prop_assert!(matches!(element, Element::Line { .. } | Element::Feed { .. }), "{:?}", element);
            let alone = slip::Printout { elements: vec![element.clone()], ..Default::default() };
            for line in alone.text_lines() {
                prop_assert!(!line.chars().any(char::is_control), "{:?}", line);
                prop_assert!(line.chars().count() <= text.chars().count(), "{:?} from {:?}", line, text);
            }
        }
    }

    /// A QR payload is printed as a symbol holding exactly that payload (native when the
    /// printer draws it, else as an image), never as commands.
    #[test]
    fn a_qr_payload_prints_as_a_symbol_of_itself(p in profile(), data in prop_oneof!["https?://[a-z0-9.]{1,30}/T/[0-9A-Z]{17}", any::<String>()]) {
        let printout = interpret(&encode(&[Block::Qr { data: data.clone() }, Block::Cut], &p));
        prop_assert!(printout.warnings.is_empty(), "{:?}", printout.warnings);
        match p.qr {
            QrMode::Native { max_data, .. } if data.len() <= usize::from(max_data) => {
                prop_assert_eq!(printout.qr_payloads(), vec![data]);
            }
            _ => {
                let images = printout.elements.iter().filter(|e| matches!(e, Element::Raster { .. })).count();
                prop_assert!(images >= 1);
                prop_assert!(printout.qr_payloads().is_empty());
            }
        }
    }

    /// Any slip, laid out for any built-in printer, fits its paper: every line within the
    /// printer's columns at its size, and its bytes read back without a warning.
    #[test]
    fn any_slip_fits_its_paper(p in profile(), c in content()) {
        let blocks = layout(&c, &p);
        let columns = columns(&p);
        for block in &blocks {
            if let Block::Text { text, size, .. } = block {
                let width: usize = text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
                let factor = match size {
                    TextSize::Normal | TextSize::Tall => 1,
                    TextSize::Double | TextSize::Wide => 2,
                    TextSize::Triple => 3,
                };
                prop_assert!(width * factor <= columns, "{:?} is {} columns at {:?}, the paper {}", text, width, size, columns);
            }
        }
        let printout = interpret(&encode(&blocks, &p));
        prop_assert!(printout.warnings.is_empty(), "{:?}", printout.warnings);
    }

    /// A printer profile (`[[printer.profiles]]`) of any content is read or refused without a
    /// panic; a refusal of a profile that read names its field.
    #[test]
    fn any_profile_text_is_read_or_refused(
        base in profile(),
        key in prop::sample::select(vec!["paper_mm", "dots_per_line", "columns", "code_page", "dots_per_mm"]),
        number in prop_oneof![0i64..1000, any::<i64>()],
        junk in any::<String>(),
    ) {
        let mut table = toml::Value::try_from(&base).unwrap();
        table.as_table_mut().unwrap().insert(key.to_owned(), toml::Value::Integer(number));
        let text = toml::to_string(&table).unwrap();
        match toml::from_str::<PrinterProfile>(&text) {
            Ok(p) => {
                if let Err(e) = p.validate() {
                    prop_assert!(!e.field.is_empty() && !e.problem.is_empty());
                }
            }
            Err(e) => prop_assert!(e.to_string().contains(key), "{}", e),
        }
        let _ = toml::from_str::<PrinterProfile>(&junk);
        let _ = toml::from_str::<PrinterProfile>(&format!("{text}\n{junk}"));
    }
}
