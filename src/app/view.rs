//! From the controller's state to what the screens show: fills the `Api` global's properties
//! and models. One function, [`render`], writes every property from the state, so the screen
//! is a function of it: what a flow does not hold shows empty, and a new session leaves nothing
//! of the last one on screen. The fields the resident types into are the one way back:
//! [`collect_typed`] copies them into the session before every change, and `render` writes them
//! only when the state says otherwise (so typing is never disturbed).

use std::rc::Rc;

use slint::{ComponentHandle, Image, Model, ModelRc, SharedString, VecModel};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

use super::appointments::{Book, BookingInfo, OpenNow};
use super::controller::{CodeCheck, Flow, Session, State};
use super::staff::{Console, Staff, StaffView};
use super::ui::{
    Api, AppWindow, BookingNote, BookingState, CaseStage, Chip, DayChip, EmergencyLine, Freshness,
    LaneTile, PinNote, PrintState, PrinterShown, Problem, QuestionView, ReviewKind, ReviewRow,
    ScanProblem, Screen, ServiceTile, SlotChip, StaffBooking, StaffLane, StaffNotice,
    StaffProvider, Theme, TicketState, TimelineRow, TrackCheck,
};
use super::wizard::{Alarm, Step};
use domain::queue::TicketKind;
use domain::roster::{Provider, Role};
use domain::{
    lane_words, t, Language, Localized, Phone, QuestionKind, Service, Shown, TrackingToken,
};
use protocol::CaseState;
use slip::status::PrinterState;
use station::config::KioskConfig;
use station::kiosk::{station_day, station_offset, Progress};

/// The citizen's rating in words.
fn rating_words(code: &str, lang: Language) -> &'static str {
    match code {
        "satisfied" => t!(lang, "满意"),
        "basically_satisfied" => t!(lang, "基本满意"),
        "unsatisfied" => t!(lang, "不满意"),
        _ => "",
    }
}

/// Elderly mode's scale of text and touch targets (the brief asks for at least 1.3×).
pub const ELDERLY_SCALE: f32 = 1.35;

/// The size the screens are designed for: the short side 1080 px, the long side 1920 px
/// (portrait 1080×1920 or landscape 1920×1080).
pub const DESIGN_SIZE: (f32, f32) = (1080.0, 1920.0);

/// The scale that lays the screens out on a `width`×`height` panel as on the design size: every
/// length is multiplied by it, so the logical screen is at least the design size both ways. A
/// 1280×800 panel gets 0.67 (nothing falls off it; text is as large as the panel allows), a 4K
/// one 2.0; the design sizes 1.0. A size not yet known (0) gets 1.0.
pub fn panel_scale(width: u32, height: u32) -> f32 {
    let (short, long) = (width.min(height) as f32, width.max(height) as f32);
    if short == 0.0 {
        return 1.0;
    }
    (short / DESIGN_SIZE.0).min(long / DESIGN_SIZE.1)
}

/// Sets the window's scale for the panel it fills ([`panel_scale`]); nothing when it is already
/// that. The board's fullscreen backend (linuxkms) otherwise draws the design's pixels one to one,
/// and on a panel smaller than the design the screens fall off its edges.
pub fn fit_to_panel(window: &slint::Window) {
    let size = window.size();
    let scale = panel_scale(size.width, size.height);
    if (window.scale_factor() - scale).abs() > 1e-4 {
        window.dispatch_event(slint::platform::WindowEvent::ScaleFactorChanged {
            scale_factor: scale,
        });
    }
}

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
    let (station, session) = (&state.station, &state.session);
    let config = &station.config;
    let lang = session.language;
    let api = app.global::<Api>();
    app.global::<Theme>()
        .set_scale(if session.elderly { ELDERLY_SCALE } else { 1.0 });
    api.set_network_name(s(config.station.network.get(lang)));
    api.set_station_name(s(config.station.name.get(lang)));
    api.set_language(s(lang.code()));
    api.set_elderly(session.elderly);
    api.set_staff_called(session.staff_called);
    api.set_voice_on(state.station.voice_on);
    api.set_screen(session.screen());
    api.set_problem(session.problem);
    api.set_busy(session.busy);
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
                colour: colour_of(config, &svc.id),
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
    api.set_description_max(domain::case::MAX_DESCRIPTION_CHARS as i32);
    render_typed(&api, session);
    render_wizard(&api, state);
    render_flow_steps(&api, session);
    render_result(&api, state);
    render_track(&api, state);
    api.set_problem_detail(s(match &session.flow {
        Flow::Book(book) => &book.phone_booked_for,
        _ => "",
    }));
    api.set_open_now(s(&open_now_line(state)));
    render_queue(&api, state);
    render_booking(&api, state);
    render_staff(&api, state);
    api.set_printer_ready(!station.printer_down());
    api.set_still_there(session.still_there.is_some());
    render_ime(&api, state);
    api.set_still_there_seconds(session.still_there.unwrap_or(0) as i32);
    api.set_still_there_done(session.finished());
}

/// Copies what the resident typed into the fields on screen (the description, the phone, a
/// short text answer, the tracking code) into the flow that holds them.
pub fn collect_typed(app: &AppWindow, session: &mut Session) {
    let api = app.global::<Api>();
    match &mut session.flow {
        Flow::Intake(intake) => {
            intake.wizard.draft.description = api.get_description().into();
            intake.wizard.draft.phone = api.get_phone().into();
            if let Some(entry) = &mut intake.text_entry {
                entry.value = api.get_text_entry_value().into();
            }
        }
        Flow::Book(Book {
            draft: Some(draft), ..
        }) => draft.phone = api.get_phone().into(),
        Flow::Track(track) => track.code = api.get_track_code().into(),
        _ => {}
    }
}

/// The fields the resident types into, as the flow holds them (empty where it holds none).
/// Written only where they differ, so that a field being typed into keeps its cursor.
fn render_typed(api: &Api<'_>, session: &Session) {
    let (description, phone, entry, code) = match &session.flow {
        Flow::Intake(intake) => (
            intake.wizard.draft.description.as_str(),
            intake.wizard.draft.phone.as_str(),
            intake.text_entry.as_ref().map_or("", |e| e.value.as_str()),
            "",
        ),
        Flow::Book(Book {
            draft: Some(draft), ..
        }) => ("", draft.phone.as_str(), "", ""),
        Flow::Track(track) => ("", "", "", track.code.as_str()),
        _ => ("", "", "", ""),
    };
    if api.get_description() != description {
        api.set_description(s(description));
    }
    if api.get_phone() != phone {
        api.set_phone(s(phone));
    }
    if api.get_text_entry_value() != entry {
        api.set_text_entry_value(s(entry));
    }
    if api.get_track_code() != code {
        api.set_track_code(s(code));
    }
}

/// The pinyin keyboard's state: the mode, the pinyin and the page of candidates.
fn render_ime(api: &Api<'_>, state: &State) {
    let (dict, session) = (&state.station.pinyin, &state.session);
    let composer = &session.composer;
    api.set_ime_ready(dict.ready());
    api.set_ime_pinyin(composer.pinyin_mode);
    api.set_ime_hand_ready(dict.handwriting_ready());
    api.set_ime_writing(composer.writing && dict.handwriting_ready());
    api.set_ime_ink(s(&composer.ink_path()));
    api.set_ime_typed(s(&composer.shown(dict)));
    update(
        api.get_ime_candidates(),
        composer
            .page_words(session.elderly)
            .iter()
            .map(|c| s(&c.word))
            .collect(),
        |m| api.set_ime_candidates(m),
    );
    api.set_ime_has_prev(composer.has_prev());
    api.set_ime_has_next(composer.has_next(session.elderly));
}

fn render_wizard(api: &Api<'_>, state: &State) {
    let lang = state.session.language;
    let intake = state.session.intake();
    let service = intake.and_then(|i| {
        state
            .station
            .config
            .catalogue
            .service(&i.wizard.draft.service)
    });
    let (Some(intake), Some(service)) = (intake, service) else {
        update(api.get_steps(), Vec::new(), |m| api.set_steps(m));
        api.set_step(0);
        api.set_service_name(s(""));
        api.set_anonymous_allowed(false);
        api.set_alarm_in_intake(false);
        update(api.get_subtypes(), Vec::new(), |m| api.set_subtypes(m));
        update(api.get_questions(), Vec::new(), |m| api.set_questions(m));
        update(api.get_review(), Vec::new(), |m| api.set_review(m));
        render_text_entry(api, None, lang);
        return;
    };
    let wizard = &intake.wizard;
    update(
        api.get_steps(),
        wizard.steps().iter().map(|s| screen_of(*s)).collect(),
        |m| api.set_steps(m),
    );
    api.set_step(wizard.step_index() as i32);
    api.set_service_name(s(service.name.get(lang)));
    api.set_anonymous_allowed(wizard.may_skip_phone(service, &state.station.config));
    api.set_alarm_in_intake(wizard.alarm() == Alarm::Showing);
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
    let description = domain::text::clean_text(&wizard.draft.description);
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
    review.push(match domain::Phone::parse(&wizard.draft.phone) {
        // Next with no phone where anonymity is allowed files anonymously too: say so, never
        // an empty phone row.
        _ if wizard.draft.anonymous || wizard.draft.phone.trim().is_empty() => ReviewRow {
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

    let question = intake.text_entry.as_ref().and_then(|entry| {
        subtype.and_then(|t| service.questions_for(t).find(|q| q.id == entry.question))
    });
    render_text_entry(api, question, lang);
}

/// The overlay of a short text answer, open for `question`.
fn render_text_entry(api: &Api<'_>, question: Option<&domain::Question>, lang: Language) {
    api.set_text_entry_open(question.is_some());
    api.set_text_entry_label(s(question.map_or("", |q| q.label.get(lang))));
    api.set_text_entry_max(match question.map(|q| &q.kind) {
        Some(QuestionKind::Text { max_chars }) => *max_chars as i32,
        _ => 0,
    });
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
    let result = match &state.session.flow {
        Flow::Filed(result) => Some(result),
        _ => None,
    };
    api.set_result_has_lane(
        result.is_some_and(|r| state.station.config.catalogue.service(&r.service).is_some()),
    );
    match result {
        Some(result) => {
            api.set_code(s(&result.code));
            api.set_qr(result.qr.clone());
            api.set_print_state(result.print);
            api.set_next_steps(s(&result.next_steps));
            api.set_result_high_risk(result.high_risk);
        }
        None => {
            api.set_code(s(""));
            api.set_qr(Image::default());
            api.set_print_state(PrintState::None);
            api.set_next_steps(s(""));
            api.set_result_high_risk(false);
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
    let session = &state.session;
    api.set_scan_held(session.intake().is_some_and(|i| i.scan_held));
    let track = match &session.flow {
        Flow::Track(track) => Some(track),
        _ => None,
    };
    let check = track.map_or(CodeCheck::Empty, |t| t.check);
    api.set_track_check(match check {
        CodeCheck::Empty => TrackCheck::Empty,
        CodeCheck::Ok => TrackCheck::Ok,
        CodeCheck::WrongLength(missing) if missing > 0 => TrackCheck::Incomplete,
        CodeCheck::WrongLength(_) => TrackCheck::TooLong,
        CodeCheck::BadCharacter(_) => TrackCheck::BadCharacter,
        CodeCheck::Typo => TrackCheck::Typo,
    });
    api.set_track_missing(match check {
        CodeCheck::WrongLength(missing) => missing,
        _ => 0,
    });
    api.set_track_bad_char(s(&match check {
        CodeCheck::BadCharacter(c) => c.to_string(),
        _ => String::new(),
    }));
    api.set_track_not_found(track.is_some_and(|t| t.not_found));
    api.set_track_scan_problem(track.map_or(ScanProblem::None, |t| t.scan));
    // The code's slots: its characters as typed, one each, and the same grouped for reading.
    let characters = track.map(|t| t.characters()).unwrap_or_default();
    update(
        api.get_track_code_chars(),
        characters.iter().map(|c| s(&c.to_string())).collect(),
        |m| api.set_track_code_chars(m),
    );
    api.set_track_code_grouped(s(&characters
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")));
    api.set_track_rating_busy(track.is_some_and(|t| t.rating_busy));
    api.set_track_rating_failed(track.is_some_and(|t| t.rating_failed));
    let offer = track
        .and_then(|t| t.tracked.as_ref())
        .and_then(|t| t.rating.as_ref());
    api.set_track_may_rate(offer.is_some_and(|o| o.may_rate));
    api.set_track_rated(s(offer
        .and_then(|o| o.rating.as_deref())
        .map_or("", |r| rating_words(r, session.language))));
    let Some(tracked) = track.and_then(|t| t.tracked.as_ref()) else {
        api.set_track_result_code(s(""));
        api.set_track_freshness(Freshness::Live);
        api.set_track_as_of(s(""));
        api.set_track_stage(CaseStage::Received);
        api.set_track_service(s(""));
        api.set_track_filed(s(""));
        api.set_track_department(s(""));
        api.set_track_expected(s(""));
        update(api.get_track_timeline(), Vec::new(), |m| {
            api.set_track_timeline(m)
        });
        return;
    };
    let lang = session.language;
    let catalogue = &state.station.config.catalogue;
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
    api.set_track_as_of(s(&as_of
        .map(|at| track_time_words(at, lang))
        .unwrap_or_default()));
    api.set_track_stage(progress.map_or(CaseStage::Received, |p| stage_of(p.state)));
    // The service and its sub-type in words, as the tracking page says them: a discreet
    // service only by its lane, as on the slip.
    let (service_id, subtype) = tracked
        .local
        .as_ref()
        .map(|l| (l.case.service.as_str(), l.case.subtype.as_str()))
        .or_else(|| progress.map(|p| (p.service.as_str(), p.subtype.as_str())))
        .unwrap_or_default();
    let service = catalogue.service(service_id).map(|svc| {
        let named = service_words(Some(svc), service_id, lang);
        match (svc.shown(), svc.subtype(subtype)) {
            (Shown::Named(_), Some(sub)) => format!("{named} · {}", sub.name.get(lang)),
            _ => named,
        }
    });
    api.set_track_service(s(&service.unwrap_or_default()));
    let filed = tracked
        .local
        .as_ref()
        .map(|l| l.case.created_at)
        .or_else(|| progress.map(|p| p.filed_at));
    api.set_track_filed(s(&filed
        .map(|at| track_time_words(at, lang))
        .unwrap_or_default()));
    // Who handles it and by when, as the tracking page says them: "not yet" until the
    // district has said (and nothing at all before it has the case).
    api.set_track_department(s(progress
        .map(|p| p.department.as_deref().unwrap_or(t!(lang, "尚未分派")))
        .unwrap_or("")));
    api.set_track_expected(s(&progress
        .map(|p| match p.expected_at {
            Some(at) => track_date_words(at, lang),
            None => t!(lang, "尚未确定").to_owned(),
        })
        .unwrap_or_default()));
    // Newest first: the resident wants to know where it stands now.
    let rows = progress
        .map(|p| {
            p.timeline
                .iter()
                .rev()
                .map(|t| TimelineRow {
                    stage: stage_of(t.state),
                    when: s(&track_time_words(t.at, lang)),
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

/// A day as a resident reads it, in the station's time: "12月8日（周二）", "Tue 8 Dec".
fn track_date_words(at: DateTime<Utc>, lang: Language) -> String {
    let date = at.with_timezone(&station_offset(at)).date_naive();
    let weekday = weekday_words(date, lang);
    if lang.is_chinese() {
        t!(lang, "{}（{}）", date_words(date, lang), weekday)
    } else {
        format!("{weekday} {}", date_words(date, lang))
    }
}

/// A day and its time: "12月8日（周二） 09:30", "Tue 8 Dec 09:30".
fn track_time_words(at: DateTime<Utc>, lang: Language) -> String {
    format!("{} {}", track_date_words(at, lang), clock(at))
}

/// The problem banner a failed submit shows.
pub fn problem_of(error: &station::kiosk::KioskError) -> Problem {
    use station::kiosk::KioskError;
    use station::store::StoreError;
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
        | KioskError::Staff(_)
        | KioskError::Backup(_) => Problem::Unexpected,
    }
}

/// The problem banner a step that refuses the resident's input shows.
pub fn problem_of_case(error: &domain::CaseError) -> Problem {
    use domain::CaseError;
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

// ---- take a number, book, staff -----------------------------------------------------------------

/// The step bar of Take a number and Book (the wizard's own is set by `render_wizard`).
fn render_flow_steps(api: &Api<'_>, session: &Session) {
    if !matches!(session.flow, Flow::TakeNumber(_) | Flow::Book(_)) {
        return;
    }
    let screen = session.screen();
    const QUEUE: [Screen; 2] = [Screen::TakeNumber, Screen::Priority];
    const BOOK: [Screen; 4] = [
        Screen::BookService,
        Screen::BookSlots,
        Screen::BookPhone,
        Screen::BookConfirm,
    ];
    let steps: &[Screen] = if QUEUE.contains(&screen) {
        &QUEUE
    } else if BOOK.contains(&screen) {
        &BOOK
    } else {
        return;
    };
    update(api.get_steps(), steps.to_vec(), |m| api.set_steps(m));
    let at = steps.iter().position(|s| *s == screen).unwrap_or(0);
    api.set_step(at as i32);
}

/// A service as a resident's screen names it once chosen: its name, or for a discreet one
/// only its lane.
fn service_words(service: Option<&Service>, id: &str, lang: Language) -> String {
    match service.map(Service::shown) {
        Some(Shown::Lane(lane)) => lane_words(lane, lang),
        Some(Shown::Named(s)) => s.name.get(lang).to_owned(),
        None => id.to_owned(),
    }
}

/// Whom an appointment is with: the provider ("张律师"), with their role when the name does not
/// say it; for a discreet service only the lane.
fn who_words(
    service: Option<&Service>,
    role: Option<Role>,
    name: Option<&Localized>,
    lang: Language,
) -> String {
    if let Some(Shown::Lane(lane)) = service.map(Service::shown) {
        return lane_words(lane, lang);
    }
    let name = name.map(|n| n.get(lang)).filter(|n| !n.is_empty());
    match (role, name) {
        (Some(r), Some(n)) if n.contains(r.word(lang)) => n.to_owned(),
        (Some(r), Some(n)) => t!(lang, "{}（{}）", n, r.word(lang)),
        (Some(r), None) => r.word(lang).to_owned(),
        (None, Some(n)) => n.to_owned(),
        (None, None) => String::new(),
    }
}

fn weekday_words(date: NaiveDate, lang: Language) -> &'static str {
    domain::weekday_words(date.weekday(), lang)
}

/// "今天", "明天", or the day of the week.
fn day_words(date: NaiveDate, today: NaiveDate, lang: Language) -> String {
    let days = (date - today).num_days();
    match days {
        0 => t!(lang, "今天").into(),
        1 => t!(lang, "明天").into(),
        _ => weekday_words(date, lang).into(),
    }
}

fn date_words(date: NaiveDate, lang: Language) -> String {
    if lang.is_chinese() {
        t!(lang, "{}月{}日", date.month(), date.day())
    } else {
        date.format("%-d %b").to_string()
    }
}

/// When an appointment is, for a resident: "明天，11月28日 09:00–09:30".
/// The arrival window of an appointment at `start` in clock times, "08:30–09:15": from the
/// earliest check-in to the latest, held together so that a line never breaks inside it.
fn arrival_window(start: DateTime<Utc>, config: &KioskConfig) -> String {
    let early = chrono::Duration::minutes(i64::from(config.appointments.arrival_early_min));
    let late = chrono::Duration::minutes(i64::from(config.appointments.arrival_late_min));
    format!(
        "{}\u{2060}–\u{2060}{}",
        clock(start - early),
        clock(start + late)
    )
}

/// A service's colour, the same on every screen: its place in the catalogue.
fn colour_of(config: &KioskConfig, service: &str) -> i32 {
    config
        .catalogue
        .services
        .iter()
        .position(|s| s.id == service)
        .unwrap_or(0) as i32
}

fn when_words(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    today: NaiveDate,
    lang: Language,
) -> String {
    let offset = station_offset(start);
    let (from, to) = (start.with_timezone(&offset), end.with_timezone(&offset));
    let date = from.date_naive();
    let day = day_words(date, today, lang);
    let day = if (date - today).num_days() <= 1 && (date - today).num_days() >= 0 {
        t!(lang, "{}（{}）", day, weekday_words(date, lang))
    } else {
        day
    };
    t!(
        lang,
        "{}，{} {}–{}",
        day,
        date_words(date, lang),
        from.format("%H:%M"),
        to.format("%H:%M")
    )
}

/// A station time: "09:30" today, else with its date.
fn station_time_words(at: NaiveDateTime, today: NaiveDate, lang: Language) -> String {
    if at.date() == today {
        at.format("%H:%M").to_string()
    } else {
        format!("{} {}", date_words(at.date(), lang), at.format("%H:%M"))
    }
}

fn clock(at: DateTime<Utc>) -> String {
    at.with_timezone(&station_offset(at))
        .format("%H:%M")
        .to_string()
}

/// Home's "what is open now": who is on duty (until when, by the roster) and how many wait in
/// each lane. A discreet service is named by its lane letter only.
fn open_now_line(state: &State) -> String {
    let Some(OpenNow { on_duty, lanes }) = &state.station.open_now else {
        return String::new();
    };
    let lang = state.session.language;
    let catalogue = &state.station.config.catalogue;
    let mut parts: Vec<String> = Vec::new();
    for (provider, until) in on_duty {
        let service = catalogue.service(&provider.service);
        let part = match service.map(Service::shown) {
            Some(Shown::Lane(lane)) => t!(lang, "{} 开放中", lane_words(lane, lang)),
            _ => {
                let name = provider.name.get(lang);
                match until {
                    Some(until) => t!(lang, "{}值班中，到 {}", name, until),
                    None => t!(lang, "{}值班中", name),
                }
            }
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    for lane in lanes.iter().filter(|l| !l.waiting.is_empty()) {
        let service = catalogue.service(&lane.service);
        let n = lane.waiting.len();
        parts.push(match service.map(Service::shown) {
            Some(Shown::Named(s)) => t!(lang, "{} {} 人等候", s.name.get(lang), n),
            _ => t!(lang, "{} {} 人等候", lane_words(lane.lane, lang), n),
        });
    }
    parts.join(" · ")
}

fn render_queue(api: &Api<'_>, state: &State) {
    let lang = state.session.language;
    let catalogue = &state.station.config.catalogue;
    let lanes = state.station.lanes();
    update(
        api.get_lanes(),
        catalogue
            .services
            .iter()
            .map(|svc| LaneTile {
                id: s(&svc.id),
                name: s(svc.name.get(lang)),
                lane: s(&svc.lane.to_string()),
                colour: colour_of(&state.station.config, &svc.id),
                waiting: lanes
                    .iter()
                    .find(|l| l.service == svc.id)
                    .map_or(0, |l| l.waiting.len() as i32),
            })
            .collect(),
        |m| api.set_lanes(m),
    );
    let lane = match &state.session.flow {
        Flow::TakeNumber(take) => take.lane.as_deref(),
        _ => None,
    };
    api.set_queue_service_name(s(&lane
        .map(|id| service_words(catalogue.service(id), id, lang))
        .unwrap_or_default()));

    let Flow::Ticket(shown) = &state.session.flow else {
        api.set_ticket_label(s(""));
        api.set_ticket_service(s(""));
        api.set_ticket_state(TicketState::Waiting);
        api.set_ticket_ahead(0);
        api.set_ticket_has_wait(false);
        api.set_ticket_wait_min(0);
        api.set_ticket_wait_max(0);
        api.set_ticket_counter(0);
        api.set_ticket_code(s(""));
        api.set_ticket_qr(Image::default());
        api.set_ticket_print(PrintState::None);
        api.set_ticket_appointment(false);
        api.set_ticket_with_case(false);
        return;
    };
    let t = &shown.view.ticket;
    use protocol::TicketState as Stored;
    api.set_ticket_label(s(&t.label));
    api.set_ticket_service(s(&service_words(
        catalogue.service(&t.service),
        &t.service,
        lang,
    )));
    api.set_ticket_state(match t.state {
        Stored::Waiting => TicketState::Waiting,
        Stored::Called => TicketState::Called,
        Stored::Served => TicketState::Served,
        Stored::NoShow => TicketState::NoShow,
    });
    api.set_ticket_ahead(shown.view.ahead.map_or(-1, |a| a as i32));
    api.set_ticket_has_wait(shown.view.wait.is_some());
    let (lo, hi) = shown.view.wait.unwrap_or((0, 0));
    api.set_ticket_wait_min(lo as i32);
    api.set_ticket_wait_max(hi as i32);
    api.set_ticket_counter(t.counter.unwrap_or(0) as i32);
    api.set_ticket_code(s(&TrackingToken::parse(&t.token)
        .map(|c| c.grouped())
        .unwrap_or_default()));
    api.set_ticket_qr(shown.qr.clone());
    api.set_ticket_print(shown.print);
    api.set_ticket_appointment(
        matches!(t.kind, TicketKind::Appointment { .. }) && t.state == Stored::Waiting,
    );
    api.set_ticket_with_case(t.case_id.is_some() && shown.print != PrintState::None);
}

fn booking_state(state: protocol::BookingState) -> BookingState {
    match state {
        protocol::BookingState::Booked => BookingState::Booked,
        protocol::BookingState::CheckedIn => BookingState::CheckedIn,
        protocol::BookingState::Cancelled => BookingState::Cancelled,
    }
}

fn render_booking(api: &Api<'_>, state: &State) {
    let lang = state.session.language;
    let config: &KioskConfig = &state.station.config;
    let catalogue = &config.catalogue;
    let today = station_day(config.clock.now());
    let (bookable, draft) = match &state.session.flow {
        Flow::Book(book) => (book.bookable.as_slice(), book.draft.as_ref()),
        _ => (&[][..], None),
    };
    // When to come, as clock times ("08:30–09:15"), for the slot chosen or the booking shown.
    let start = match &state.session.flow {
        Flow::Booked(booked) => Some(booked.info.booking.start),
        Flow::Booking(scanned) => Some(scanned.info.booking.start),
        _ => draft.and_then(|d| d.chosen()).map(|v| v.slot.start),
    };
    api.set_arrival_window(s(&start
        .map(|at| arrival_window(at, config))
        .unwrap_or_default()));
    update(
        api.get_bookable(),
        bookable
            .iter()
            .filter_map(|id| catalogue.service(id))
            .map(|svc| ServiceTile {
                id: s(&svc.id),
                name: s(svc.name.get(lang)),
                hint: s(svc.hint.get(lang)),
                colour: colour_of(config, &svc.id),
            })
            .collect(),
        |m| api.set_bookable(m),
    );

    let mut booking_service = String::new();
    match draft {
        Some(draft) => {
            let service = catalogue.service(&draft.service);
            // The resident just chose it by name; from the review on, a discreet service is its
            // lane only, as on the slip.
            api.set_book_service_name(s(
                service.map_or(draft.service.as_str(), |x| x.name.get(lang))
            ));
            booking_service = service_words(service, &draft.service, lang);
            api.set_book_loaded(draft.loaded);
            let days = config.appointments.booking_window_days as usize + 1;
            let chips: Vec<DayChip> = if draft.loaded {
                (0..days)
                    .map(|d| {
                        let date = draft.date_of(d);
                        let slots: Vec<_> = draft.slots_on(d).collect();
                        DayChip {
                            label: s(&day_words(date, draft.today, lang)),
                            date: s(&date_words(date, lang)),
                            slots: slots.len() as i32,
                            free: slots.iter().filter(|v| v.free > 0).count() as i32,
                            selected: d == draft.day,
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            update(api.get_book_days(), chips, |m| api.set_book_days(m));
            let discreet = matches!(service.map(Service::shown), Some(Shown::Lane(_)));
            let slots: Vec<SlotChip> = draft
                .slots_on(draft.day)
                .map(|v| SlotChip {
                    id: s(&v.slot.id),
                    time: s(&clock(v.slot.start)),
                    who: s(if discreet {
                        ""
                    } else {
                        v.provider_name.get(lang)
                    }),
                    free: v.free as i32,
                    selected: draft.slot.as_deref() == Some(v.slot.id.as_str()),
                })
                .collect();
            update(api.get_book_slots(), slots, |m| api.set_book_slots(m));
            let chosen = draft.chosen();
            api.set_book_when(s(&chosen
                .map(|v| when_words(v.slot.start, v.slot.end, today, lang))
                .unwrap_or_default()));
            api.set_book_who(s(&chosen
                .map(|v| who_words(service, Some(v.slot.role), Some(&v.provider_name), lang))
                .unwrap_or_default()));
            api.set_book_phone(s(&Phone::parse(&draft.phone)
                .map(|p| p.display())
                .unwrap_or_else(|_| draft.phone.clone())));
        }
        None => {
            api.set_book_service_name(s(""));
            api.set_book_loaded(false);
            update(api.get_book_days(), Vec::new(), |m| api.set_book_days(m));
            update(api.get_book_slots(), Vec::new(), |m| api.set_book_slots(m));
            api.set_book_when(s(""));
            api.set_book_who(s(""));
            api.set_book_phone(s(""));
        }
    }

    // The booking on screen: just made (its slip printing), or scanned (check in or cancel).
    let shown: Option<(&BookingInfo, &Image, PrintState)> = match &state.session.flow {
        Flow::Booked(booked) => Some((&booked.info, &booked.qr, booked.print)),
        Flow::Booking(scanned) => Some((&scanned.info, &scanned.qr, PrintState::None)),
        _ => None,
    };
    let scanned = match &state.session.flow {
        Flow::Booking(scanned) => Some(scanned),
        _ => None,
    };
    match shown {
        Some((info, qr, print)) => {
            let b = &info.booking;
            let service = catalogue.service(&b.service);
            booking_service = service_words(service, &b.service, lang);
            api.set_booking_code(s(&TrackingToken::parse(&b.token)
                .map(|c| c.grouped())
                .unwrap_or_default()));
            api.set_booking_qr(qr.clone());
            api.set_booking_when(s(&when_words(b.start, b.end, today, lang)));
            api.set_booking_who(s(&who_words(
                service,
                info.provider.as_ref().map(|p: &Provider| p.role),
                info.provider.as_ref().map(|p| &p.name),
                lang,
            )));
            api.set_booking_state(booking_state(b.state));
            api.set_booking_print(print);
        }
        None => {
            api.set_booking_code(s(""));
            api.set_booking_qr(Image::default());
            api.set_booking_when(s(""));
            api.set_booking_who(s(""));
            api.set_booking_state(BookingState::Booked);
            api.set_booking_print(PrintState::None);
        }
    }
    api.set_booking_note(scanned.map_or(BookingNote::None, |b| b.note));
    api.set_booking_note_time(s(&scanned
        .and_then(|b| b.note_time)
        .map(|t| station_time_words(t, today, lang))
        .unwrap_or_default()));
    api.set_booking_asking_cancel(scanned.is_some_and(|b| b.asking_cancel));
    api.set_booking_service(s(&booking_service));
}

fn printer_shown(state: Option<PrinterState>) -> PrinterShown {
    match state {
        Some(PrinterState::Ready) => PrinterShown::Ready,
        Some(PrinterState::NearEnd) => PrinterShown::NearEnd,
        Some(PrinterState::PaperOut) => PrinterShown::PaperOut,
        Some(PrinterState::CoverOpen) => PrinterShown::CoverOpen,
        Some(PrinterState::Offline) => PrinterShown::Offline,
        Some(PrinterState::Error) => PrinterShown::Error,
        Some(PrinterState::Unknown) | None => PrinterShown::Unknown,
    }
}

fn render_staff(api: &Api<'_>, state: &State) {
    let lang = state.session.language;
    let config = &state.station.config;
    let today = station_day(config.clock.now());
    let catalogue = &config.catalogue;
    let (pad, console) = match &state.session.flow {
        Flow::Staff(Staff::Pin(pad)) => (Some(pad), None),
        Flow::Staff(Staff::Console(console)) => (None, Some(console.as_ref())),
        _ => (None, None),
    };
    api.set_staff_pin_length(pad.map_or(0, |p| p.pin.len() as i32));
    api.set_pin_note(pad.map_or(PinNote::None, |p| p.note));
    api.set_pin_left(pad.map_or(0, |p| p.left as i32));
    api.set_pin_locked_until(s(&pad
        .and_then(|p| p.locked_until)
        .map(|t| {
            let local = t.with_timezone(&station_offset(t)).naive_local();
            station_time_words(local, today, lang)
        })
        .unwrap_or_default()));
    let closed = Console::default();
    let console = console.unwrap_or(&closed);
    api.set_staff_tab(console.tab);
    api.set_staff_note(console.note);
    api.set_staff_note_a(s(&console.note_a));
    api.set_staff_note_b(s(&console.note_b));
    api.set_staff_counter(console.counter as i32);
    api.set_staff_counters(config.queue.counters as i32);
    api.set_staff_printer(printer_shown(state.station.printer));
    api.set_staff_ime_problem(s(state.station.pinyin.problem.as_deref().unwrap_or("")));
    api.set_staff_hand_problem(s(state
        .station
        .pinyin
        .handwriting_problem
        .as_deref()
        .unwrap_or("")));

    let empty = StaffView {
        lanes: Vec::new(),
        current: None,
        bookings: Vec::new(),
        paper: station::kiosk::PaperEstimate {
            used_m: 0.0,
            left_m: 0.0,
            low: false,
            refilled_at: None,
        },
        print_waiting: 0,
        outbox: Default::default(),
        roster: Default::default(),
        on_duty: Vec::new(),
        notices: Vec::new(),
    };
    let view = console.view.as_ref().unwrap_or(&empty);
    let service_name = |id: &str| {
        catalogue
            .service(id)
            .map_or(id.to_owned(), |x| x.name.get(lang).to_owned())
    };
    update(
        api.get_staff_lanes(),
        view.lanes
            .iter()
            .map(|l| StaffLane {
                service: s(&l.service),
                lane: s(&l.lane.to_string()),
                name: s(&service_name(&l.service)),
                waiting: l.waiting.len() as i32,
                next: s(&l
                    .waiting
                    .iter()
                    .take(5)
                    .map(|t| t.label.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")),
                served: l.served_today as i32,
            })
            .collect(),
        |m| api.set_staff_lanes(m),
    );
    match &view.current {
        Some(t) => {
            api.set_staff_current(s(&t.label));
            api.set_staff_current_service(s(&service_name(&t.service)));
            api.set_staff_current_calls(t.calls as i32);
        }
        None => {
            api.set_staff_current(s(""));
            api.set_staff_current_service(s(""));
            api.set_staff_current_calls(0);
        }
    }
    update(
        api.get_staff_bookings(),
        view.bookings
            .iter()
            .map(|b| {
                let code = TrackingToken::parse(&b.token)
                    .map(|c| c.grouped())
                    .unwrap_or_else(|_| b.token.clone());
                let service = catalogue.service(&b.service);
                StaffBooking {
                    confirming: console.confirm_cancel.as_deref() == Some(code.as_str()),
                    code: s(&code),
                    time: s(&format!("{}–{}", clock(b.start), clock(b.end))),
                    lane: s(&service.map(|x| x.lane.to_string()).unwrap_or_default()),
                    who: s(&view
                        .roster
                        .provider(&b.provider)
                        .map(|p| p.name.get(lang).to_owned())
                        .unwrap_or_else(|| b.provider.clone())),
                    state: booking_state(b.state),
                    phone: s(&b
                        .phone
                        .as_deref()
                        .and_then(|p| Phone::parse(p).ok())
                        .map(|p| p.masked())
                        .unwrap_or_else(|| "—".into())),
                }
            })
            .collect(),
        |m| api.set_staff_bookings(m),
    );
    api.set_staff_paper_left(s(&format!("{:.1}", view.paper.left_m)));
    api.set_staff_paper_low(view.paper.low);
    api.set_staff_refilled_at(s(&view
        .paper
        .refilled_at
        .map(local_time)
        .unwrap_or_default()));
    api.set_staff_print_waiting(view.print_waiting as i32);
    api.set_staff_outbox_pending(view.outbox.pending as i32);
    api.set_staff_outbox_failed(view.outbox.failed as i32);
    api.set_staff_outbox_delivered(view.outbox.delivered as i32);
    api.set_staff_outbox_oldest(s(&view
        .outbox
        .oldest_pending
        .map(local_time)
        .unwrap_or_default()));
    api.set_staff_outbox_error(s(view.outbox.last_error.as_deref().unwrap_or("")));
    update(
        api.get_staff_notices(),
        view.notices
            .iter()
            .map(|n| StaffNotice {
                id: n.id as i32,
                at: s(&local_time(n.at)),
                kind: s(&n.kind),
                detail: s(&n.detail),
            })
            .collect(),
        |m| api.set_staff_notices(m),
    );
    update(
        api.get_staff_providers(),
        view.roster
            .providers
            .iter()
            .map(|p| {
                let since = view.on_duty.iter().find(|(id, _)| id == &p.id);
                StaffProvider {
                    id: s(&p.id),
                    name: s(p.name.get(lang)),
                    role: s(&format!(
                        "{} · {}",
                        p.role.word(lang),
                        service_name(&p.service)
                    )),
                    on: since.is_some(),
                    since: s(&since.map(|(_, at)| clock(*at)).unwrap_or_default()),
                }
            })
            .collect(),
        |m| api.set_staff_providers(m),
    );
}

#[cfg(test)]
mod panel_tests {
    use super::panel_scale;

    #[test]
    fn a_panel_is_scaled_so_the_design_size_fits_it_both_ways() {
        assert_eq!(panel_scale(1080, 1920), 1.0);
        assert_eq!(panel_scale(1920, 1080), 1.0);
        assert_eq!(panel_scale(3840, 2160), 2.0);
        // 1280×800: the long side binds (1280/1920), not the short one (800/1080).
        assert!((panel_scale(1280, 800) - 2.0 / 3.0).abs() < 1e-6);
        assert!((panel_scale(800, 1280) - 2.0 / 3.0).abs() < 1e-6);
        // 1920×1200: the short side has room to spare; the long one is the design's.
        assert_eq!(panel_scale(1920, 1200), 1.0);
        assert!((panel_scale(1366, 768) - 768.0 / 1080.0).abs() < 1e-6);
        assert_eq!(panel_scale(0, 0), 1.0, "a size not known yet");
    }
}
