//! Every wire type of the native protocol read from any bytes; what is read writes back to JSON
//! that reads as the same value.

use std::fmt::Debug;

use protocol::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

fn check<T: Serialize + DeserializeOwned + PartialEq + Debug>(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(data) {
        let json = serde_json::to_vec(&value).expect("a value read writes back");
        let back: T = serde_json::from_slice(&json).expect("what was written reads back");
        assert_eq!(back, value);
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        check::<CaseSubmission>(data);
        check::<CaseReceipt>(data);
        check::<StatusUpdate>(data);
        check::<CaseProgress>(data);
        check::<Heartbeat>(data);
        check::<ApiError>(data);
        check::<StationState>(data);
        check::<RosterDocument>(data);
    });
}
