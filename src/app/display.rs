//! The now-serving display (`grievance-kiosk display`): a window for a second screen, or a
//! split of the kiosk's, showing the ticket just called with its counter, the last few calls and
//! how many wait per lane. It reads the kiosk's database (the same file the touchscreen and the
//! staff console write) from a thread once a second, so it runs as its own process beside the
//! kiosk and never blocks its UI thread; each new call (or recall) flashes the number, plays a
//! chime and is spoken in each of `[voice] call_languages` ("请 B 0 0 1 号到 2 号窗口"), one
//! after the other on the speech thread ([`Announcer`]). It never shows or says a name or a
//! service: ticket numbers and counters only. Once the ticket called last is served (or marked a
//! no-show, or moved), the "now calling" panel empties and the call joins the list beside it.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::ui::{CallRow, NowServingWindow};
use devices::speech::{Speaker, Utterance, Wav};
use domain::spoken::{call_sentence, SpokenLanguage};
use protocol::TicketState;
use station::config::{KioskConfig, VoiceConfig};
use station::kiosk::{Kiosk, KioskError};
use station::store::QueueCall;

/// How many earlier calls the board lists beside the current one.
pub const RECENT: usize = 5;

/// What the board shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    pub station: String,
    /// The newest call (ticket and counter), while its ticket is still called: once served, a
    /// no-show or moved to another lane, the panel is empty.
    pub current: Option<QueueCall>,
    /// The other calls of the day, newest first (at most [`RECENT`]).
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
    let still_called = match calls.first() {
        // (A ticket not found is not called; a database error shows in the reads below.)
        Some(newest) => kiosk
            .find_ticket(&newest.label, now)
            .is_ok_and(|t| t.state == TicketState::Called && t.counter == Some(newest.counter)),
        None => false,
    };
    let current = still_called.then(|| calls.remove(0));
    calls.truncate(RECENT);
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

/// Opens the display window and keeps it up to date until it is closed. `sound` false: no
/// chime and nothing spoken, only the flash.
pub fn run(config: Arc<KioskConfig>, sound: bool) -> anyhow::Result<()> {
    let window = NowServingWindow::new().context(
        "cannot open the display window (is there a display? DISPLAY or WAYLAND_DISPLAY must be set)",
    )?;
    let weak = window.as_weak();
    let speaker = if sound {
        super::voice::station_speaker(&config)
    } else {
        None
    };
    let mut announcer = Announcer::new(&config, speaker);
    let reader_config = config.clone();
    std::thread::Builder::new()
        .name("display-reader".into())
        .spawn(move || {
            let mut kiosk: Option<Kiosk> = None;
            let mut flash = false;
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
                    let now = k.now();
                    match read_board(k, &reader_config, now) {
                        Ok(board) => {
                            complained = false;
                            if announcer.on_board(&board).flash {
                                flash = !flash;
                            }
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

/// What the display does about a board it has just read: a new call (or recall) flashes the
/// number, then the chime and the call in each of `[voice] call_languages` go to the speech
/// thread, in that order, so they never talk over each other; staff newly called flashes and
/// chimes. The calls made before the display started are not announced.
pub struct Announcer {
    speaker: Option<Speaker>,
    chime: Wav,
    /// The languages each call is said in (empty when `[voice] enabled = false`: chime only).
    languages: Vec<SpokenLanguage>,
    voice: VoiceConfig,
    seen: Option<i64>,
    staff_called: bool,
}

/// What one board brought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announced {
    /// Something new: the number flashes.
    pub flash: bool,
    /// Utterances queued (the chime not counted).
    pub spoken: usize,
}

impl Announcer {
    /// The announcer of `config`'s station, with the sound going to `speaker` (`None`: the
    /// flash only).
    pub fn new(config: &KioskConfig, speaker: Option<Speaker>) -> Announcer {
        Announcer {
            speaker,
            chime: chime_sound(),
            languages: if config.voice.enabled {
                config.voice.call_languages.clone()
            } else {
                Vec::new()
            },
            voice: config.voice.clone(),
            seen: None,
            staff_called: false,
        }
    }

    /// Takes the board just read and announces what is new on it.
    pub fn on_board(&mut self, board: &Board) -> Announced {
        let new_calls = match self.seen {
            Some(seen) if board.last_call_id > seen => {
                usize::try_from(board.last_call_id - seen).unwrap_or(usize::MAX)
            }
            _ => 0,
        };
        self.seen = Some(board.last_call_id);
        let staff_called_now = board.staff_called && !self.staff_called;
        self.staff_called = board.staff_called;
        let flash = new_calls > 0 || staff_called_now;
        let mut spoken = 0;
        if let (true, Some(speaker)) = (flash, &self.speaker) {
            speaker.play("chime", self.chime.clone());
            // The newest calls, oldest first (the board holds the last few).
            let calls: Vec<&QueueCall> = board.current.iter().chain(&board.recent).collect();
            for call in calls.into_iter().take(new_calls).rev() {
                for &language in &self.languages {
                    let queued = speaker.say(Utterance {
                        text: call_sentence(language, &call.label, call.counter),
                        voice: self.voice.voice(language).to_owned(),
                        label: language.code().to_owned(),
                    });
                    spoken += usize::from(queued);
                }
            }
        }
        Announced { flash, spoken }
    }
}

/// The chime: a two-note "ding-dong", E5 then C5, each fading out; 16-bit mono at 22 050 Hz.
pub fn chime_sound() -> Wav {
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
    Wav {
        sample_rate: RATE,
        samples,
    }
}

/// The chime as a WAV file.
pub fn chime_wav() -> Vec<u8> {
    chime_sound().to_bytes()
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
