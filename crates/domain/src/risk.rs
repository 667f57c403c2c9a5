//! Risk triage: which cases need a person now (DESIGN.md §3.3).
//!
//! Two kinds of evidence raise a case's level: an answer whose option carries a risk level in the
//! catalogue (e.g. "30 or more workers are owed wages" → high), and a keyword in what the
//! resident wrote (violence, self-harm, a crowd, a child or elder in danger). The level is the
//! highest any evidence reaches, and every piece of evidence is kept as a reason, so staff and
//! the upstream see *why*. Triage errs towards raising: a false alarm costs a phone call, a
//! missed one can cost a life.

use serde::{Deserialize, Serialize};

use super::case::Answer;
use super::catalogue::Question;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    #[default]
    Normal,
    Elevated,
    High,
}

impl RiskLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Normal => "normal",
            RiskLevel::Elevated => "elevated",
            RiskLevel::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<RiskLevel> {
        match s {
            "normal" => Some(RiskLevel::Normal),
            "elevated" => Some(RiskLevel::Elevated),
            "high" => Some(RiskLevel::High),
            _ => None,
        }
    }
}

/// Keywords that raise the level when they appear in anything the resident typed. Matching
/// ignores case; a keyword made only of ASCII letters must stand as a whole word ("kill" does
/// not match "skill"), any other keyword matches anywhere (Chinese has no spaces).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskRules {
    #[serde(default)]
    pub high_keywords: Vec<String>,
    #[serde(default)]
    pub elevated_keywords: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RiskReason {
    Answer {
        question: String,
        option: String,
        level: RiskLevel,
    },
    Keyword {
        keyword: String,
        level: RiskLevel,
    },
}

impl RiskReason {
    pub fn level(&self) -> RiskLevel {
        match self {
            RiskReason::Answer { level, .. } | RiskReason::Keyword { level, .. } => *level,
        }
    }
}

/// Part of a case on the wire (`protocol::CaseSubmission::risk`), so, like every protocol
/// type, it refuses a field it does not know.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskAssessment {
    pub level: RiskLevel,
    pub reasons: Vec<RiskReason>,
}

/// Judges a case from its answers (against the questions that were asked) and its free texts.
pub(crate) fn triage<'a>(
    questions: impl IntoIterator<Item = &'a Question>,
    answers: &[Answer],
    texts: &[&str],
    rules: &RiskRules,
) -> RiskAssessment {
    let mut reasons = Vec::new();
    for question in questions {
        let Some(answer) = answers.iter().find(|a| a.question == question.id) else {
            continue;
        };
        if let Some(level) = question.option(&answer.value).and_then(|o| o.risk) {
            if level > RiskLevel::Normal {
                reasons.push(RiskReason::Answer {
                    question: question.id.clone(),
                    option: answer.value.clone(),
                    level,
                });
            }
        }
    }
    let haystack = texts.join("\n").to_lowercase();
    for (keywords, level) in [
        (&rules.high_keywords, RiskLevel::High),
        (&rules.elevated_keywords, RiskLevel::Elevated),
    ] {
        for keyword in keywords {
            let needle = keyword.trim().to_lowercase();
            if !needle.is_empty() && contains_keyword(&haystack, &needle) {
                reasons.push(RiskReason::Keyword {
                    keyword: keyword.trim().to_owned(),
                    level,
                });
            }
        }
    }
    let level = reasons
        .iter()
        .map(RiskReason::level)
        .max()
        .unwrap_or_default();
    RiskAssessment { level, reasons }
}

fn contains_keyword(haystack: &str, needle: &str) -> bool {
    let whole_word = needle.chars().all(|c| c.is_ascii_alphabetic() || c == ' ');
    if !whole_word {
        return haystack.contains(needle);
    }
    haystack.match_indices(needle).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Choice, QuestionKind};
    use crate::text::Localized;

    fn workers_question() -> Question {
        let option = |id: &str, risk| Choice {
            id: id.into(),
            label: Localized::new(id, id),
            risk,
        };
        Question {
            id: "workers".into(),
            label: Localized::new("涉及人数", "Workers affected"),
            kind: QuestionKind::Choice {
                options: vec![
                    option("one", None),
                    option("ten_plus", Some(RiskLevel::Elevated)),
                    option("thirty_plus", Some(RiskLevel::High)),
                ],
            },
        }
    }

    fn rules() -> RiskRules {
        RiskRules {
            high_keywords: vec!["自杀".into(), "kill".into(), "跳楼".into()],
            elevated_keywords: vec!["独居".into(), "unpaid".into()],
        }
    }

    fn answer(q: &str, v: &str) -> Answer {
        Answer {
            question: q.into(),
            value: v.into(),
        }
    }

    #[test]
    fn an_ordinary_case_is_normal_with_no_reasons() {
        let r = triage(
            [&workers_question()],
            &[answer("workers", "one")],
            &["楼上装修噪音"],
            &rules(),
        );
        assert_eq!(r, RiskAssessment::default());
    }

    #[test]
    fn many_workers_owed_wages_is_high_with_the_answer_as_reason() {
        let r = triage(
            [&workers_question()],
            &[answer("workers", "thirty_plus")],
            &[],
            &rules(),
        );
        assert_eq!(r.level, RiskLevel::High);
        assert_eq!(
            r.reasons,
            vec![RiskReason::Answer {
                question: "workers".into(),
                option: "thirty_plus".into(),
                level: RiskLevel::High
            }]
        );
    }

    #[test]
    fn the_highest_evidence_wins_and_all_reasons_are_kept() {
        let r = triage(
            [&workers_question()],
            &[answer("workers", "ten_plus")],
            &["老板不给钱，我想跳楼"],
            &rules(),
        );
        assert_eq!(r.level, RiskLevel::High);
        assert_eq!(r.reasons.len(), 2);
    }

    #[test]
    fn english_keywords_match_whole_words_only() {
        assert_eq!(
            triage([], &[], &["I need a skill course"], &rules()).level,
            RiskLevel::Normal
        );
        assert_eq!(
            triage([], &[], &["He said he would KILL me"], &rules()).level,
            RiskLevel::High
        );
        assert_eq!(
            triage([], &[], &["wages unpaid since May"], &rules()).level,
            RiskLevel::Elevated
        );
    }

    #[test]
    fn chinese_keywords_match_inside_sentences() {
        let r = triage([], &[], &["隔壁独居老人几天没出门了"], &rules());
        assert_eq!(r.level, RiskLevel::Elevated);
    }
}
