//! Where the kiosk's and the hub's `tracing` events go: one line each on standard error, which
//! systemd hands to the journal. The libraries only emit events (`tracing`); the two binaries
//! (`grievance-kiosk`, `grievance-hub`) call [`init`] once, first thing, so both logs read alike.
//!
//! - The level comes from one environment variable (`KIOSK_LOG`, `HUB_LOG`): `error`, `warn`,
//!   `info` (the default), `debug`, `trace` or `off`. It applies to the project's own crates;
//!   everyone else's (hyper, reqwest, axum) say only warnings and errors, so `debug` stays
//!   readable. No regular-expression filter: nobody on a kiosk needs one.
//! - Under systemd (`$JOURNAL_STREAM` names the very stream standard error is) each line starts
//!   with its priority, `<3>` for an error to `<7>` for debug (sd-daemon(3)), and carries no
//!   time of its own: the journal stamps it, and `journalctl -p warning` shows warnings and
//!   errors only.
//! - Elsewhere a line has a UTC time and a level, coloured only on a terminal.
//!
//! This crate does not decide what is logged, and it never sees a resident's data: keeping
//! personal data out of every message and field is the callers' rule (`tests/kiosk_headless/log_canary.rs`).

use std::ffi::OsStr;
use std::fmt;
use std::io::IsTerminal;
use std::str::FromStr;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::{FmtContext, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::{LookupSpan, Registry};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The project's crates: the level of the variable applies to their events.
const OURS: [&str; 10] = [
    "grievance_kiosk",
    "grievance_hub",
    "hub",
    "station",
    "devices",
    "domain",
    "protocol",
    "slip",
    "ime",
    "logging",
];

/// How a line looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// For the journal: the priority prefix, no time, no colour.
    Journal,
    /// Time, level and message; `colour` on a terminal only.
    Plain { colour: bool },
}

/// Sends every event from here on to standard error, at the level `variable` names (see the
/// module documentation). A value that is not a level is said once, as a warning, and `info`
/// used. Calling it again does nothing (the first call's settings stay).
pub fn init(variable: &str) {
    let value = std::env::var(variable).ok();
    let (level, known) = level(value.as_deref());
    let style = match std::env::var_os("JOURNAL_STREAM") {
        Some(stream) if names_stderr(&stream) => Style::Journal,
        _ => Style::Plain {
            colour: std::io::stderr().is_terminal(),
        },
    };
    let installed = subscriber(level, style, std::io::stderr).try_init();
    if let (Ok(()), false, Some(value)) = (installed, known, value) {
        tracing::warn!(
            "{variable}={value:?} is not a level (error, warn, info, debug, trace, off); \
             logging at info"
        );
    }
}

/// The level a variable's value names (unset or empty: info), and whether it named one.
fn level(value: Option<&str>) -> (LevelFilter, bool) {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => (LevelFilter::INFO, true),
        Some(v) => match LevelFilter::from_str(v) {
            Ok(level) => (level, true),
            Err(_) => (LevelFilter::INFO, false),
        },
    }
}

/// Our crates at `level`, everyone else's at warnings at most.
fn subscriber<W>(level: LevelFilter, style: Style, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = OURS.iter().fold(
        Targets::new().with_default(level.min(LevelFilter::WARN)),
        |f, ours| f.with_target(*ours, level),
    );
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_target(false);
    let lines: Box<dyn Layer<Registry> + Send + Sync> = match style {
        Style::Journal => Box::new(
            lines.with_ansi(false).event_format(Journald(
                format::Format::default()
                    .without_time()
                    .with_level(false)
                    .with_target(false)
                    .with_ansi(false),
            )),
        ),
        Style::Plain { colour } => Box::new(lines.with_ansi(colour)),
    };
    tracing_subscriber::registry().with(lines.with_filter(filter))
}

/// Whether `stream` (`$JOURNAL_STREAM`, `DEVICE:INODE` of the stream systemd connected) is
/// this process's standard error: a child whose standard error was redirected (a test, a
/// pipe) inherits the variable but not the stream.
fn names_stderr(stream: &OsStr) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Some((device, inode)) = stream.to_str().and_then(|s| s.split_once(':')) else {
        return false;
    };
    let Ok(stderr) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    let Ok(meta) = std::fs::File::from(stderr).metadata() else {
        return false;
    };
    device.parse() == Ok(meta.dev()) && inode.parse() == Ok(meta.ino())
}

/// The journal's line: the sd-daemon priority prefix, then the message and its fields.
struct Journald<F>(F);

impl<S, N, F> FormatEvent<S, N> for Journald<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", priority(*event.metadata().level()))?;
        self.0.format_event(context, writer, event)
    }
}

/// syslog's priorities, as the journal reads them: err, warning, info, debug.
fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What a subscriber wrote.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn logged(level: LevelFilter, style: Style, events: impl FnOnce()) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing::subscriber::with_default(subscriber(level, style, move || writer.clone()), events);
        captured.text()
    }

    #[test]
    fn under_the_journal_each_line_starts_with_its_priority_and_has_no_time() {
        let text = logged(LevelFilter::DEBUG, Style::Journal, || {
            tracing::error!(job = 7, "print queue: the pass failed");
            tracing::warn!("outbox: upstream refused");
            tracing::info!("backend: stopped");
            tracing::debug!(delivered = 2, "outbox: drained");
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "<3>print queue: the pass failed job=7",
                "<4>outbox: upstream refused",
                "<6>backend: stopped",
                "<7>outbox: drained delivered=2",
            ]
        );
    }

    #[test]
    fn a_plain_line_has_a_time_and_a_level_and_no_colour() {
        let text = logged(LevelFilter::INFO, Style::Plain { colour: false }, || {
            tracing::warn!(task = "outbox", "outbox: upstream refused");
        });
        assert!(
            text.contains(" WARN outbox: upstream refused task=\"outbox\""),
            "{text:?}"
        );
        assert!(text.starts_with("20"), "starts with the year: {text:?}");
        assert!(!text.contains('\x1b'), "no colour: {text:?}");
    }

    #[test]
    fn the_level_hides_what_is_below_it_and_others_crates_say_warnings_only() {
        let text = logged(LevelFilter::WARN, Style::Journal, || {
            tracing::info!("hidden");
            tracing::warn!("shown");
            tracing::warn!(target: "hyper::proto", "theirs, shown");
        });
        assert_eq!(text, "<4>shown\n<4>theirs, shown\n");
        let text = logged(LevelFilter::DEBUG, Style::Journal, || {
            tracing::debug!("ours");
            tracing::info!(target: "hyper::proto", "theirs, hidden");
        });
        assert_eq!(text, "<7>ours\n");
    }

    #[test]
    fn a_level_is_read_from_its_name_and_anything_else_is_info() {
        assert_eq!(level(None), (LevelFilter::INFO, true));
        assert_eq!(level(Some(" ")), (LevelFilter::INFO, true));
        assert_eq!(level(Some("debug")), (LevelFilter::DEBUG, true));
        assert_eq!(level(Some("WARN")), (LevelFilter::WARN, true));
        assert_eq!(level(Some("off")), (LevelFilter::OFF, true));
        assert_eq!(level(Some("loud")), (LevelFilter::INFO, false));
    }

    #[test]
    fn the_journal_is_standard_error_only_when_the_stream_is_its_device_and_inode() {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let stderr = std::io::stderr().as_fd().try_clone_to_owned().unwrap();
        let meta = std::fs::File::from(stderr).metadata().unwrap();
        let own = format!("{}:{}", meta.dev(), meta.ino());
        assert!(names_stderr(OsStr::new(&own)));
        let other = format!("{}:{}", meta.dev(), meta.ino() + 1);
        assert!(!names_stderr(OsStr::new(&other)));
        assert!(!names_stderr(OsStr::new("not a stream")));
    }
}
