//! The kiosk's domain: what a case is, which services exist, how a tracking token looks and how
//! risk is judged. Everything here is plain data and plain functions: no SQLite, no Slint, no
//! serial port, no HTTP, no clock and no randomness of its own (callers pass them in), so every
//! rule can be tested on its own.

pub mod calendar;
pub mod case;
pub mod catalogue;
pub mod chasing;
pub mod district;
pub mod phone;
pub mod queue;
pub mod risk;
pub mod risk_map;
pub mod roster;
pub mod scorecard;
pub mod spoken;
pub mod text;
pub mod token;
pub mod words;
pub mod workflow;

pub use case::{Answer, Case, CaseDraft, CaseError, Channel};
pub use catalogue::{
    lane_words, names_role, Catalogue, Question, QuestionKind, Service, Shown, SubType,
};
pub use phone::Phone;
pub use risk::{RiskAssessment, RiskLevel, RiskReason, RiskRules};
pub use text::{weekday_words, Language, Localized};
pub use token::{qr_payload, tracking_url, TokenError, TrackingToken};
