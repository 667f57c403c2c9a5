//! `grievance-kiosk say TEXT [--lang zh|yue|en] --out FILE.wav` (DESIGN.md §9, docs/voice.md):
//! the real binary and the real speech engine (Debian's espeak-ng) write a WAV whose header is
//! sound, whose length fits the text and which is speech, not silence; the station's `files`
//! output numbers what it says; a station whose sound is off plays nothing and says so. Nothing
//! here reaches a sound card.

use crate::exec;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// The command in a fresh data directory, with no `KIOSK_*` variable of whoever runs the tests.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = exec::program(env!("CARGO_BIN_EXE_grievance-kiosk"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KIOSK_") {
            command.env_remove(name);
        }
    }
    command
        .env("KIOSK_DATA_DIR", dir)
        .current_dir(dir)
        .args(args);
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("the binary runs")
}

fn ok(dir: &Path, args: &[&str]) -> Output {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A failure: non-zero, one line on standard error, which is returned.
fn fails(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(!out.status.success(), "{args:?} should fail");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.starts_with("error:"), "{args:?}: {stderr}");
    stderr
}

/// What a WAV file holds, read from its header by hand (not by the code under test).
struct Sound {
    rate: u32,
    samples: Vec<i16>,
}

impl Sound {
    /// Checks the 44-byte header `espeak-ng` output is rewritten to: RIFF/WAVE, PCM, mono,
    /// 16 bits, sizes that match the file.
    fn read(path: &Path) -> Sound {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
        assert!(
            bytes.len() > 44,
            "{} is {} bytes",
            path.display(),
            bytes.len()
        );
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(
            u32_at(4) as usize + 8,
            bytes.len(),
            "the RIFF size is the file's"
        );
        assert_eq!(u32_at(16), 16, "a plain PCM fmt chunk");
        assert_eq!(u16_at(20), 1, "PCM");
        assert_eq!(u16_at(22), 1, "mono");
        let rate = u32_at(24);
        assert!((8_000..=48_000).contains(&rate), "sample rate {rate}");
        assert_eq!(u32_at(28), rate * 2, "byte rate");
        assert_eq!(u16_at(32), 2, "block align");
        assert_eq!(u16_at(34), 16, "bits per sample");
        assert_eq!(&bytes[36..40], b"data");
        assert_eq!(
            u32_at(40) as usize + 44,
            bytes.len(),
            "the data size is the rest"
        );
        let samples = bytes[44..]
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        Sound { rate, samples }
    }

    fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate)
    }

    fn rms(&self) -> f64 {
        let sum: f64 = self.samples.iter().map(|&s| f64::from(s).powi(2)).sum();
        (sum / self.samples.len().max(1) as f64).sqrt()
    }

    /// Speech: loud enough on average, and with real peaks (not a hum, not silence).
    fn assert_speech(&self, what: &str) {
        assert!(self.rms() > 1_000.0, "{what}: RMS {:.0}", self.rms());
        let peak = self.samples.iter().map(|s| s.unsigned_abs()).max();
        assert!(peak > Some(8_000), "{what}: peak {peak:?}");
    }
}

#[test]
fn say_writes_a_call_as_speech_of_a_plausible_length() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(
        dir.path(),
        &["say", "请B001号到2号窗口", "--out", "call.wav"],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("call.wav"),
        "it says what it wrote"
    );
    let call = Sound::read(&dir.path().join("call.wav"));
    call.assert_speech("the call");
    // Eleven syllables at the station's rate (90 % of normal): about three seconds.
    let secs = call.seconds();
    assert!((1.5..8.0).contains(&secs), "{secs:.2} s");

    // Twice the words, about twice the sound.
    ok(
        dir.path(),
        &[
            "say",
            "请B001号到2号窗口。请B002号到3号窗口。",
            "--out",
            "two.wav",
        ],
    );
    let two = Sound::read(&dir.path().join("two.wav"));
    two.assert_speech("two calls");
    assert!(
        two.seconds() > call.seconds() * 1.5,
        "{:.2} s for two calls, {:.2} s for one",
        two.seconds(),
        call.seconds()
    );
}

#[test]
fn say_speaks_cantonese_and_english_and_reports_in_json() {
    let dir = tempfile::tempdir().unwrap();
    for (lang, text, voice) in [
        ("yue", "請 B 0 0 1 號到 2 號窗口", "yue"),
        ("en", "Number B 0 0 1, please go to counter 2.", "en"),
    ] {
        let file = format!("{lang}.wav");
        let out = ok(
            dir.path(),
            &["say", text, "--lang", lang, "--out", &file, "--json"],
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
        let line: Value = serde_json::from_str(stdout.trim_end()).unwrap();
        assert_eq!(line["language"], lang);
        assert_eq!(line["voice"], voice);
        assert_eq!(line["file"], file.as_str());
        assert_eq!(line["device"], Value::Null);
        let sound = Sound::read(&dir.path().join(&file));
        sound.assert_speech(lang);
        let ms = line["duration_ms"].as_u64().unwrap();
        assert_eq!(ms, (sound.seconds() * 1000.0) as u64, "{lang}");
        assert!((1_000..8_000).contains(&ms), "{lang}: {ms} ms");
    }
}

#[test]
fn the_station_output_decides_where_say_goes_without_out() {
    let dir = tempfile::tempdir().unwrap();
    // `files`: the next numbered file under <data_dir>/speech.
    let out = command(dir.path(), &["say", "读给我听", "--json"])
        .env("KIOSK_VOICE_OUTPUT", "files")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    let written = dir.path().join("speech").join("0001-zh.wav");
    assert_eq!(line["file"], written.to_str().unwrap());
    Sound::read(&written).assert_speech("files output");

    // `none`: nothing played, and the operator is told how to hear it anyway.
    let out = command(dir.path(), &["say", "读给我听"])
        .env("KIOSK_VOICE_OUTPUT", "none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error:") && stderr.contains("--out"),
        "{stderr}"
    );
}

#[test]
fn say_refuses_empty_or_overlong_text_an_unknown_language_and_a_missing_voice() {
    let dir = tempfile::tempdir().unwrap();
    let empty = fails(dir.path(), &["say", " [[ ]] ", "--out", "x.wav"]);
    assert!(empty.contains("empty"), "{empty}");
    let long = "字".repeat(1001);
    let too_long = fails(dir.path(), &["say", &long, "--out", "x.wav"]);
    assert!(too_long.contains("too long"), "{too_long}");
    let french = fails(
        dir.path(),
        &["say", "bonjour", "--lang", "fr", "--out", "x.wav"],
    );
    assert!(french.contains("fr"), "{french}");
    assert!(!dir.path().join("x.wav").exists());

    std::fs::write(
        dir.path().join("kiosk.toml"),
        "[voice]\nen_voice = \"nosuchvoice\"\n",
    )
    .unwrap();
    let out = command(
        dir.path(),
        &[
            "say",
            "hello",
            "--lang",
            "en",
            "--out",
            "x.wav",
            "--config",
            "kiosk.toml",
        ],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nosuchvoice") && stderr.contains("espeak-ng --voices"),
        "{stderr}"
    );
}
