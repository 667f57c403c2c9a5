//! A station's roster and its calendar of exceptions, as TOML (the `[[providers]]` of
//! `kiosk.toml`): read, checked, and, when it passes, every slot of three weeks found again by
//! its id. A slot id typed on the command line is the input's last line.

use chrono::{FixedOffset, NaiveDate};
use domain::roster::Roster;

fn main() {
    let offsets = [
        FixedOffset::east_opt(8 * 3600).unwrap(),
        FixedOffset::east_opt(-86_399).unwrap(),
    ];
    let first = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let Ok(roster) = toml::from_str::<Roster>(text) else {
            return;
        };
        let typed = text.lines().last().unwrap_or_default();
        for offset in offsets {
            let _ = roster.slot(typed, offset);
        }
        if roster.validate(&["legal", "counselling", "mediation"]).is_err() {
            return;
        }
        for offset in offsets {
            for slot in roster.slots(None, first, 21, offset) {
                assert_eq!(roster.slot(&slot.id, offset), Ok(slot.clone()));
                assert!(slot.start < slot.end);
            }
        }
    });
}
