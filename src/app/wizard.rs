//! The intake wizard's flow (DESIGN.md §3.2): which steps a service has, where Back and Next
//! lead, and what each step checks before letting the resident on. Plain Rust over the draft,
//! no Slint: the screens only show what this says, so the flow is tested without a window.
//!
//! Checks use the same domain functions as filing ([`domain::case`]), so a step never
//! accepts what filing would refuse.

use domain::case::{assess_draft, validate_answers, validate_contact, validate_description};
use domain::{Answer, CaseDraft, CaseError, Channel, Language, RiskLevel, Service};
use station::config::KioskConfig;

/// A step of the intake after the service was chosen on Home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Subtype,
    Questions,
    Description,
    Contact,
    Consent,
    Review,
}

/// Where a navigation leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Stay in the wizard (on the step [`Wizard::step`] now says).
    Stay,
    /// Back past the first step: return to Home.
    Home,
    /// Past Review: the draft is complete and should be filed.
    Submit,
}

/// The emergency numbers during an intake (DESIGN.md §3.3, safety first): they come up the
/// moment what the resident told makes the case high-risk, before any further step, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Alarm {
    /// Nothing told so far makes the case high-risk.
    #[default]
    Quiet,
    /// The case just became high-risk: the emergency numbers are on screen, over the step.
    Showing,
    /// The resident saw them and went on with the case; the draft is still high-risk (they do
    /// not come up again), and the phone step may be skipped.
    Shown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Wizard {
    pub draft: CaseDraft,
    steps: Vec<Step>,
    current: usize,
    alarm: Alarm,
}

impl Wizard {
    /// Starts the intake for `service` (already chosen on Home).
    pub fn start(service: &Service, language: Language) -> Wizard {
        let draft = CaseDraft {
            service: service.id.clone(),
            language,
            channel: Channel::Kiosk,
            ..CaseDraft::default()
        };
        let mut wizard = Wizard {
            draft,
            steps: Vec::new(),
            current: 0,
            alarm: Alarm::Quiet,
        };
        if service.subtypes.len() == 1 {
            wizard.draft.subtype = Some(service.subtypes[0].id.clone());
        }
        wizard.steps = steps_for(service, wizard.draft.subtype.as_deref());
        wizard
    }

    pub fn step(&self) -> Step {
        self.steps[self.current]
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub fn step_index(&self) -> usize {
        self.current
    }

    pub fn alarm(&self) -> Alarm {
        self.alarm
    }

    /// Judges the draft as it stands (after an answer, a text, a step): the first time it is
    /// high-risk the emergency numbers come up, and this returns true (the caller calls staff).
    /// Filing judges with the same function, so a filed high-risk case always had its alarm.
    pub fn judge(&mut self, config: &KioskConfig) -> bool {
        if self.alarm != Alarm::Quiet {
            return false;
        }
        if self.risk(config) == RiskLevel::High {
            self.alarm = Alarm::Showing;
            true
        } else {
            false
        }
    }

    /// "Go on with my case" (or Back) from the emergency numbers: the step they covered.
    pub fn dismiss_alarm(&mut self) {
        if self.alarm == Alarm::Showing {
            self.alarm = Alarm::Shown;
        }
    }

    /// Whether the contact step offers to go on without a phone: where the service allows
    /// anonymity, and for a high-risk draft whatever the service.
    pub fn may_skip_phone(&self, service: &Service, config: &KioskConfig) -> bool {
        service.anonymous_allowed || self.risk(config) == RiskLevel::High
    }

    /// The sub-type is chosen: the steps after it follow from it, and answers that belonged to
    /// another sub-type's questions are dropped.
    pub fn choose_subtype(&mut self, service: &Service, subtype: &str) -> Result<Move, CaseError> {
        let chosen = service
            .subtype(subtype)
            .ok_or_else(|| CaseError::UnknownSubtype {
                service: service.id.clone(),
                subtype: subtype.to_owned(),
                known: service.subtypes.iter().map(|t| t.id.clone()).collect(),
            })?;
        if self.draft.subtype.as_deref() != Some(subtype) {
            let asked: Vec<&str> = service
                .questions_for(chosen)
                .map(|q| q.id.as_str())
                .collect();
            self.draft
                .answers
                .retain(|a| asked.contains(&a.question.as_str()));
            self.draft.subtype = Some(subtype.to_owned());
        }
        self.steps = steps_for(service, Some(subtype));
        self.current = self
            .steps
            .iter()
            .position(|s| *s == Step::Subtype)
            .unwrap_or(0);
        Ok(self.forward())
    }

    /// Taps an option: selects it, or clears the answer if it was already selected.
    pub fn toggle_option(&mut self, question: &str, option: &str) {
        match self
            .draft
            .answers
            .iter()
            .position(|a| a.question == question)
        {
            Some(i) if self.draft.answers[i].value == option => {
                self.draft.answers.remove(i);
            }
            Some(i) => self.draft.answers[i].value = option.to_owned(),
            None => self.draft.answers.push(Answer {
                question: question.to_owned(),
                value: option.to_owned(),
            }),
        }
    }

    /// Sets (or, with empty text, clears) a text answer.
    pub fn set_text_answer(&mut self, question: &str, text: &str) {
        self.draft.answers.retain(|a| a.question != question);
        if !text.trim().is_empty() {
            self.draft.answers.push(Answer {
                question: question.to_owned(),
                value: text.to_owned(),
            });
        }
    }

    pub fn answer(&self, question: &str) -> Option<&str> {
        self.draft
            .answers
            .iter()
            .find(|a| a.question == question)
            .map(|a| a.value.as_str())
    }

    /// Next: checks the current step and moves on, or says what the resident must fix.
    pub fn next(&mut self, service: &Service, config: &KioskConfig) -> Result<Move, CaseError> {
        if self.alarm == Alarm::Showing {
            // Nothing moves on under the emergency numbers.
            return Ok(Move::Stay);
        }
        match self.step() {
            Step::Subtype => {
                let Some(subtype) = self.draft.subtype.clone() else {
                    // Next is not offered before a sub-type is chosen; stay put.
                    return Ok(Move::Stay);
                };
                return self.choose_subtype(service, &subtype);
            }
            Step::Questions => {
                let subtype = self.draft.subtype.as_deref().unwrap_or("other");
                validate_answers(service, subtype, &self.draft.answers)?;
            }
            Step::Description => {
                validate_description(&self.draft.description)?;
            }
            Step::Contact => {
                self.draft.anonymous = false;
                validate_contact(service, &self.draft.phone, false, self.risk(config))?;
            }
            Step::Consent => {
                self.draft.consent_version = Some(config.consent.version.clone());
            }
            Step::Review => return Ok(Move::Submit),
        }
        Ok(self.forward())
    }

    /// "Stay anonymous" on the contact step, where the service allows it.
    pub fn file_anonymously(
        &mut self,
        service: &Service,
        config: &KioskConfig,
    ) -> Result<Move, CaseError> {
        validate_contact(service, "", true, self.risk(config))?;
        self.draft.phone.clear();
        self.draft.anonymous = true;
        Ok(self.forward())
    }

    /// Back: one step back, or Home from the first step. Nothing entered is lost. Over the
    /// emergency numbers, Back returns to the step they covered.
    pub fn back(&mut self) -> Move {
        if self.alarm == Alarm::Showing {
            self.dismiss_alarm();
            Move::Stay
        } else if self.current == 0 {
            Move::Home
        } else {
            self.current -= 1;
            Move::Stay
        }
    }

    /// The draft's risk as filing will judge it.
    fn risk(&self, config: &KioskConfig) -> RiskLevel {
        assess_draft(&self.draft, &config.catalogue, &config.risk).level
    }

    fn forward(&mut self) -> Move {
        if self.current + 1 < self.steps.len() {
            self.current += 1;
            Move::Stay
        } else {
            Move::Submit
        }
    }
}

/// The steps of a service: the sub-type (unless there is only one), the questions (when the
/// chosen sub-type, or before choosing any sub-type, has any), then the rest.
fn steps_for(service: &Service, subtype: Option<&str>) -> Vec<Step> {
    let mut steps = Vec::new();
    if service.subtypes.len() > 1 {
        steps.push(Step::Subtype);
    }
    let has_questions = match subtype.and_then(|id| service.subtype(id)) {
        Some(t) => service.questions_for(t).next().is_some(),
        None => {
            !service.questions.is_empty()
                || service.subtypes.iter().any(|t| !t.questions.is_empty())
        }
    };
    if has_questions {
        steps.push(Step::Questions);
    }
    steps.extend([
        Step::Description,
        Step::Contact,
        Step::Consent,
        Step::Review,
    ]);
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> KioskConfig {
        KioskConfig::builtin()
    }

    fn service<'a>(config: &'a KioskConfig, id: &str) -> &'a Service {
        config.catalogue.service(id).unwrap()
    }

    #[test]
    fn a_complaint_walks_every_step_to_submit() {
        let config = config();
        let complaint = service(&config, "complaint");
        let mut w = Wizard::start(complaint, Language::Zh);
        assert_eq!(w.step(), Step::Subtype);
        assert_eq!(w.choose_subtype(complaint, "noise"), Ok(Move::Stay));
        assert_eq!(w.step(), Step::Questions);
        w.toggle_option("source", "renovation");
        assert_eq!(w.next(complaint, &config), Ok(Move::Stay));
        w.draft.description = "楼上装修".into();
        assert_eq!(w.next(complaint, &config), Ok(Move::Stay));
        assert_eq!(w.step(), Step::Contact);
        w.draft.phone = "13800138000".into();
        assert_eq!(w.next(complaint, &config), Ok(Move::Stay));
        assert_eq!(w.next(complaint, &config), Ok(Move::Stay));
        assert_eq!(
            w.draft.consent_version.as_deref(),
            Some(config.consent.version.as_str())
        );
        assert_eq!(w.step(), Step::Review);
        assert_eq!(w.next(complaint, &config), Ok(Move::Submit));
    }

    #[test]
    fn a_subtype_without_questions_skips_the_questions_step() {
        let config = config();
        let complaint = service(&config, "complaint");
        let mut w = Wizard::start(complaint, Language::Zh);
        w.choose_subtype(complaint, "suggestion").unwrap();
        assert_eq!(w.step(), Step::Description);
        assert!(!w.steps().contains(&Step::Questions));
    }

    #[test]
    fn back_keeps_every_answer_and_leads_home_from_the_first_step() {
        let config = config();
        let complaint = service(&config, "complaint");
        let mut w = Wizard::start(complaint, Language::Zh);
        w.choose_subtype(complaint, "noise").unwrap();
        w.toggle_option("when", "night");
        w.next(complaint, &config).unwrap();
        w.draft.description = "每天晚上".into();
        assert_eq!(w.back(), Move::Stay);
        assert_eq!(w.back(), Move::Stay);
        assert_eq!(w.step(), Step::Subtype);
        assert_eq!(w.answer("when"), Some("night"));
        assert_eq!(w.draft.description, "每天晚上");
        assert_eq!(w.back(), Move::Home);
    }

    #[test]
    fn changing_the_subtype_drops_answers_to_questions_no_longer_asked() {
        let config = config();
        let complaint = service(&config, "complaint");
        let mut w = Wizard::start(complaint, Language::Zh);
        w.choose_subtype(complaint, "noise").unwrap();
        w.toggle_option("when", "night");
        w.back();
        w.choose_subtype(complaint, "property").unwrap();
        assert_eq!(w.answer("when"), None);
    }

    #[test]
    fn tapping_a_selected_option_again_clears_it() {
        let config = config();
        let mut w = Wizard::start(service(&config, "complaint"), Language::Zh);
        w.toggle_option("when", "night");
        w.toggle_option("when", "day");
        assert_eq!(w.answer("when"), Some("day"));
        w.toggle_option("when", "day");
        assert_eq!(w.answer("when"), None);
    }

    #[test]
    fn the_contact_step_refuses_a_bad_phone_and_a_missing_one_where_required() {
        let config = config();
        let legal = service(&config, "legal");
        let mut w = Wizard::start(legal, Language::Zh);
        w.choose_subtype(legal, "labour").unwrap();
        while w.step() != Step::Contact {
            w.next(legal, &config).unwrap();
        }
        assert!(matches!(
            w.next(legal, &config),
            Err(CaseError::PhoneRequired { .. })
        ));
        assert!(matches!(
            w.file_anonymously(legal, &config),
            Err(CaseError::AnonymousNotAllowed { .. })
        ));
        w.draft.phone = "1380013800".into();
        assert!(matches!(w.next(legal, &config), Err(CaseError::Phone(_))));
        assert_eq!(w.step(), Step::Contact);
    }

    #[test]
    fn a_complaint_can_be_filed_anonymously() {
        let config = config();
        let complaint = service(&config, "complaint");
        let mut w = Wizard::start(complaint, Language::Zh);
        w.choose_subtype(complaint, "other").unwrap();
        w.next(complaint, &config).unwrap();
        w.draft.phone = "138".into();
        assert_eq!(w.file_anonymously(complaint, &config), Ok(Move::Stay));
        assert!(w.draft.anonymous);
        assert_eq!(w.draft.phone, "");
        assert_eq!(w.step(), Step::Consent);
    }

    #[test]
    fn an_overlong_description_stops_the_resident_on_its_step() {
        let config = config();
        let complaint = service(&config, "complaint");
        let mut w = Wizard::start(complaint, Language::Zh);
        w.choose_subtype(complaint, "other").unwrap();
        w.draft.description = "噪".repeat(4001);
        assert!(matches!(
            w.next(complaint, &config),
            Err(CaseError::DescriptionTooLong { chars: 4001, .. })
        ));
        assert_eq!(w.step(), Step::Description);
    }

    #[test]
    fn a_high_risk_answer_raises_the_alarm_once_and_back_returns_to_its_step() {
        let config = config();
        let counselling = service(&config, "counselling");
        let mut w = Wizard::start(counselling, Language::Zh);
        w.choose_subtype(counselling, "stress").unwrap();
        assert_eq!(w.step(), Step::Questions);
        w.toggle_option("self_harm", "sometimes");
        assert!(!w.judge(&config), "elevated is no alarm");
        assert_eq!(w.alarm(), Alarm::Quiet);
        w.toggle_option("self_harm", "often");
        assert!(
            w.judge(&config),
            "high: the alarm comes up and staff are called"
        );
        assert_eq!(w.alarm(), Alarm::Showing);
        assert!(!w.judge(&config), "only once");
        assert_eq!(w.back(), Move::Stay);
        assert_eq!(w.alarm(), Alarm::Shown);
        assert_eq!(w.step(), Step::Questions, "back to the step it covered");
    }

    #[test]
    fn a_high_risk_case_may_skip_the_phone_where_the_service_needs_one() {
        let config = config();
        let legal = service(&config, "legal");
        let mut w = Wizard::start(legal, Language::Zh);
        w.choose_subtype(legal, "labour").unwrap();
        while w.step() != Step::Description {
            w.next(legal, &config).unwrap();
        }
        assert!(!w.may_skip_phone(legal, &config));
        w.draft.description = "老板说要砍人".into();
        w.next(legal, &config).unwrap();
        assert!(w.judge(&config));
        assert_eq!(
            w.step(),
            Step::Contact,
            "the numbers cover the step Next led to"
        );
        w.dismiss_alarm();
        assert!(w.may_skip_phone(legal, &config));
        assert_eq!(w.file_anonymously(legal, &config), Ok(Move::Stay));
        assert_eq!(w.step(), Step::Consent);
        assert!(w.draft.anonymous);
    }
}
