//! A case: what a resident files. [`CaseDraft`] is what the screen or the command line collected;
//! [`Case::from_draft`] is the one place that decides whether a draft may become a case, and what
//! exactly is stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::catalogue::{Catalogue, QuestionKind, Service, SubType};
use super::phone::{Phone, PhoneError};
use super::risk::{triage, RiskAssessment, RiskLevel, RiskRules};
use super::text::{char_count, clean_line, clean_text, Language};
use super::token::TrackingToken;

/// The longest description accepted, in characters (Open311's limit too).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

/// Where a case was filed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A resident at the touchscreen.
    #[default]
    Kiosk,
    /// An operator or script on the command line (staff filing on a resident's behalf).
    Cli,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Kiosk => "kiosk",
            Channel::Cli => "cli",
        }
    }
}

/// One answer to a structured question: the option id for a choice, the text for a text question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub question: String,
    pub value: String,
}

/// What has been collected so far, unvalidated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseDraft {
    pub service: String,
    /// `None` files under the service's `other` sub-type.
    pub subtype: Option<String>,
    pub answers: Vec<Answer>,
    pub description: String,
    pub phone: String,
    pub anonymous: bool,
    /// The version of the privacy notice the resident accepted, if any.
    pub consent_version: Option<String>,
    pub language: Language,
    pub channel: Channel,
}

/// Everything [`Case::from_draft`] needs besides the draft.
pub struct IntakeRules<'a> {
    pub catalogue: &'a Catalogue,
    pub risk: &'a RiskRules,
    /// The privacy notice version in force.
    pub consent_version: &'a str,
}

/// Identity and time of a new case; the caller supplies randomness and the clock.
pub struct NewCaseIdentity {
    pub id: Uuid,
    pub token: TrackingToken,
    pub created_at: DateTime<Utc>,
    pub station_id: String,
}

/// A validated case, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: Uuid,
    pub token: TrackingToken,
    pub station_id: String,
    pub service: String,
    pub subtype: String,
    pub answers: Vec<Answer>,
    pub description: Option<String>,
    pub phone: Option<Phone>,
    pub anonymous: bool,
    pub consent_version: String,
    pub risk: RiskAssessment,
    pub language: Language,
    pub channel: Channel,
    pub created_at: DateTime<Utc>,
}

/// Why a draft cannot become a case. Each names the field that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("service: `{service}` is not a service of this station (known: {})", known.join(", "))]
    UnknownService { service: String, known: Vec<String> },
    #[error("subtype: `{subtype}` is not a sub-type of `{service}` (known: {})", known.join(", "))]
    UnknownSubtype {
        service: String,
        subtype: String,
        known: Vec<String>,
    },
    #[error("answer: `{question}` is not a question asked for this sub-type")]
    UnknownQuestion { question: String },
    #[error("answer: `{option}` is not an option of `{question}` (options: {})", known.join(", "))]
    UnknownOption {
        question: String,
        option: String,
        known: Vec<String>,
    },
    #[error("answer: `{question}` is answered twice")]
    DuplicateAnswer { question: String },
    #[error("answer: `{question}` allows at most {max} characters")]
    AnswerTooLong { question: String, max: usize },
    #[error("description: {chars} characters is too long; the limit is {max}")]
    DescriptionTooLong { chars: usize, max: usize },
    #[error("phone: {0}")]
    Phone(PhoneError),
    #[error("phone: `{service}` needs a phone number so that someone can reach the resident")]
    PhoneRequired { service: String },
    #[error("anonymous: `{service}` cannot be filed anonymously")]
    AnonymousNotAllowed { service: String },
    #[error("anonymous: an anonymous case cannot carry a phone number")]
    AnonymousWithPhone,
    #[error("consent: the resident has not accepted the privacy notice")]
    ConsentMissing,
    #[error("consent: version `{given}` was accepted but `{current}` is in force")]
    ConsentOutdated { given: String, current: String },
}

impl From<PhoneError> for CaseError {
    fn from(e: PhoneError) -> CaseError {
        CaseError::Phone(e)
    }
}

impl Case {
    /// `text` with this case's personal data masked (each masked run becomes `…`): the phone
    /// number's digits however they are spaced, and any run of the description at least four
    /// characters long (eight when it is all ASCII, so that ordinary words of a message stay).
    /// For what comes from outside, such as an upstream's error page, before it is logged.
    pub fn redact(&self, text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        let mut masked = vec![false; chars.len()];
        if let Some(phone) = &self.phone {
            let digits: Vec<char> = phone
                .as_str()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            mask_digits(&chars, &digits, &mut masked);
        }
        if let Some(description) = &self.description {
            let d: Vec<char> = description.chars().collect();
            for start in 0..d.len() {
                for len in [4, 8] {
                    let Some(window) = d.get(start..start + len) else {
                        continue;
                    };
                    let ascii = window.iter().all(char::is_ascii);
                    if (len == 4) == ascii || window.iter().all(|c| c.is_whitespace()) {
                        continue;
                    }
                    mask_run(&chars, window, &mut masked);
                }
            }
        }
        let mut out = String::with_capacity(text.len());
        for (i, c) in chars.iter().enumerate() {
            if !masked[i] {
                out.push(*c);
            } else if i == 0 || !masked[i - 1] {
                out.push('…');
            }
        }
        out
    }

    /// Validates a draft and turns it into a case: cleans the texts, checks the service,
    /// sub-type, answers, contact and consent, and judges the risk.
    pub fn from_draft(
        draft: &CaseDraft,
        rules: &IntakeRules<'_>,
        identity: NewCaseIdentity,
    ) -> Result<Case, CaseError> {
        let service = find_service(rules.catalogue, &draft.service)?;
        let subtype_id = draft.subtype.as_deref().unwrap_or("other");
        let subtype = service
            .subtype(subtype_id)
            .ok_or_else(|| CaseError::UnknownSubtype {
                service: service.id.clone(),
                subtype: subtype_id.to_owned(),
                known: service.subtypes.iter().map(|t| t.id.clone()).collect(),
            })?;
        let answers = validate_answers(service, subtype_id, &draft.answers)?;
        let description = validate_description(&draft.description)?;
        let risk = judge(
            service,
            subtype,
            &answers,
            description.as_deref(),
            rules.risk,
        );
        let (phone, anonymous) =
            validate_contact(service, &draft.phone, draft.anonymous, risk.level)?;
        let consent_version = match &draft.consent_version {
            None => return Err(CaseError::ConsentMissing),
            Some(v) if v != rules.consent_version => {
                return Err(CaseError::ConsentOutdated {
                    given: v.clone(),
                    current: rules.consent_version.to_owned(),
                })
            }
            Some(v) => v.clone(),
        };
        Ok(Case {
            id: identity.id,
            token: identity.token,
            station_id: identity.station_id,
            service: service.id.clone(),
            subtype: subtype.id.clone(),
            answers,
            description,
            phone,
            anonymous,
            consent_version,
            risk,
            language: draft.language,
            channel: draft.channel,
            created_at: identity.created_at,
        })
    }
}

/// The risk of what a resident has told so far: the answers to the questions asked and every
/// text they typed (text answers and the description). Filing judges with this very function,
/// so the intake shows the emergency numbers exactly when the filed case will be high-risk.
fn judge(
    service: &Service,
    subtype: &SubType,
    answers: &[Answer],
    description: Option<&str>,
    rules: &RiskRules,
) -> RiskAssessment {
    let mut texts: Vec<&str> = answers
        .iter()
        .filter(|a| {
            service
                .questions_for(subtype)
                .any(|q| q.id == a.question && matches!(q.kind, QuestionKind::Text { .. }))
        })
        .map(|a| a.value.as_str())
        .collect();
    texts.extend(description);
    triage(service.questions_for(subtype), answers, &texts, rules)
}

/// The risk of a draft still being filled in (the wizard asks after every answer and text):
/// answers to questions not asked for its sub-type and anything filing would refuse are left
/// out, never an error. A draft without a known service or sub-type is `Normal`.
pub fn assess_draft(draft: &CaseDraft, catalogue: &Catalogue, rules: &RiskRules) -> RiskAssessment {
    let Some(service) = catalogue.service(&draft.service) else {
        return RiskAssessment::default();
    };
    let Some(subtype) = service.subtype(draft.subtype.as_deref().unwrap_or("other")) else {
        return RiskAssessment::default();
    };
    let answers: Vec<Answer> = draft
        .answers
        .iter()
        .filter(|a| service.questions_for(subtype).any(|q| q.id == a.question))
        .cloned()
        .collect();
    let description = clean_text(&draft.description);
    let description = (!description.is_empty()).then_some(description.as_str());
    judge(service, subtype, &answers, description, rules)
}

pub(crate) fn find_service<'a>(
    catalogue: &'a Catalogue,
    id: &str,
) -> Result<&'a Service, CaseError> {
    catalogue
        .service(id)
        .ok_or_else(|| CaseError::UnknownService {
            service: id.to_owned(),
            known: catalogue.services.iter().map(|s| s.id.clone()).collect(),
        })
}

/// Cleans the free description; an empty one (or one of only control characters) is `None`.
pub fn validate_description(text: &str) -> Result<Option<String>, CaseError> {
    let cleaned = clean_text(text);
    let chars = char_count(&cleaned);
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(CaseError::DescriptionTooLong {
            chars,
            max: MAX_DESCRIPTION_CHARS,
        });
    }
    Ok((!cleaned.is_empty()).then_some(cleaned))
}

/// Decides the contact: a valid phone, or anonymity where the service allows it. A case of a
/// service that allows anonymity and has no phone is anonymous. A high-risk case may always go
/// without a phone: a resident in danger is never held back by a form (staff at the station
/// were called when the risk showed).
pub fn validate_contact(
    service: &Service,
    phone: &str,
    anonymous: bool,
    risk: RiskLevel,
) -> Result<(Option<Phone>, bool), CaseError> {
    let phone = phone.trim();
    match (phone.is_empty(), anonymous) {
        (false, true) => Err(CaseError::AnonymousWithPhone),
        (false, false) => Ok((Some(Phone::parse(phone)?), false)),
        (true, _) if service.anonymous_allowed || risk == RiskLevel::High => Ok((None, true)),
        (true, true) => Err(CaseError::AnonymousNotAllowed {
            service: service.id.clone(),
        }),
        (true, false) => Err(CaseError::PhoneRequired {
            service: service.id.clone(),
        }),
    }
}

/// Checks answers against the questions of the sub-type; text answers are cleaned and empty
/// ones dropped. Returned in the order the questions are asked.
pub fn validate_answers(
    service: &Service,
    subtype_id: &str,
    answers: &[Answer],
) -> Result<Vec<Answer>, CaseError> {
    let Some(subtype) = service.subtype(subtype_id) else {
        return Err(CaseError::UnknownSubtype {
            service: service.id.clone(),
            subtype: subtype_id.to_owned(),
            known: service.subtypes.iter().map(|t| t.id.clone()).collect(),
        });
    };
    for (i, a) in answers.iter().enumerate() {
        if answers[..i].iter().any(|b| b.question == a.question) {
            return Err(CaseError::DuplicateAnswer {
                question: a.question.clone(),
            });
        }
        if !service.questions_for(subtype).any(|q| q.id == a.question) {
            return Err(CaseError::UnknownQuestion {
                question: a.question.clone(),
            });
        }
    }
    let mut valid = Vec::new();
    for question in service.questions_for(subtype) {
        let Some(answer) = answers.iter().find(|a| a.question == question.id) else {
            continue;
        };
        let value = match &question.kind {
            QuestionKind::Choice { options } => {
                if question.option(&answer.value).is_none() {
                    return Err(CaseError::UnknownOption {
                        question: question.id.clone(),
                        option: answer.value.clone(),
                        known: options.iter().map(|o| o.id.clone()).collect(),
                    });
                }
                answer.value.clone()
            }
            QuestionKind::Text { max_chars } => {
                let text = clean_line(&answer.value);
                if char_count(&text) > *max_chars {
                    return Err(CaseError::AnswerTooLong {
                        question: question.id.clone(),
                        max: *max_chars,
                    });
                }
                if text.is_empty() {
                    continue;
                }
                text
            }
        };
        valid.push(Answer {
            question: question.id.clone(),
            value,
        });
    }
    Ok(valid)
}

/// Marks every place in `text` where `digits` appear in order, separated only by spaces, dashes
/// or dots.
fn mask_digits(text: &[char], digits: &[char], masked: &mut [bool]) {
    if digits.is_empty() {
        return;
    }
    for start in 0..text.len() {
        if text[start] != digits[0] {
            continue;
        }
        let (mut i, mut matched) = (start, 0);
        while i < text.len() && matched < digits.len() {
            if text[i] == digits[matched] {
                matched += 1;
            } else if !matches!(text[i], ' ' | '-' | '.') {
                break;
            }
            i += 1;
        }
        if matched == digits.len() {
            masked[start..i].iter_mut().for_each(|m| *m = true);
        }
    }
}

/// Marks every occurrence of `run` in `text`.
fn mask_run(text: &[char], run: &[char], masked: &mut [bool]) {
    if run.is_empty() || run.len() > text.len() {
        return;
    }
    for start in 0..=text.len() - run.len() {
        if text[start..start + run.len()] == *run {
            masked[start..start + run.len()]
                .iter_mut()
                .for_each(|m| *m = true);
        }
    }
}
