//! The now-serving display (`grievance-kiosk display`): a window for a second screen, or a
//! split of the kiosk's, showing the ticket just called with its counter, the last few calls and
//! how many wait per lane. It reads the kiosk's database (the same file the touchscreen and the
//! staff console write) from a thread once a second, so it runs as its own process beside the
//! kiosk and never blocks its UI thread; each new call (or recall) flashes the number and plays
//! a chime. It never shows a name or a service in words: ticket numbers and counters only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::ui::{CallRow, NowServingWindow};
use station::config::KioskConfig;
use station::kiosk::{Kiosk, KioskError};
use station::store::QueueCall;

/// How many earlier calls the board lists beside the current one.
pub const RECENT: usize = 5;

/// What the board shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    pub station: String,
    /// The newest call (ticket and counter).
    pub current: Option<QueueCall>,
    /// The calls before it, newest first.
    pub recent: Vec<QueueCall>,
    /// People waiting per lane, `A 3   B 1`.
    pub waiting: String,
    /// Grows with every call; a change means "chime".
    pub last_call_id: i64,
    /// Staff are needed at the kiosk now (a high-risk case filed, not yet acknowledged on the
    /// staff console).
    pub staff_called: bool,
}

/// Reads the board from the kiosk's database.
pub fn read_board(
    kiosk: &Kiosk,
    config: &KioskConfig,
    now: DateTime<Utc>,
) -> Result<Board, KioskError> {
    let mut calls = kiosk.last_calls(RECENT as u32 + 1, now)?;
    let current = (!calls.is_empty()).then(|| calls.remove(0));
    let waiting = kiosk
        .queue_lengths(now)?
        .iter()
        .map(|(lane, n)| format!("{lane} {n}"))
        .collect::<Vec<_>>()
        .join("   ");
    Ok(Board {
        station: format!("{} {}", config.station.name.zh, config.station.name.en),
        current,
        recent: calls,
        waiting,
        last_call_id: kiosk.last_call_id()?,
        staff_called: kiosk
            .notices()?
            .iter()
            .any(|n| station::store::CALLS_FOR_STAFF.contains(&n.kind.as_str())),
    })
}

fn show(window: &NowServingWindow, board: &Board, flash: bool, now: DateTime<Utc>) {
    // Everything is drawn for 1920×1080 and scaled to the screen's real size.
    let size = window.window().size();
    let scale = window.window().scale_factor().max(0.1);
    let design = (size.width as f32 / 1920.0).min(size.height as f32 / 1080.0) / scale;
    if design > 0.0 {
        window.set_unit(design);
    }
    window.set_station(board.station.as_str().into());
    window.set_clock(SharedString::from(
        now.with_timezone(&chrono::Local)
            .format("%H:%M")
            .to_string(),
    ));
    match &board.current {
        Some(c) => {
            window.set_current_ticket(c.label.as_str().into());
            window.set_current_counter(c.counter as i32);
        }
        None => window.set_current_ticket(SharedString::new()),
    }
    let rows: Vec<CallRow> = board
        .recent
        .iter()
        .map(|c| CallRow {
            ticket: c.label.as_str().into(),
            counter: c.counter as i32,
        })
        .collect();
    window.set_recent(ModelRc::new(VecModel::from(rows)));
    window.set_waiting(board.waiting.as_str().into());
    window.set_flash(flash);
    window.set_staff_called(board.staff_called);
}

/// Opens the display window and keeps it up to date until it is closed.
pub fn run(config: Arc<KioskConfig>, chime: bool) -> anyhow::Result<()> {
    let window = NowServingWindow::new().context(
        "cannot open the display window (is there a display? DISPLAY or WAYLAND_DISPLAY must be set)",
    )?;
    let weak = window.as_weak();
    let chime = chime.then(|| Chime::new(&config.data_dir));
    let reader_config = config.clone();
    std::thread::Builder::new()
        .name("display-reader".into())
        .spawn(move || {
            let mut kiosk: Option<Kiosk> = None;
            let mut seen: Option<i64> = None;
            let mut flash = false;
            let mut staff_called = false;
            let mut complained = false;
            loop {
                if kiosk.is_none() {
                    kiosk = Kiosk::open(reader_config.clone())
                        .map_err(|e| {
                            if !complained {
                                tracing::error!(error = %e, "display: cannot open the kiosk's database");
                                complained = true;
                            }
                        })
                        .ok();
                }
                if let Some(k) = &kiosk {
                    let now = Utc::now();
                    match read_board(k, &reader_config, now) {
                        Ok(board) => {
                            complained = false;
                            let called_now = board.staff_called && !staff_called;
                            staff_called = board.staff_called;
                            if seen.is_some_and(|s| board.last_call_id > s) || called_now {
                                flash = !flash;
                                if let Some(c) = &chime {
                                    c.play();
                                }
                            }
                            seen = Some(board.last_call_id);
                            let weak = weak.clone();
                            let shown = slint::invoke_from_event_loop(move || {
                                if let Some(w) = weak.upgrade() {
                                    show(&w, &board, flash, now);
                                }
                            });
                            if shown.is_err() {
                                return; // the window is gone
                            }
                        }
                        Err(e) => {
                            if !complained {
                                tracing::error!(error = %e, "display: cannot read the queue");
                                complained = true;
                            }
                            kiosk = None;
                        }
                    }
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
        .context("cannot start the display's reader thread")?;
    window
        .run()
        .context("the display window stopped unexpectedly")
}

/// The chime: a two-note "ding-dong" written once as a WAV file and played with `aplay` (ALSA's
/// player, on every Debian system with sound). Without `aplay` the display says so once and
/// only flashes.
pub struct Chime {
    path: Option<PathBuf>,
}

impl Chime {
    pub fn new(data_dir: &Path) -> Chime {
        let path = data_dir.join("chime.wav");
        let written = std::fs::create_dir_all(data_dir)
            .and_then(|_| std::fs::File::create(&path))
            .and_then(|mut f| f.write_all(&chime_wav()));
        match written {
            Ok(()) => Chime { path: Some(path) },
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "display: no chime");
                Chime { path: None }
            }
        }
    }

    pub fn play(&self) {
        let Some(path) = &self.path else { return };
        let spawned = std::process::Command::new("aplay")
            .arg("-q")
            .arg(path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        match spawned {
            // Reap it on a thread so no zombie is left.
            Ok(mut child) => {
                std::thread::spawn(move || child.wait());
            }
            Err(e) => tracing::warn!(error = %e, "display: cannot play the chime with aplay"),
        }
    }
}

/// A 16-bit mono WAV at 22 050 Hz: E5 then C5, each fading out.
pub fn chime_wav() -> Vec<u8> {
    const RATE: u32 = 22_050;
    let mut samples: Vec<i16> = Vec::new();
    for (freq, secs) in [(659.25f32, 0.45f32), (523.25, 0.75)] {
        let n = (RATE as f32 * secs) as usize;
        for i in 0..n {
            let t = i as f32 / RATE as f32;
            let envelope = (-3.5 * t / secs).exp() * (1.0 - (-200.0 * t).exp());
            let v = (2.0 * std::f32::consts::PI * freq * t).sin() * envelope * 0.6;
            samples.push((v * f32::from(i16::MAX)) as i16);
        }
    }
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Renders the board of `kiosk`'s database headlessly (software renderer) at `size`: RGBA
/// pixels. The caller installs the headless platform (`screenshot` does).
pub fn render(
    config: &KioskConfig,
    kiosk: &Kiosk,
    size: (u32, u32),
    now: DateTime<Utc>,
) -> anyhow::Result<(u32, u32, Vec<u8>)> {
    let window = NowServingWindow::new().context("cannot create the display window")?;
    window
        .window()
        .set_size(slint::PhysicalSize::new(size.0, size.1));
    let board = read_board(kiosk, config, now)?;
    show(&window, &board, false, now);
    window.show().context("cannot show the display window")?;
    slint::platform::update_timers_and_animations();
    let frame = window
        .window()
        .take_snapshot()
        .map_err(|e| anyhow::anyhow!("cannot render the display: {e}"))?;
    window.hide().ok();
    Ok((frame.width(), frame.height(), frame.as_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chime_is_a_well_formed_wav() {
        let wav = chime_wav();
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        let riff = u32::from_le_bytes(wav[4..8].try_into().unwrap()) as usize;
        assert_eq!(riff + 8, wav.len());
        let data = u32::from_le_bytes(wav[40..44].try_into().unwrap()) as usize;
        assert_eq!(data + 44, wav.len());
        // About 1.2 s of sound, not silence.
        assert!(data / 2 > 22_050);
        let loudest = wav[44..]
            .chunks(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]).unsigned_abs())
            .max()
            .unwrap();
        assert!(loudest > 10_000);
    }
}
