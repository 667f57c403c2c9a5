//! Tracking codes, phone numbers and times of day as a resident types or a scanner reads them.
//! What is accepted must be canonical and read back as itself.

use domain::roster::TimeOfDay;
use domain::{Phone, TrackingToken};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let text = String::from_utf8_lossy(data);
        for read in [TrackingToken::parse(&text), TrackingToken::from_scan(&text)] {
            if let Ok(token) = read {
                assert_eq!(token.as_str().len(), 17);
                assert_eq!(TrackingToken::parse(token.as_str()), Ok(token.clone()));
                assert_eq!(TrackingToken::parse(&token.grouped()), Ok(token));
            }
        }
        if let Ok(phone) = Phone::parse(&text) {
            assert_eq!(Phone::parse(phone.as_str()), Ok(phone.clone()));
            assert_eq!(Phone::parse(&phone.display()), Ok(phone));
        }
        if let Some(t) = TimeOfDay::parse(&text) {
            assert_eq!(TimeOfDay::parse(&t.to_string()), Some(t));
        }
        let _ = domain::qr_payload(&text);
    });
}
