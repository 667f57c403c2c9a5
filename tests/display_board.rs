//! The now-serving display's board, read from the real database the way the display's reader
//! thread reads it, and rendered with the software renderer: the newest call large, the earlier
//! ones newest first, people waiting per lane, a recall that chimes again, and nothing but ticket
//! numbers and counters (never a service in words: counselling is only its lane letter). Each
//! call is spoken after the chime in every language the station asks for, through the `files`
//! output, so the tests hear it as WAV files and no sound card plays; a served ticket leaves the
//! "now calling" panel and says nothing.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use devices::speech::{Espeak, Played, Speaker, Spoken, Wav};
use domain::spoken::SpokenLanguage;
use domain::Language;
use grievance_kiosk::app::display::{read_board, render, Announcer};
use grievance_kiosk::app::screenshot::install_headless;
use station::config::VoiceOutput;
use station::kiosk::Kiosk;

#[test]
fn the_board_shows_the_last_call_large_and_nothing_but_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_in(dir.path());
    let mut k = Kiosk::open(config.clone()).unwrap();
    let now = Utc::now();

    let empty = read_board(&k, &config, now).unwrap();
    assert_eq!(empty.current, None);
    assert!(empty.recent.is_empty());

    for service in ["counselling", "counselling", "legal", "complaint"] {
        k.take_ticket(service, false, None, Language::Zh, now)
            .unwrap();
    }
    k.call_next(1, Some("counselling"), now).unwrap();
    k.call_next(2, Some("legal"), now).unwrap();
    let board = read_board(&k, &config, now).unwrap();
    let current = board.current.clone().unwrap();
    assert_eq!((current.label.as_str(), current.counter), ("C001", 2));
    assert_eq!(board.recent.len(), 1);
    assert_eq!(board.recent[0].label, "D001");
    assert_eq!(board.waiting, "A 1   D 1");

    // A recall puts the same number up again and counts as a new call (the chime plays).
    let before = board.last_call_id;
    k.recall(1, now).unwrap();
    let recalled = read_board(&k, &config, now).unwrap();
    assert!(recalled.last_call_id > before);
    assert_eq!(recalled.current.as_ref().unwrap().label, "D001");

    // Nothing on the board names a service.
    let text = format!("{recalled:?}");
    for word in ["心理", "counsel", "法律", "legal", "Counselling"] {
        assert!(!text.contains(word), "{word} in {text}");
    }

    install_headless();
    let (w, h, rgba) = render(&config, &k, (1920, 1080), now).unwrap();
    assert_eq!((w, h), (1920, 1080));
    // The yellow "now calling" panel is there, and the dark ink of the number on it.
    let px = |x: u32, y: u32| {
        let i = ((y * w + x) * 4) as usize;
        (rgba[i], rgba[i + 1], rgba[i + 2])
    };
    let yellow = (0..w)
        .step_by(8)
        .filter(|&x| {
            let (r, g, b) = px(x, h / 2);
            r > 230 && g > 200 && b < 180
        })
        .count();
    assert!(yellow > 50, "the current call's panel is drawn ({yellow})");
}

/// A high-risk case filed at the kiosk calls staff: the board shows a red band saying only that
/// staff are needed at the kiosk (never why, never the code), until staff acknowledge the
/// notice on the staff console.
#[test]
fn a_high_risk_case_calls_staff_on_the_board_until_they_acknowledge_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config_in(dir.path());
    let mut k = Kiosk::open(config.clone()).unwrap();
    let now = Utc::now();
    assert!(!read_board(&k, &config, now).unwrap().staff_called);

    let filed = k
        .file_case(&domain::CaseDraft {
            service: "complaint".into(),
            description: "我不想活了".into(),
            anonymous: true,
            consent_version: Some(config.consent.version.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(filed.case.risk.level.as_str(), "high");
    let notices = k.notices().unwrap();
    assert_eq!(notices.len(), 1, "the intake left one notice: {notices:?}");
    assert_eq!(notices[0].kind, "high-risk-case");
    assert_eq!(notices[0].detail, filed.case.token.grouped());
    let board = read_board(&k, &config, now).unwrap();
    assert!(board.staff_called);
    let text = format!("{board:?}");
    // Not in either form (the notice holds it grouped), nor any group of it.
    let grouped = filed.case.token.grouped();
    for shown in std::iter::once(filed.case.token.as_str())
        .chain(std::iter::once(grouped.as_str()))
        .chain(grouped.split('-').filter(|g| g.len() >= 4))
    {
        assert!(
            !text.contains(shown),
            "no code on the board: `{shown}` in {text}"
        );
    }

    install_headless();
    let (w, h, rgba) = render(&config, &k, (1920, 1080), now).unwrap();
    let red = (0..w)
        .step_by(8)
        .filter(|&x| {
            // Inside the band, which sits under the rest (in the board's bottom padding's
            // place minus its own height), not over it.
            let i = (((h - 100) * w + x) * 4) as usize;
            rgba[i] > 180 && rgba[i + 1] < 80 && rgba[i + 2] < 80
        })
        .count();
    assert!(red > 100, "the red band is drawn along the bottom ({red})");

    assert!(k.clear_notice(notices[0].id, now).unwrap());
    assert!(!read_board(&k, &config, now).unwrap().staff_called);
}

/// The next report of the display's speech thread; a generous limit turns a hang into a
/// failure (it is not a measure of speed).
fn next(spoken: &std::sync::mpsc::Receiver<Spoken>) -> Spoken {
    spoken
        .recv_timeout(Duration::from_secs(120))
        .expect("the speech thread reports each utterance")
}

#[test]
fn each_call_is_spoken_after_the_chime_in_every_call_language_and_a_served_ticket_leaves_the_panel()
{
    let dir = tempfile::tempdir().unwrap();
    let mut config = (*common::config_in(dir.path())).clone();
    config.voice.output = VoiceOutput::Files;
    config.voice.call_languages = vec![
        SpokenLanguage::Mandarin,
        SpokenLanguage::Cantonese,
        SpokenLanguage::English,
    ];
    let config = Arc::new(config);
    let mut k = Kiosk::open(config.clone()).unwrap();
    let now = Utc::now();
    for service in ["legal", "counselling"] {
        k.take_ticket(service, false, None, Language::Zh, now)
            .unwrap();
    }
    k.call_next(1, Some("counselling"), now).unwrap();

    // The display starts: what was called before it is shown, not announced.
    let (speaker, spoken) = Speaker::start_reporting(
        Arc::new(Espeak::new()),
        config.speech_sink(),
        config.speech_settings(),
    );
    let mut announcer = Announcer::new(&config, Some(speaker));
    let first = announcer.on_board(&read_board(&k, &config, now).unwrap());
    assert_eq!((first.flash, first.spoken), (false, 0));

    let called = k.call_next(2, Some("legal"), now).unwrap();
    let label = called.ticket.label.clone();
    let board = read_board(&k, &config, now).unwrap();
    assert_eq!(board.current.as_ref().unwrap().label, label);
    let announced = announcer.on_board(&board);
    assert!(announced.flash);
    assert_eq!(announced.spoken, 3, "one utterance per call language");

    let chime = next(&spoken);
    assert_eq!(chime.label, "chime");
    let spaced: String = label.chars().map(|c| format!("{c} ")).collect();
    let spaced = spaced.trim_end();
    let mut files = Vec::new();
    for (language, sentence) in [
        ("zh", format!("请 {spaced} 号到 2 号窗口")),
        ("yue", format!("請 {spaced} 號到 2 號窗口")),
        ("en", format!("Number {spaced}, please go to counter 2.")),
    ] {
        let said = next(&spoken);
        assert_eq!(said.label, language);
        assert_eq!(said.text.as_deref(), Some(sentence.as_str()));
        let Ok(Played::File(path)) = &said.outcome else {
            panic!("{language}: {:?}", said.outcome);
        };
        assert!(
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .ends_with(&format!("-{language}.wav")),
            "{}",
            path.display()
        );
        let wav = Wav::parse(&std::fs::read(path).unwrap()).unwrap();
        let secs = wav.duration().as_secs_f64();
        assert!((1.0..10.0).contains(&secs), "{language}: {secs:.2} s");
        assert!(wav.rms() > 800.0, "{language}: RMS {:.0}", wav.rms());
        files.push(path.clone());
        // Never a name or a service: the legal lane is only its letter.
        for word in ["法律", "律师", "legal", "Legal", "张", "Zhang"] {
            assert!(!sentence.contains(word), "{word} in {sentence}");
        }
    }
    let mut written: Vec<_> = std::fs::read_dir(dir.path().join("speech"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().contains("chime"))
        .collect();
    written.sort();
    assert_eq!(written, files, "one file per language, in order");

    // Served: the panel empties, the call moves to the list, and nothing new is said or flashed.
    let ticket = k.ticket_or_counter(None, Some(2), now).unwrap();
    k.done(&ticket, now).unwrap();
    let served = read_board(&k, &config, now).unwrap();
    assert_eq!(served.current, None, "nobody is being called now");
    assert_eq!(served.recent[0].label, label);
    assert_eq!(served.recent.len(), 2);
    let after = announcer.on_board(&served);
    assert_eq!((after.flash, after.spoken), (false, 0));
    install_headless();
    render(&config, &k, (1920, 1080), now).unwrap();

    // A recall of counter 1 is a new call: announced again, in every language.
    k.recall(1, now).unwrap();
    let recalled = announcer.on_board(&read_board(&k, &config, now).unwrap());
    assert_eq!((recalled.flash, recalled.spoken), (true, 3));
    let labels: Vec<String> = (0..4).map(|_| next(&spoken).label).collect();
    assert_eq!(labels, ["chime", "zh", "yue", "en"]);
}

#[test]
fn a_station_without_voice_only_chimes_and_one_without_sound_says_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = (*common::config_in(dir.path())).clone();
    config.voice.output = VoiceOutput::Files;
    config.voice.enabled = false;
    let mut k = Kiosk::open(Arc::new(config.clone())).unwrap();
    let now = Utc::now();
    k.take_ticket("complaint", false, None, Language::Zh, now)
        .unwrap();
    let (speaker, spoken) = Speaker::start_reporting(
        Arc::new(Espeak::new()),
        config.speech_sink(),
        config.speech_settings(),
    );
    let mut announcer = Announcer::new(&config, Some(speaker));
    announcer.on_board(&read_board(&k, &config, now).unwrap());
    k.call_next(1, None, now).unwrap();
    let announced = announcer.on_board(&read_board(&k, &config, now).unwrap());
    assert_eq!((announced.flash, announced.spoken), (true, 0));
    assert_eq!(next(&spoken).label, "chime");
    drop(announcer);
    // The speech thread ends once its last handle is gone: nothing else was queued.
    assert!(spoken.recv().is_err());

    // No speaker at all (`display --quiet`, or `output = "none"`): the flash only.
    let mut quiet = Announcer::new(&config, None);
    quiet.on_board(&read_board(&k, &config, now).unwrap());
    k.recall(1, now).unwrap();
    let announced = quiet.on_board(&read_board(&k, &config, now).unwrap());
    assert_eq!((announced.flash, announced.spoken), (true, 0));
}
