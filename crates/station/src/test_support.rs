//! Fixtures shared by the test suites and the benchmarks (feature `test-support`, enabled only
//! in the kiosk's dev-dependencies), so that each suite does not keep its own copy of a case.

use domain::{Answer, CaseDraft};

use crate::config::KioskConfig;

/// A noise complaint as a resident files it at the kiosk: renovation work upstairs, a mobile
/// number, the built-in privacy notice accepted, in Chinese. A test changes what it is about
/// with struct update syntax: `CaseDraft { service: "legal".into(), ..noise_complaint("…") }`.
pub fn noise_complaint(description: &str) -> CaseDraft {
    CaseDraft {
        service: "complaint".into(),
        subtype: Some("noise".into()),
        answers: vec![Answer {
            question: "source".into(),
            value: "renovation".into(),
        }],
        description: description.into(),
        phone: "13800138000".into(),
        consent_version: Some(KioskConfig::builtin().consent.version),
        ..CaseDraft::default()
    }
}
