//! A station's `kiosk.toml` of any content, loaded the way the kiosk starts: it never panics, and
//! a refusal names the file.

use station::config::{ConfigError, KioskConfig};

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("kiosk.toml");
    afl::fuzz!(|data: &[u8]| {
        std::fs::write(&path, data).expect("the file is written");
        match KioskConfig::load(Some(&path), |_| None) {
            Ok(_) => {}
            Err(ConfigError::Invalid { origin, problem, .. }) => {
                assert!(origin.contains("kiosk.toml"), "{origin}");
                assert!(!problem.is_empty());
            }
            Err(ConfigError::Unreadable { .. }) => {}
        }
    });
}
