//! From the controller's state to what the screens show: fills the `Api` global's properties
//! and models. One function, [`render`], writes everything but the fields the resident is
//! typing into (those are loaded when a step is entered, so typing is never overwritten).

use std::rc::Rc;

use slint::{ComponentHandle, Image, Model, ModelRc, SharedString, VecModel};

use super::controller::State;
use super::ui::{
    Api, AppWindow, CaseStage, Chip, EmergencyLine, Freshness, PrintState, Problem, QuestionView,
    ReviewKind, ReviewRow, Screen, ServiceTile, Theme, TimelineRow,
};
use super::wizard::Step;
use crate::domain::{Language, QuestionKind};
use crate::kiosk::Progress;
use crate::upstream::protocol::CaseState;

/// Elderly mode's scale of text and touch targets (the brief asks for at least 1.3×).
pub const ELDERLY_SCALE: f32 = 1.35;

/// How much of a long description the review shows.
const REVIEW_DESCRIPTION_CHARS: usize = 240;

fn model<T: Clone + 'static>(items: Vec<T>) -> ModelRc<T> {
    ModelRc::from(Rc::new(VecModel::from(items)))
}

/// Brings the model behind a property up to date with `rows`, changing only the rows that
/// differ. Replacing the whole model would rebuild every repeated element on each tap (losing
/// scroll positions and doing work for nothing); updating rows in place keeps them.
fn update<T: Clone + PartialEq + 'static>(
    current: ModelRc<T>,
    rows: Vec<T>,
    set: impl FnOnce(ModelRc<T>),
) {
    match current.as_any().downcast_ref::<VecModel<T>>() {
        Some(existing) if existing.row_count() == rows.len() => {
            for (i, row) in rows.into_iter().enumerate() {
                if existing.row_data(i).as_ref() != Some(&row) {
                    existing.set_row_data(i, row);
                }
            }
        }
        Some(existing) => existing.set_vec(rows),
        None => set(model(rows)),
    }
}

fn s(text: &str) -> SharedString {
    SharedString::from(text)
}

pub fn screen_of(step: Step) -> Screen {
    match step {
        Step::Subtype => Screen::Subtype,
        Step::Questions => Screen::Questions,
        Step::Description => Screen::Description,
        Step::Contact => Screen::Contact,
        Step::Consent => Screen::Consent,
        Step::Review => Screen::Review,
    }
}

pub fn render(app: &AppWindow, state: &State) {
    let config = &state.config;
    let lang = state.language;
    let api = app.global::<Api>();
    app.global::<Theme>()
        .set_scale(if state.elderly { ELDERLY_SCALE } else { 1.0 });
    api.set_network_name(s(config.station.network.get(lang)));
    api.set_station_name(s(config.station.name.get(lang)));
    api.set_english(lang == Language::En);
    api.set_elderly(state.elderly);
    api.set_screen(state.screen);
    api.set_problem(state.problem);
    api.set_busy(state.busy);
    update(
        api.get_services(),
        config
            .catalogue
            .services
            .iter()
            .map(|svc| ServiceTile {
                id: s(&svc.id),
                name: s(svc.name.get(lang)),
                hint: s(svc.hint.get(lang)),
            })
            .collect(),
        |m| api.set_services(m),
    );
    update(
        api.get_emergency(),
        config
            .emergency
            .iter()
            .map(|e| EmergencyLine {
                number: s(&e.number),
                label: s(e.label.get(lang)),
            })
            .collect(),
        |m| api.set_emergency(m),
    );
    api.set_consent_text(s(config.consent.text.get(lang)));
    api.set_description_max(crate::domain::case::MAX_DESCRIPTION_CHARS as i32);
    render_wizard(&api, state);
    render_result(&api, state);
    render_track(&api, state);
    api.set_printer_ready(!state.printer_down());
    api.set_still_there(state.still_there.is_some());
    api.set_still_there_seconds(state.still_there.unwrap_or(0) as i32);
}

fn render_wizard(api: &Api<'_>, state: &State) {
    let lang = state.language;
    let Some((wizard, service)) = state.wizard_and_service() else {
        update(api.get_steps(), Vec::new(), |m| api.set_steps(m));
        api.set_step(0);
        update(api.get_subtypes(), Vec::new(), |m| api.set_subtypes(m));
        update(api.get_questions(), Vec::new(), |m| api.set_questions(m));
        update(api.get_review(), Vec::new(), |m| api.set_review(m));
        api.set_text_entry_open(false);
        return;
    };
    update(
        api.get_steps(),
        wizard.steps().iter().map(|s| screen_of(*s)).collect(),
        |m| api.set_steps(m),
    );
    api.set_step(wizard.step_index() as i32);
    api.set_service_name(s(service.name.get(lang)));
    api.set_anonymous_allowed(service.anonymous_allowed);
    update(
        api.get_subtypes(),
        service
            .subtypes
            .iter()
            .map(|t| Chip {
                id: s(&t.id),
                label: s(t.name.get(lang)),
                selected: wizard.draft.subtype.as_deref() == Some(t.id.as_str()),
            })
            .collect(),
        |m| api.set_subtypes(m),
    );
    let subtype = wizard
        .draft
        .subtype
        .as_deref()
        .and_then(|id| service.subtype(id));
    let shown = api.get_questions();
    let questions: Vec<QuestionView> = subtype
        .map(|t| {
            service
                .questions_for(t)
                .enumerate()
                .map(|(i, q)| {
                    let answer = wizard.answer(&q.id).unwrap_or("");
                    let (is_text, chips) = match &q.kind {
                        QuestionKind::Choice { options } => (
                            false,
                            options
                                .iter()
                                .map(|o| Chip {
                                    id: s(&o.id),
                                    label: s(o.label.get(lang)),
                                    selected: o.id == answer,
                                })
                                .collect(),
                        ),
                        QuestionKind::Text { .. } => (true, Vec::new()),
                    };
                    QuestionView {
                        id: s(&q.id),
                        label: s(q.label.get(lang)),
                        is_text,
                        chips: chips_of(&shown, i, &q.id, chips),
                        text: s(if is_text { answer } else { "" }),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    update(api.get_questions(), questions, |m| api.set_questions(m));

    let mut review = vec![ReviewRow {
        kind: ReviewKind::Service,
        label: s(""),
        value: s(service.name.get(lang)),
    }];
    if let Some(t) = subtype {
        review.push(ReviewRow {
            kind: ReviewKind::Subtype,
            label: s(""),
            value: s(t.name.get(lang)),
        });
        for q in service.questions_for(t) {
            let Some(answer) = wizard.answer(&q.id) else {
                continue;
            };
            let value = q
                .option(answer)
                .map(|o| o.label.get(lang).to_owned())
                .unwrap_or_else(|| answer.to_owned());
            review.push(ReviewRow {
                kind: ReviewKind::Answer,
                label: s(q.label.get(lang)),
                value: s(&value),
            });
        }
    }
    let description = crate::domain::text::clean_text(&wizard.draft.description);
    review.push(if description.is_empty() {
        ReviewRow {
            kind: ReviewKind::NoDescription,
            label: s(""),
            value: s(""),
        }
    } else {
        let shown: String = description.chars().take(REVIEW_DESCRIPTION_CHARS).collect();
        let more = description.chars().count() > REVIEW_DESCRIPTION_CHARS;
        ReviewRow {
            kind: ReviewKind::Description,
            label: s(""),
            value: s(&(shown + if more { "…" } else { "" })),
        }
    });
    review.push(match crate::domain::Phone::parse(&wizard.draft.phone) {
        _ if wizard.draft.anonymous => ReviewRow {
            kind: ReviewKind::Anonymous,
            label: s(""),
            value: s(""),
        },
        Ok(phone) => ReviewRow {
            kind: ReviewKind::Phone,
            label: s(""),
            value: s(&phone.display()),
        },
        Err(_) => ReviewRow {
            kind: ReviewKind::Phone,
            label: s(""),
            value: s(&wizard.draft.phone),
        },
    });
    update(api.get_review(), review, |m| api.set_review(m));

    match &state.text_entry {
        Some(question) => {
            let q = subtype.and_then(|t| service.questions_for(t).find(|q| &q.id == question));
            api.set_text_entry_open(q.is_some());
            if let Some(q) = q {
                api.set_text_entry_label(s(q.label.get(lang)));
                if let QuestionKind::Text { max_chars } = q.kind {
                    api.set_text_entry_max(max_chars as i32);
                }
            }
        }
        None => api.set_text_entry_open(false),
    }
}

/// The chips of question `i`: the model already on screen, updated in place, when that row
/// shows the same question.
fn chips_of(shown: &ModelRc<QuestionView>, i: usize, id: &str, chips: Vec<Chip>) -> ModelRc<Chip> {
    match shown.row_data(i) {
        Some(row) if row.id == id => {
            update(row.chips.clone(), chips, |_| {});
            row.chips
        }
        _ => model(chips),
    }
}

fn render_result(api: &Api<'_>, state: &State) {
    match &state.result {
        Some(result) => {
            api.set_code(s(&result.code));
            api.set_qr(result.qr.clone());
            api.set_print_state(result.print);
            api.set_next_steps(s(&result.next_steps));
        }
        None => {
            api.set_code(s(""));
            api.set_qr(Image::default());
            api.set_print_state(PrintState::None);
            api.set_next_steps(s(""));
        }
    }
}

fn stage_of(state: CaseState) -> CaseStage {
    match state {
        CaseState::Received => CaseStage::Received,
        CaseState::Acknowledged => CaseStage::Acknowledged,
        CaseState::Assigned => CaseStage::Assigned,
        CaseState::InProgress => CaseStage::InProgress,
        CaseState::Resolved => CaseStage::Resolved,
        CaseState::ClosedUnresolved => CaseStage::ClosedUnresolved,
        CaseState::Reopened => CaseStage::Reopened,
    }
}

fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn render_track(api: &Api<'_>, state: &State) {
    api.set_track_check(state.track_check);
    api.set_track_missing(state.track_missing);
    api.set_track_bad_char(s(&state.track_bad_char));
    api.set_track_not_found(state.track_not_found);
    api.set_track_scan_problem(state.track_scan);
    api.set_scan_held(state.scan_held);
    let Some(tracked) = &state.tracked else {
        update(api.get_track_timeline(), Vec::new(), |m| {
            api.set_track_timeline(m)
        });
        return;
    };
    let lang = state.language;
    let catalogue = &state.config.catalogue;
    api.set_track_result_code(s(&tracked.token.grouped()));
    let (progress, freshness, as_of) = match &tracked.progress {
        Progress::Live(p) => (Some(p), Freshness::Live, None),
        Progress::LastKnown {
            progress,
            fetched_at,
            ..
        } => (
            Some(progress),
            Freshness::LastKnown,
            Some(fetched_at.to_owned()),
        ),
        Progress::NotYetDelivered => (None, Freshness::NotDelivered, None),
        Progress::Unknown(_) => (None, Freshness::Unknown, None),
    };
    api.set_track_freshness(freshness);
    api.set_track_as_of(s(&as_of.map(local_time).unwrap_or_default()));
    api.set_track_stage(progress.map_or(CaseStage::Received, |p| stage_of(p.state)));
    // The service in words: a discreet one only by its lane, as on the slip.
    let service_id = tracked
        .local
        .as_ref()
        .map(|l| l.case.service.clone())
        .or_else(|| progress.map(|p| p.service.clone()))
        .unwrap_or_default();
    let service = catalogue.service(&service_id).map(|svc| {
        if svc.discreet {
            match lang {
                Language::Zh => format!("服务 {}", svc.lane),
                Language::En => format!("Service {}", svc.lane),
            }
        } else {
            svc.name.get(lang).to_owned()
        }
    });
    api.set_track_service(s(&service.unwrap_or_default()));
    let filed = tracked
        .local
        .as_ref()
        .map(|l| l.case.created_at)
        .or_else(|| progress.map(|p| p.filed_at));
    api.set_track_filed(s(&filed.map(local_time).unwrap_or_default()));
    api.set_track_department(s(progress
        .and_then(|p| p.department.as_deref())
        .unwrap_or("")));
    api.set_track_expected(s(&progress
        .and_then(|p| p.expected_at)
        .map(local_time)
        .unwrap_or_default()));
    // Newest first: the resident wants to know where it stands now.
    let rows = progress
        .map(|p| {
            p.timeline
                .iter()
                .rev()
                .map(|t| TimelineRow {
                    stage: stage_of(t.state),
                    when: s(&local_time(t.at)),
                    note: s(t.note.as_deref().unwrap_or("")),
                    department: s(t.department.as_deref().unwrap_or("")),
                })
                .collect()
        })
        .unwrap_or_default();
    update(api.get_track_timeline(), rows, |m| {
        api.set_track_timeline(m)
    });
}

/// The problem banner a failed submit shows.
pub fn problem_of(error: &crate::kiosk::KioskError) -> Problem {
    use crate::kiosk::KioskError;
    use crate::store::StoreError;
    match error {
        KioskError::Case(e) => problem_of_case(e),
        KioskError::Store(StoreError::Full(_)) => Problem::StorageFull,
        KioskError::Store(StoreError::ReadOnly(_)) => Problem::StorageReadOnly,
        KioskError::Store(_) => Problem::StorageFailed,
        KioskError::Token(_)
        | KioskError::NotFound(_)
        | KioskError::Random(_)
        | KioskError::Workers(_)
        | KioskError::Upstream(_)
        | KioskError::Queue(_)
        | KioskError::Staff(_) => Problem::Unexpected,
    }
}

/// The problem banner a step that refuses the resident's input shows.
pub fn problem_of_case(error: &crate::domain::CaseError) -> Problem {
    use crate::domain::CaseError;
    match error {
        CaseError::Phone(_) | CaseError::AnonymousWithPhone => Problem::PhoneInvalid,
        CaseError::PhoneRequired { .. } | CaseError::AnonymousNotAllowed { .. } => {
            Problem::PhoneRequired
        }
        CaseError::DescriptionTooLong { .. } => Problem::DescriptionTooLong,
        CaseError::AnswerTooLong { .. } => Problem::AnswerTooLong,
        _ => Problem::Unexpected,
    }
}
