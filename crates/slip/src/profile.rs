//! What the kiosk knows about one printer model: paper width, how it prints Chinese and QR
//! codes, how it cuts, which status questions it answers.
//!
//! This file owns the [`PrinterProfile`] type, its TOML form and the built-in profiles. It does
//! not choose a profile for a station (configuration does) nor talk to a printer.
//!
//! A station whose printer is none of the built-ins declares its own profile in the kiosk's
//! TOML configuration. Every key is required and unknown keys are refused, so a typo is
//! reported at start-up instead of silently printing with a default. The enums are tables
//! tagged by `kind`, or plain strings where they carry no data:
//!
//! ```toml
//! id = "xp-58-cutter"
//! name = "Xprinter 58 mm with autocutter"
//! paper_mm = 58
//! dots_per_line = 384
//! columns = 32
//! chinese = "gb18030"            # or "none": the printer has no Chinese font
//! code_page = 0                  # ESC t n, PC437
//! qr = { kind = "raster", module_size = 4 }      # or { kind = "native", module_size = 6, max_data = 1000 }
//! cut = { kind = "partial", feed = 0 }           # or { kind = "full", feed = 0 }, or { kind = "none" }
//! answers_gs_r = false
//! status_query = true
//! dots_per_mm = 8
//! ```
//!
//! A declared profile should pass [`PrinterProfile::validate`] before it is used; the layout and
//! the encoder stay total on any profile, but an out-of-range one prints badly.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One printer model, as the slip layout and the ESC/POS encoder need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterProfile {
    /// Stable identifier used in configuration, e.g. `cn-80mm`.
    pub id: String,
    /// Human-readable model name, shown to staff.
    pub(crate) name: String,
    /// Paper roll width in millimetres (58 or 80).
    pub(crate) paper_mm: u16,
    /// Printable dots across one line: 384 for 58 mm, 576 for 80 mm, 512 for the TM-T88 class.
    pub dots_per_line: u16,
    /// Characters per line in Font A (12 dots wide): 32, 48 or 42.
    pub(crate) columns: u16,
    /// Whether the printer has a resident Chinese font.
    pub(crate) chinese: ChineseMode,
    /// Code table selected with `ESC t n` for single-byte text.
    pub(crate) code_page: u8,
    /// How QR codes are printed.
    pub qr: QrMode,
    /// How a slip is separated from the roll.
    pub(crate) cut: Cut,
    /// The printer answers `GS r 1` once the preceding data is processed ("job finished" marker).
    pub answers_gs_r: bool,
    /// The printer answers the real-time status query `DLE EOT n`.
    pub(crate) status_query: bool,
    /// Dots per millimetre (8 at 203 dpi, 7 at 180 dpi).
    pub dots_per_mm: u8,
    /// How the serial line is set up by default; the station's configuration may override it.
    #[serde(default)]
    pub serial: SerialSettings,
}

/// Baud rates a serial printer line can run at.
pub const BAUD_RATES: [u32; 9] = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400];

/// Serial line settings: the model's factory defaults in a profile, the station's choice in
/// `[printer]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialSettings {
    pub baud: u32,
    /// 7 or 8.
    pub data_bits: u8,
    pub parity: Parity,
    pub flow_control: FlowControl,
}

impl Default for SerialSettings {
    /// 9600 8N1 without flow control: what most thermal printers ship with.
    fn default() -> SerialSettings {
        SerialSettings {
            baud: 9600,
            data_bits: 8,
            parity: Parity::None,
            flow_control: FlowControl::None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parity {
    None,
    Odd,
    Even,
}

/// Flow control. Printers signal "buffer full" by XOFF or by their DTR line; the host side can
/// honour XON/XOFF or RTS/CTS (a cable wiring the printer's DTR to the host's CTS), not DTR/DSR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowControl {
    None,
    XonXoff,
    RtsCts,
}

/// How the printer prints Chinese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChineseMode {
    /// A resident GB18030/GBK font: text goes as GB18030 bytes between `FS &` and `FS .`.
    Gb18030,
    /// No Chinese font: every non-ASCII character is replaced before it reaches the printer.
    None,
}

/// How QR codes are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum QrMode {
    /// The printer draws the symbol itself from `GS ( k`: about 80 bytes for a URL.
    Native {
        /// Dots per module (function 167).
        module_size: u8,
        /// Longest payload the firmware accepts in function 180; longer ones go as raster.
        max_data: u16,
    },
    /// The kiosk draws the symbol and sends it as a `GS v 0` raster image: kilobytes.
    Raster {
        /// Dots per module.
        module_size: u8,
    },
}

impl QrMode {
    /// Dots per module, whichever way the symbol is printed.
    pub(crate) fn module_size(&self) -> u8 {
        match *self {
            QrMode::Native { module_size, .. } | QrMode::Raster { module_size } => module_size,
        }
    }
}

/// How a slip is separated from the roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Cut {
    /// `GS V 66 n`: feed to the cutter plus `feed` motion units, then cut leaving one point.
    Partial { feed: u8 },
    /// `GS V 65 n`: feed to the cutter plus `feed` motion units, then cut through.
    Full { feed: u8 },
    /// No cutter: feed the slip past the tear bar only.
    None,
}

/// A profile value that cannot print a usable slip. `field` is the key as written in TOML.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {problem}")]
pub struct ProfileError {
    pub field: &'static str,
    pub problem: String,
}

/// Font A cell width in dots; a line of `columns` characters must fit `dots_per_line`.
const FONT_A_WIDTH_DOTS: u16 = 12;
/// The layout prints the heading and the tracking code at double width, which halves the
/// columns; below 16 a double-width line holds fewer than 8 characters and the code breaks badly.
const MIN_COLUMNS: u16 = 16;
/// Largest module size `GS ( k` function 167 accepts on Epson and Citizen firmware.
const MAX_MODULE_SIZE: u8 = 16;
/// Largest payload `GS ( k` function 180 can carry (pL + 256·pH ≤ 7092, minus 3 header bytes).
const MAX_QR_DATA: u16 = 7089;

impl PrinterProfile {
    /// Checks every value against what a printer of this kind can do, naming the first bad key.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let bad = |field: &'static str, problem: String| Err(ProfileError { field, problem });
        if self.id.trim().is_empty()
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return bad(
                "id",
                format!(
                    "`{}` is not an identifier (letters, digits, `-` and `_`)",
                    self.id
                ),
            );
        }
        if !(40..=120).contains(&self.paper_mm) {
            return bad(
                "paper_mm",
                format!(
                    "{} mm is not a receipt paper width (58 or 80)",
                    self.paper_mm
                ),
            );
        }
        if !(96..=2048).contains(&self.dots_per_line) || !self.dots_per_line.is_multiple_of(8) {
            return bad(
                "dots_per_line",
                format!(
                    "{} is not a print head width (a multiple of 8 such as 384, 512 or 576)",
                    self.dots_per_line
                ),
            );
        }
        let widest = self.dots_per_line / FONT_A_WIDTH_DOTS;
        if !(MIN_COLUMNS..=widest).contains(&self.columns) {
            return bad(
                "columns",
                format!("{} does not fit: between {MIN_COLUMNS} and {widest} Font A characters fit {} dots", self.columns, self.dots_per_line),
            );
        }
        let module_size = self.qr.module_size();
        if !(1..=MAX_MODULE_SIZE).contains(&module_size) {
            return bad(
                "qr.module_size",
                format!("{module_size} is outside 1..={MAX_MODULE_SIZE} dots"),
            );
        }
        if let QrMode::Native { max_data, .. } = self.qr {
            if !(1..=MAX_QR_DATA).contains(&max_data) {
                return bad(
                    "qr.max_data",
                    format!("{max_data} is outside 1..={MAX_QR_DATA} bytes"),
                );
            }
        }
        if !(4..=24).contains(&self.dots_per_mm) {
            return bad(
                "dots_per_mm",
                format!(
                    "{} is not a thermal head resolution (7 or 8)",
                    self.dots_per_mm
                ),
            );
        }
        if !BAUD_RATES.contains(&self.serial.baud) {
            return bad(
                "serial.baud",
                format!(
                    "{} is not a serial baud rate ({BAUD_RATES:?})",
                    self.serial.baud
                ),
            );
        }
        if !(7..=8).contains(&self.serial.data_bits) {
            return bad(
                "serial.data_bits",
                format!(
                    "{} data bits: a printer line has 7 or 8",
                    self.serial.data_bits
                ),
            );
        }
        Ok(())
    }
}

/// The profiles the kiosk ships with; configuration may declare more.
pub fn builtin_profiles() -> Vec<PrinterProfile> {
    vec![
        // The Chinese-font variant of the TM-T88 (e.g. TM-T88V-CN / TM-T88VI Simplified
        // Chinese). The standard ANK models cannot print Hanzi (escpos-php #110,
        // node-thermal-printer #176): such a station declares a copy with `chinese = "none"`.
        // 180 dpi head, 512 dots = 72 mm; only partial cut is available on this class.
        PrinterProfile {
            id: "epson-tm-t88".into(),
            name: "Epson TM-T88 (Simplified Chinese font model)".into(),
            paper_mm: 80,
            dots_per_line: 512,
            columns: 42,
            chinese: ChineseMode::Gb18030,
            code_page: 0,
            qr: QrMode::Native {
                module_size: 6,
                max_data: MAX_QR_DATA,
            },
            // Form B already feeds the last printed line to the cutter; the slip's own bottom
            // margin comes from the layout, so no extra feed here.
            cut: Cut::Partial { feed: 0 },
            answers_gs_r: true,
            status_query: true,
            dots_per_mm: 7,
            // DIP-switch default 38400; the printer's busy signal is DTR/DSR or XON/XOFF and the
            // host can only honour the latter (research §4.3), so XON/XOFF.
            serial: SerialSettings {
                baud: 38400,
                data_bits: 8,
                parity: Parity::None,
                flow_control: FlowControl::XonXoff,
            },
        },
        // Xprinter / GPrinter class 80 mm printers: GB18030 font by default, 203 dpi.
        // HPRT-class firmware limits function 180 to fewer than 1021 bytes; the kiosk stays
        // below that. Whether this class answers GS r is not documented, so it is not relied on.
        PrinterProfile {
            id: "cn-80mm".into(),
            name: "Generic 80 mm Chinese printer (Xprinter/GPrinter class)".into(),
            paper_mm: 80,
            dots_per_line: 576,
            columns: 48,
            chinese: ChineseMode::Gb18030,
            code_page: 0,
            qr: QrMode::Native {
                module_size: 6,
                max_data: 1000,
            },
            cut: Cut::Partial { feed: 0 },
            answers_gs_r: false,
            status_query: true,
            dots_per_mm: 8,
            // Usually a USB virtual serial port, where the baud rate is nominal; 115200 keeps a
            // slip under 50 ms on a real RS-232 line set to match.
            serial: SerialSettings {
                baud: 115200,
                data_bits: 8,
                parity: Parity::None,
                flow_control: FlowControl::None,
            },
        },
        // Generic 58 mm printers: many (ZJ-5870, POS-5890, HOIN, Excelvan) lack `GS ( k` or
        // print it as text, so the QR goes as a raster image. Partial cut in form B
        // (`GS V 66 n`): a model with a cutter cuts, and a model without one only feeds,
        // which is what a tear-off slip needs anyway (research §2.6); ZJ-58 firmware accepts
        // GS V. Status is asked; a printer that never answers reads as "unknown", never "OK".
        PrinterProfile {
            id: "cn-58mm".into(),
            name: "Generic 58 mm Chinese printer".into(),
            paper_mm: 58,
            dots_per_line: 384,
            columns: 32,
            chinese: ChineseMode::Gb18030,
            code_page: 0,
            // 4 dots = 0.5 mm modules: a version-4 URL symbol is 16.5 mm wide, which phones
            // read easily; 5 dots would add 60 % to an image that is already kilobytes.
            qr: QrMode::Raster { module_size: 4 },
            cut: Cut::Partial { feed: 0 },
            answers_gs_r: false,
            status_query: true,
            dots_per_mm: 8,
            serial: SerialSettings::default(),
        },
    ]
}

/// The built-in profile with this id.
pub fn builtin(id: &str) -> Option<PrinterProfile> {
    builtin_profiles().into_iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TOML example of the module documentation, taken from this very file so that the
    /// documentation cannot drift from what parses.
    fn documented_example() -> String {
        let source = include_str!("profile.rs");
        let start = source
            .find("//! ```toml\n")
            .expect("the module doc has a TOML example")
            + "//! ```toml\n".len();
        let end = start
            + source[start..]
                .find("//! ```")
                .expect("the TOML example is closed");
        source[start..end]
            .lines()
            .map(|l| l.trim_start_matches("//!").trim_start())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_documented_toml_example_parses_and_validates() {
        let profile: PrinterProfile =
            toml::from_str(&documented_example()).expect("the example parses");
        assert_eq!(profile.id, "xp-58-cutter");
        assert_eq!(profile.qr, QrMode::Raster { module_size: 4 });
        assert_eq!(profile.cut, Cut::Partial { feed: 0 });
        assert_eq!(profile.chinese, ChineseMode::Gb18030);
        assert_eq!(profile.validate(), Ok(()));
    }

    #[test]
    fn the_other_enum_forms_of_the_documentation_parse() {
        let example = documented_example()
            .replace(r#"chinese = "gb18030""#, r#"chinese = "none""#)
            .replace(
                r#"{ kind = "raster", module_size = 4 }"#,
                r#"{ kind = "native", module_size = 6, max_data = 1000 }"#,
            )
            .replace(r#"{ kind = "partial", feed = 0 }"#, r#"{ kind = "none" }"#);
        let profile: PrinterProfile = toml::from_str(&example).expect("the variants parse");
        assert_eq!(profile.chinese, ChineseMode::None);
        assert_eq!(
            profile.qr,
            QrMode::Native {
                module_size: 6,
                max_data: 1000
            }
        );
        assert_eq!(profile.cut, Cut::None);
        let full: PrinterProfile = toml::from_str(
            &documented_example().replace(r#"kind = "partial""#, r#"kind = "full""#),
        )
        .expect("full cut parses");
        assert_eq!(full.cut, Cut::Full { feed: 0 });
    }

    #[test]
    fn a_misspelt_key_is_refused_even_inside_a_table() {
        let top = documented_example().replace("answers_gs_r", "answer_gs_r");
        assert!(toml::from_str::<PrinterProfile>(&top)
            .unwrap_err()
            .to_string()
            .contains("answer_gs_r"));
        let nested =
            documented_example().replace("module_size = 4 }", "module_size = 4, modul = 3 }");
        assert!(toml::from_str::<PrinterProfile>(&nested).is_err());
        let missing = documented_example().replace("dots_per_mm = 8", "");
        assert!(toml::from_str::<PrinterProfile>(&missing)
            .unwrap_err()
            .to_string()
            .contains("dots_per_mm"));
    }

    #[test]
    fn builtins_have_the_documented_ids_and_all_validate() {
        let ids: Vec<String> = builtin_profiles().into_iter().map(|p| p.id).collect();
        assert_eq!(ids, ["epson-tm-t88", "cn-80mm", "cn-58mm"]);
        for profile in builtin_profiles() {
            assert_eq!(profile.validate(), Ok(()), "{}", profile.id);
        }
    }

    #[test]
    fn builtins_describe_their_hardware() {
        let t88 = builtin("epson-tm-t88").expect("built in");
        assert_eq!(
            (t88.paper_mm, t88.dots_per_line, t88.columns),
            (80, 512, 42)
        );
        assert!(matches!(t88.qr, QrMode::Native { .. }) && t88.answers_gs_r && t88.status_query);
        assert_eq!(t88.chinese, ChineseMode::Gb18030);
        let cn80 = builtin("cn-80mm").expect("built in");
        assert_eq!((cn80.dots_per_line, cn80.columns), (576, 48));
        assert!(matches!(cn80.qr, QrMode::Native { max_data, .. } if max_data < 1021));
        let cn58 = builtin("cn-58mm").expect("built in");
        assert_eq!((cn58.dots_per_line, cn58.columns), (384, 32));
        assert!(matches!(cn58.qr, QrMode::Raster { .. }) && !cn58.answers_gs_r);
        assert_eq!(builtin("no-such-printer"), None);
    }

    #[test]
    fn builtins_survive_a_toml_round_trip() {
        for profile in builtin_profiles() {
            let text = toml::to_string(&profile).expect("serialises");
            assert_eq!(toml::from_str::<PrinterProfile>(&text), Ok(profile));
        }
    }

    #[test]
    fn validation_names_the_key_that_is_wrong() {
        let base = builtin("cn-58mm").expect("built in");
        type Spoil = fn(&mut PrinterProfile);
        let cases: [(&str, Spoil); 6] = [
            ("columns", |p| p.columns = 0),
            ("columns", |p| p.columns = 40),
            ("dots_per_line", |p| p.dots_per_line = 383),
            ("qr.module_size", |p| {
                p.qr = QrMode::Raster { module_size: 0 }
            }),
            ("qr.max_data", |p| {
                p.qr = QrMode::Native {
                    module_size: 4,
                    max_data: 9000,
                }
            }),
            ("id", |p| p.id = "two words".into()),
        ];
        for (field, spoil) in cases {
            let mut profile = base.clone();
            spoil(&mut profile);
            let error = profile.validate().expect_err(field);
            assert_eq!(error.field, field);
            assert!(error.to_string().starts_with(field));
        }
    }
}
