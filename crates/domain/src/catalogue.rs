//! The services a station offers, their sub-types and the structured questions each sub-type
//! asks. The catalogue is data (it comes from configuration); this module gives it a shape and
//! checks that it hangs together.

use serde::Deserialize;

use super::risk::RiskLevel;
use super::text::{Language, Localized};

/// Every service the station offers, in the order Home shows them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Catalogue {
    pub services: Vec<Service>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Stable id used on the command line, in the database and upstream (`complaint`, …).
    pub id: String,
    pub name: Localized,
    /// One line under the name on the Home tile.
    pub hint: Localized,
    /// Letter of the service's lane: what slips and displays show for a discreet service.
    pub lane: char,
    /// A discreet service (counselling) is never named on a slip or a public display.
    #[serde(default)]
    pub discreet: bool,
    /// Whether a resident may file without giving a phone number.
    #[serde(default)]
    pub anonymous_allowed: bool,
    /// What happens next, printed on the slip and shown with the code.
    pub next_steps: Localized,
    /// Questions asked for every sub-type of this service, before the sub-type's own.
    #[serde(default)]
    pub questions: Vec<Question>,
    pub subtypes: Vec<SubType>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubType {
    pub id: String,
    pub name: Localized,
    #[serde(default)]
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "QuestionEntry")]
pub struct Question {
    pub id: String,
    pub label: Localized,
    pub kind: QuestionKind,
}

/// How a question is answered. Choices are tapped (no typing needed); text is typed on the
/// on-screen keyboard and is always optional.
#[derive(Debug, Clone, PartialEq)]
pub enum QuestionKind {
    Choice { options: Vec<Choice> },
    Text { max_chars: usize },
}

/// A question as configuration writes it: `kind = "choice"` with `options`, or
/// `kind = "text"` with `max_chars`. (Read through this flat form so that a misspelt key is
/// refused, which serde cannot do for a flattened enum.)
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionEntry {
    id: String,
    label: Localized,
    kind: String,
    #[serde(default)]
    options: Option<Vec<Choice>>,
    #[serde(default)]
    max_chars: Option<usize>,
}

impl TryFrom<QuestionEntry> for Question {
    type Error = String;
    fn try_from(q: QuestionEntry) -> Result<Question, String> {
        let kind = match (q.kind.as_str(), q.options, q.max_chars) {
            ("choice", Some(options), None) => QuestionKind::Choice { options },
            ("text", None, Some(max_chars)) => QuestionKind::Text { max_chars },
            ("choice", _, _) => {
                return Err(format!(
                    "question `{}`: kind = \"choice\" needs `options` and no `max_chars`",
                    q.id
                ))
            }
            ("text", _, _) => {
                return Err(format!(
                    "question `{}`: kind = \"text\" needs `max_chars` and no `options`",
                    q.id
                ))
            }
            (other, _, _) => {
                return Err(format!(
                    "question `{}`: kind `{other}` is unknown (expected \"choice\" or \"text\")",
                    q.id
                ))
            }
        };
        Ok(Question {
            id: q.id,
            label: q.label,
            kind,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub id: String,
    pub label: Localized,
    /// Choosing this option raises the case's risk to at least this level.
    #[serde(default)]
    pub(crate) risk: Option<RiskLevel>,
}

impl Choice {
    /// The level choosing this option raises a case to, if any.
    pub fn risk(&self) -> Option<RiskLevel> {
        self.risk
    }
}

/// A catalogue that does not hang together; `path` names the offending entry
/// (`services[1].subtypes[0].id`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct CatalogueError {
    pub path: String,
    pub problem: String,
}

/// The built-in catalogue (`catalogue.toml`): the demo station's five services.
pub(crate) const BUILTIN_TOML: &str = include_str!("catalogue.toml");

/// `catalogue.toml` holds one list, `[[services]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    services: Catalogue,
}

impl Catalogue {
    /// The built-in catalogue: the five services, their sub-types and questions.
    pub fn builtin() -> Catalogue {
        let file: CatalogueFile = toml::from_str(BUILTIN_TOML)
            .expect("the built-in catalogue.toml parses (checked by a test)");
        file.services
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    /// Checks what serde cannot: ids are present, well-formed and unique; lanes are letters and
    /// unique; every choice question has options.
    pub fn validate(&self) -> Result<(), CatalogueError> {
        let err = |path: String, problem: &str| {
            Err(CatalogueError {
                path,
                problem: problem.to_owned(),
            })
        };
        if self.services.is_empty() {
            return err("services".into(), "at least one service is needed");
        }
        for (si, service) in self.services.iter().enumerate() {
            let sp = format!("services[{si}]");
            check_id(&service.id, &format!("{sp}.id"))?;
            if self.services[..si].iter().any(|s| s.id == service.id) {
                return err(
                    format!("{sp}.id"),
                    &format!("service id `{}` appears twice", service.id),
                );
            }
            if !service.lane.is_ascii_uppercase() {
                return err(format!("{sp}.lane"), "a lane is one upper-case letter A–Z");
            }
            if self.services[..si].iter().any(|s| s.lane == service.lane) {
                return err(
                    format!("{sp}.lane"),
                    &format!("lane `{}` is used by another service", service.lane),
                );
            }
            if service.subtypes.is_empty() {
                return err(
                    format!("{sp}.subtypes"),
                    "a service needs at least one sub-type",
                );
            }
            check_questions(&service.questions, &format!("{sp}.questions"))?;
            for (ti, subtype) in service.subtypes.iter().enumerate() {
                let tp = format!("{sp}.subtypes[{ti}]");
                check_id(&subtype.id, &format!("{tp}.id"))?;
                if service.subtypes[..ti].iter().any(|t| t.id == subtype.id) {
                    return err(
                        format!("{tp}.id"),
                        &format!(
                            "sub-type id `{}` appears twice in `{}`",
                            subtype.id, service.id
                        ),
                    );
                }
                check_questions(&subtype.questions, &format!("{tp}.questions"))?;
                for q in &subtype.questions {
                    if service.questions.iter().any(|sq| sq.id == q.id) {
                        return err(
                            format!("{tp}.questions"),
                            &format!(
                                "question id `{}` is already a question of the whole service",
                                q.id
                            ),
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// How a service is named where others can see it: a screen, a slip, the now-serving display,
/// the hub's pages. This is the one place the rule is written: a discreet service (counselling)
/// is named by its lane letter only ("D 队"), and its provider's role not at all, so that a
/// slip left on a counter or a glance over a shoulder tells nobody what the resident came for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shown<'a> {
    /// An ordinary service, by its name.
    Named(&'a Service),
    /// A discreet service: its lane letter only.
    Lane(char),
}

/// A lane in words, where it stands in for a discreet service: `D 队` / `Lane D`.
pub fn lane_words(lane: impl std::fmt::Display, language: Language) -> String {
    crate::t!(language, "{} 队", lane)
}

/// Whether a provider's role ("lawyer") may be named beside `service`: not for a discreet
/// service, nor for one this catalogue does not know.
pub fn names_role(service: Option<&Service>) -> bool {
    service.is_some_and(|s| matches!(s.shown(), Shown::Named(_)))
}

impl Catalogue {
    /// Whether `lane` (a letter, as pages that know only the lane have it) is a discreet
    /// service's.
    pub fn is_discreet_lane(&self, lane: &str) -> bool {
        self.services
            .iter()
            .any(|s| matches!(s.shown(), Shown::Lane(l) if lane.chars().eq([l])))
    }
}

impl Service {
    /// How this service may be named in public (see [`Shown`]).
    pub fn shown(&self) -> Shown<'_> {
        if self.discreet {
            Shown::Lane(self.lane)
        } else {
            Shown::Named(self)
        }
    }

    pub fn subtype(&self, id: &str) -> Option<&SubType> {
        self.subtypes.iter().find(|t| t.id == id)
    }

    /// The questions a resident is asked for `subtype`: the service's own first.
    pub fn questions_for<'a>(&'a self, subtype: &'a SubType) -> impl Iterator<Item = &'a Question> {
        self.questions.iter().chain(subtype.questions.iter())
    }
}

impl Question {
    pub fn option(&self, id: &str) -> Option<&Choice> {
        match &self.kind {
            QuestionKind::Choice { options } => options.iter().find(|o| o.id == id),
            QuestionKind::Text { .. } => None,
        }
    }
}

fn check_id(id: &str, path: &str) -> Result<(), CatalogueError> {
    let ok = !id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CatalogueError {
            path: path.to_owned(),
            problem: format!("`{id}` is not an id: use 1–40 lower-case letters, digits and _"),
        })
    }
}

fn check_questions(questions: &[Question], path: &str) -> Result<(), CatalogueError> {
    for (qi, q) in questions.iter().enumerate() {
        let qp = format!("{path}[{qi}]");
        check_id(&q.id, &format!("{qp}.id"))?;
        if questions[..qi].iter().any(|o| o.id == q.id) {
            return Err(CatalogueError {
                path: format!("{qp}.id"),
                problem: format!("question id `{}` appears twice", q.id),
            });
        }
        match &q.kind {
            QuestionKind::Choice { options } => {
                if options.len() < 2 {
                    return Err(CatalogueError {
                        path: format!("{qp}.options"),
                        problem: "a choice question needs at least two options".into(),
                    });
                }
                for (oi, o) in options.iter().enumerate() {
                    check_id(&o.id, &format!("{qp}.options[{oi}].id"))?;
                    if options[..oi].iter().any(|p| p.id == o.id) {
                        return Err(CatalogueError {
                            path: format!("{qp}.options[{oi}].id"),
                            problem: format!("option id `{}` appears twice", o.id),
                        });
                    }
                }
            }
            QuestionKind::Text { max_chars } => {
                if !(1..=200).contains(max_chars) {
                    return Err(CatalogueError {
                        path: format!("{qp}.max_chars"),
                        problem: "a short text answer allows 1–200 characters".into(),
                    });
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_parses_and_hangs_together() {
        let catalogue = Catalogue::builtin();
        catalogue
            .validate()
            .expect("the built-in catalogue is valid");
        let ids: Vec<&str> = catalogue.services.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "complaint",
                "mediation",
                "legal",
                "counselling",
                "assistance"
            ]
        );
    }
}
