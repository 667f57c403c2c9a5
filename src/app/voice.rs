//! The touchscreen's voice: the handle the controller calls to read a screen aloud (the "读给我听"
//! button, elderly mode reading each new screen, a long press on a button) and to stop reading
//! when the screen changes. Built once from `[voice]`; cheap to clone.
//!
//! It never blocks: [`Voice::say`] queues the text for the speech thread
//! (`devices::speech::Speaker`), which synthesizes and plays one utterance after another, and
//! [`Voice::cancel`] drops what waits and stops what plays. With `[voice] enabled = false` or
//! `output = "none"` every call does nothing, so the controller never asks whether there is a
//! voice. What is read (a screen's title and choices) is the caller's choice; this adds nothing
//! and keeps nothing of it.

use std::sync::Arc;

use devices::speech::{Engine, Espeak, Speaker, Utterance};
use domain::spoken::SpokenLanguage;
use domain::Language;
use station::config::{KioskConfig, VoiceConfig};

/// The station's speech thread as `[voice]` sets it up (the sink, rate and volume), speaking
/// with eSpeak NG; `None` when the station has no voice or no sound (`output = "none"`).
pub fn station_speaker(config: &KioskConfig) -> Option<Speaker> {
    let sink = config.speech_sink();
    if sink == devices::speech::Sink::None {
        return None;
    }
    let engine: Arc<dyn Engine> = Arc::new(Espeak::new());
    Some(Speaker::start(engine, sink, config.speech_settings()))
}

/// The screen's voice.
#[derive(Clone)]
pub struct Voice {
    speaker: Option<Speaker>,
    config: VoiceConfig,
    cantonese: bool,
}

impl Voice {
    /// The voice `[voice]` describes: silent when `enabled = false` or `output = "none"`.
    pub fn from_config(config: &KioskConfig) -> Voice {
        let speaker = if config.voice.enabled {
            station_speaker(config)
        } else {
            None
        };
        Voice::with_speaker(config, speaker)
    }

    /// A voice that says nothing (screenshots, tests of the screens).
    pub fn silent(config: &KioskConfig) -> Voice {
        Voice::with_speaker(config, None)
    }

    /// The voice speaking through `speaker` (a test's, reporting what it said).
    pub fn with_speaker(config: &KioskConfig, speaker: Option<Speaker>) -> Voice {
        Voice {
            speaker,
            config: config.voice.clone(),
            cantonese: config
                .voice
                .call_languages
                .contains(&SpokenLanguage::Cantonese),
        }
    }

    /// Whether anything is said at all (a screen may hide its "读给我听" button otherwise).
    pub fn is_on(&self) -> bool {
        self.speaker.is_some()
    }

    /// The language a screen in `language` is read in: Simplified Chinese in Mandarin, English
    /// in English, Traditional Chinese in Cantonese where the station speaks Cantonese (its
    /// calls do) and in Mandarin elsewhere.
    pub fn language_for(&self, language: Language) -> SpokenLanguage {
        match language {
            Language::Zh => SpokenLanguage::Mandarin,
            Language::ZhHant if self.cantonese => SpokenLanguage::Cantonese,
            Language::ZhHant => SpokenLanguage::Mandarin,
            Language::En => SpokenLanguage::English,
        }
    }

    /// Queues `text` to be said in `language`, after whatever is being said; returns at once.
    /// To replace what is being said (a new screen, another button held), [`Voice::cancel`]
    /// first. The text is spoken as plain text (markup characters are dropped), at most
    /// `devices::speech::MAX_CHARS` characters; a failure is logged by the speech thread.
    pub fn say(&self, language: SpokenLanguage, text: &str) {
        if let Some(speaker) = &self.speaker {
            speaker.say(Utterance {
                text: text.to_owned(),
                voice: self.config.voice(language).to_owned(),
                label: language.code().to_owned(),
            });
        }
    }

    /// Drops everything waiting to be said and stops what is being said.
    pub fn cancel(&self) {
        if let Some(speaker) = &self.speaker {
            speaker.interrupt();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devices::speech::{Settings, Sink, SpeechError, Wav};

    /// Half a second of a tone per utterance, whatever the text.
    struct Tone;

    impl Engine for Tone {
        fn synthesize(&self, _text: &str, _voice: &str, _rate: u32) -> Result<Wav, SpeechError> {
            Ok(Wav {
                sample_rate: 8000,
                samples: (0..4000).map(|i| (i % 40) * 400).collect(),
            })
        }
    }

    #[test]
    fn a_voice_says_in_the_language_asked_with_the_station_voice_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = KioskConfig::builtin();
        config.voice.yue_voice = "yue".into();
        config.voice.call_languages = vec![SpokenLanguage::Mandarin, SpokenLanguage::Cantonese];
        let (speaker, spoken) = Speaker::start_reporting(
            Arc::new(Tone),
            Sink::Files {
                dir: dir.path().to_owned(),
            },
            Settings::default(),
        );
        let voice = Voice::with_speaker(&config, Some(speaker));
        assert!(voice.is_on());
        assert_eq!(
            voice.language_for(Language::ZhHant),
            SpokenLanguage::Cantonese
        );
        voice.say(SpokenLanguage::Cantonese, "讀給我聽");
        let said = spoken.recv().unwrap();
        assert_eq!(said.label, "yue");
        assert_eq!(said.text.as_deref(), Some("讀給我聽"));
        assert!(said.outcome.is_ok(), "{:?}", said.outcome);

        let silent = Voice::silent(&KioskConfig::builtin());
        assert!(!silent.is_on());
        assert_eq!(
            silent.language_for(Language::ZhHant),
            SpokenLanguage::Mandarin
        );
        silent.say(SpokenLanguage::Mandarin, "没有声音");
        silent.cancel();
    }

    #[test]
    fn a_station_without_voice_or_sound_has_no_speech_thread() {
        let mut config = KioskConfig::builtin();
        config.voice.enabled = false;
        assert!(!Voice::from_config(&config).is_on());
        let mut config = KioskConfig::builtin();
        config.voice.output = station::config::VoiceOutput::None;
        assert!(station_speaker(&config).is_none());
        assert!(!Voice::from_config(&config).is_on());
    }
}
