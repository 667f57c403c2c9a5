//! The rules a draft must pass to become a case (issue: "Case and its validation"), against the
//! built-in catalogue: texts cleaned and bounded, contact and anonymity per service, answers
//! checked against the questions asked, consent required, risk judged.

use chrono::Utc;
use domain::case::{IntakeRules, NewCaseIdentity, MAX_DESCRIPTION_CHARS};
use domain::{Answer, Case, CaseDraft, CaseError, RiskLevel, RiskReason, TrackingToken};
use station::config::KioskConfig;
use station::test_support::noise_complaint;
use uuid::Uuid;

fn file(draft: &CaseDraft) -> Result<Case, CaseError> {
    let config = KioskConfig::builtin();
    let rules = IntakeRules {
        catalogue: &config.catalogue,
        risk: &config.risk,
        consent_version: &config.consent.version,
    };
    Case::from_draft(
        draft,
        &rules,
        NewCaseIdentity {
            id: Uuid::now_v7(),
            token: TrackingToken::from_random([7; 10]),
            created_at: Utc::now(),
            station_id: "demo".into(),
        },
    )
}

/// A case of `service`/`subtype` with no answers and no description yet.
fn filing(service: &str, subtype: &str) -> CaseDraft {
    CaseDraft {
        service: service.into(),
        subtype: Some(subtype.into()),
        answers: Vec::new(),
        ..noise_complaint("")
    }
}

fn answer(q: &str, v: &str) -> Answer {
    Answer {
        question: q.into(),
        value: v.into(),
    }
}

#[test]
fn a_complete_draft_becomes_a_case_with_its_texts_cleaned() {
    let mut d = filing("complaint", "noise");
    d.description = "  楼上装修噪音\u{1b}[0m\r\n每天到晚上十一点\u{0}  ".into();
    d.phone = "+86 138-0013-8000".into();
    d.answers = vec![answer("when", "night"), answer("source", "renovation")];
    let case = file(&d).unwrap();
    assert_eq!(
        case.description.as_deref(),
        Some("楼上装修噪音[0m\n每天到晚上十一点")
    );
    assert_eq!(case.phone.unwrap().as_str(), "13800138000");
    assert!(!case.anonymous);
    let order: Vec<&str> = case.answers.iter().map(|a| a.question.as_str()).collect();
    assert_eq!(
        order,
        ["source", "when"],
        "answers are stored in the order they are asked"
    );
    assert_eq!(case.risk.level, RiskLevel::Normal);
}

#[test]
fn the_description_may_be_exactly_the_limit_but_not_one_more() {
    let mut d = filing("complaint", "other");
    d.description = "噪".repeat(MAX_DESCRIPTION_CHARS);
    assert!(file(&d).is_ok());
    d.description.push('噪');
    assert_eq!(
        file(&d).unwrap_err(),
        CaseError::DescriptionTooLong {
            chars: MAX_DESCRIPTION_CHARS + 1,
            max: MAX_DESCRIPTION_CHARS
        }
    );
}

#[test]
fn a_description_of_only_control_characters_is_no_description() {
    let mut d = filing("complaint", "other");
    d.description = "\u{1}\u{1b}\u{7f}\n\t ".into();
    assert_eq!(file(&d).unwrap().description, None);
}

#[test]
fn anonymity_is_allowed_only_where_the_service_allows_it() {
    let mut complaint = filing("complaint", "other");
    complaint.phone.clear();
    let case = file(&complaint).unwrap();
    assert!(case.anonymous && case.phone.is_none());

    complaint.anonymous = true;
    complaint.phone = "13800138000".into();
    assert_eq!(file(&complaint).unwrap_err(), CaseError::AnonymousWithPhone);

    let mut legal = filing("legal", "labour");
    legal.phone.clear();
    assert!(
        matches!(file(&legal), Err(CaseError::PhoneRequired { service }) if service == "legal")
    );
    legal.anonymous = true;
    assert!(
        matches!(file(&legal), Err(CaseError::AnonymousNotAllowed { service }) if service == "legal")
    );
}

#[test]
fn an_invalid_phone_is_refused_with_the_field_named() {
    let mut d = filing("mediation", "neighbour");
    d.phone = "1234".into();
    let err = file(&d).unwrap_err();
    assert!(matches!(err, CaseError::Phone(_)));
    assert!(err.to_string().starts_with("phone: "), "{err}");
}

#[test]
fn unknown_services_subtypes_questions_and_options_are_named() {
    let err = file(&filing("parking", "other")).unwrap_err();
    assert!(
        err.to_string().contains("`parking`") && err.to_string().contains("complaint"),
        "{err}"
    );

    let err = file(&filing("complaint", "potholes")).unwrap_err();
    assert!(
        matches!(&err, CaseError::UnknownSubtype { known, .. } if known.contains(&"noise".to_string())),
        "{err}"
    );

    let mut d = filing("complaint", "noise");
    d.answers = vec![answer("workers", "30_plus")];
    assert_eq!(
        file(&d).unwrap_err(),
        CaseError::UnknownQuestion {
            question: "workers".into()
        }
    );

    d.answers = vec![answer("when", "midnight")];
    assert!(
        matches!(file(&d), Err(CaseError::UnknownOption { question, .. }) if question == "when")
    );

    d.answers = vec![answer("when", "day"), answer("when", "night")];
    assert_eq!(
        file(&d).unwrap_err(),
        CaseError::DuplicateAnswer {
            question: "when".into()
        }
    );
}

#[test]
fn without_a_subtype_a_case_is_filed_under_other() {
    let mut d = filing("assistance", "other");
    d.subtype = None;
    assert_eq!(file(&d).unwrap().subtype, "other");
}

#[test]
fn a_text_answer_is_cleaned_bounded_and_dropped_when_empty() {
    let mut d = filing("complaint", "wages_owed");
    d.answers = vec![answer("employer", " 某某\n劳务公司\u{1b} ")];
    assert_eq!(
        file(&d).unwrap().answers,
        vec![answer("employer", "某某 劳务公司")]
    );
    d.answers = vec![answer("employer", &"字".repeat(61))];
    assert_eq!(
        file(&d).unwrap_err(),
        CaseError::AnswerTooLong {
            question: "employer".into(),
            max: 60
        }
    );
    d.answers = vec![answer("employer", " \u{7} ")];
    assert!(file(&d).unwrap().answers.is_empty());
}

#[test]
fn consent_to_the_notice_in_force_is_required() {
    let mut d = filing("complaint", "other");
    d.consent_version = None;
    assert_eq!(file(&d).unwrap_err(), CaseError::ConsentMissing);
    d.consent_version = Some("2019-01".into());
    assert!(matches!(file(&d), Err(CaseError::ConsentOutdated { .. })));
}

#[test]
fn many_workers_owed_wages_or_words_of_self_harm_make_a_case_high_risk() {
    let mut d = filing("complaint", "wages_owed");
    d.answers = vec![answer("workers", "30_plus")];
    let case = file(&d).unwrap();
    assert_eq!(case.risk.level, RiskLevel::High);
    assert!(case.risk.reasons.contains(&RiskReason::Answer {
        question: "workers".into(),
        option: "30_plus".into(),
        level: RiskLevel::High
    }));

    let mut d = filing("counselling", "stress");
    d.description = "最近压力很大，有时候不想活了".into();
    let case = file(&d).unwrap();
    assert_eq!(case.risk.level, RiskLevel::High);
    assert!(
        matches!(&case.risk.reasons[0], RiskReason::Keyword { keyword, .. } if keyword == "不想活")
    );

    let mut d = filing("complaint", "wages_owed");
    d.answers = vec![answer("employer", "他说要杀了我")];
    assert_eq!(
        file(&d).unwrap().risk.level,
        RiskLevel::High,
        "text answers are read for keywords too"
    );
}

/// A resident in danger is never held back by the phone step: a high-risk case of a service
/// that otherwise needs a phone may go without one, and is filed as anonymous.
#[test]
fn a_high_risk_case_may_be_filed_without_a_phone_even_where_one_is_required() {
    let mut legal = filing("legal", "labour");
    legal.phone.clear();
    legal.anonymous = true;
    legal.description = "老板说要杀了我".into();
    let case = file(&legal).unwrap();
    assert_eq!(case.risk.level, RiskLevel::High);
    assert!(case.anonymous && case.phone.is_none());

    legal.description = "老板拖欠工资".into();
    assert!(
        matches!(file(&legal), Err(CaseError::AnonymousNotAllowed { service }) if service == "legal"),
        "an elevated case still needs its phone"
    );
}

/// The wizard asks `assess_draft` after every answer and text; filing judges the same draft
/// with the same rule. For every option and keyword of the built-in station that raises a
/// case, both agree.
#[test]
fn the_intake_judges_a_draft_as_filing_will_for_every_trigger() {
    use domain::case::assess_draft;
    let config = KioskConfig::builtin();
    let mut drafts = Vec::new();
    for service in &config.catalogue.services {
        for subtype in &service.subtypes {
            for question in service.questions_for(subtype) {
                if let domain::QuestionKind::Choice { options } = &question.kind {
                    for option in options {
                        let mut d = filing(&service.id, &subtype.id);
                        d.answers = vec![answer(&question.id, &option.id)];
                        drafts.push((d, option.risk().unwrap_or_default()));
                    }
                }
            }
        }
    }
    for keyword in &config.risk.high_keywords {
        let mut d = filing("complaint", "other");
        d.description = format!("邻居说：{keyword}！");
        drafts.push((d, RiskLevel::High));
    }
    assert!(drafts.iter().filter(|(_, l)| *l == RiskLevel::High).count() > 40);
    for (draft, expected) in &drafts {
        let assessed = assess_draft(draft, &config.catalogue, &config.risk);
        let filed = file(draft).unwrap().risk;
        assert_eq!(assessed, filed, "{draft:?}");
        assert!(assessed.level >= *expected, "{draft:?}: {assessed:?}");
    }
    // Answers to questions not asked for the sub-type, or an unknown service, are no risk.
    let mut d = filing("complaint", "noise");
    d.answers = vec![answer("workers", "30_plus")];
    assert_eq!(
        assess_draft(&d, &config.catalogue, &config.risk).level,
        RiskLevel::Normal
    );
    d.service = "nonsense".into();
    d.description = "自杀".into();
    assert_eq!(
        assess_draft(&d, &config.catalogue, &config.risk).level,
        RiskLevel::Normal
    );
}

#[test]
fn an_elder_alone_raises_the_case_to_elevated() {
    let mut d = filing("assistance", "elderly");
    d.answers = vec![answer("care", "yes_safe")];
    assert_eq!(file(&d).unwrap().risk.level, RiskLevel::Elevated);
}

/// What an upstream echoes back (an error page, a message) is cleaned of the case's personal
/// data before the kiosk logs it: the phone however spaced, any run of the description, and
/// nothing else.
#[test]
fn redact_masks_the_phone_and_the_description_and_keeps_the_rest() {
    let mut d = filing("complaint", "noise");
    d.description = "王小明家楼上每天半夜装修 the renovation starts at midnight".into();
    d.phone = "13912345678".into();
    d.answers = vec![answer("source", "renovation")];
    let case = file(&d).unwrap();
    let echoed = "upstream answered 500: <pre>{\"phone\":\"13912345678\",\"description\":\"王小明家楼上每天半夜装修 the renovation starts at midnight\"}</pre> call 139 1234-5678";
    let clean = case.redact(echoed);
    for leaked in [
        "1391234",
        "5678",
        "王小明",
        "半夜装修",
        "楼上每天",
        "starts at midnight",
    ] {
        assert!(!clean.contains(leaked), "`{leaked}` left in {clean}");
    }
    assert!(
        clean.starts_with("upstream answered 500: <pre>{\"phone\":\"…\""),
        "{clean}"
    );
    assert!(clean.ends_with(" call …"), "{clean}");
    // A message with none of the case in it is left as it was, ordinary words included.
    let plain = "upstream answered 503: the service is down for maintenance";
    assert_eq!(case.redact(plain), plain);
    // Three characters of the description alone are not enough to mask (too many false hits).
    assert_eq!(case.redact("王小明"), "王小明");
}
