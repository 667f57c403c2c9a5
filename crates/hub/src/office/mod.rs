//! The district's back office (DISTRICT.md, issue 19): what its people do to cases and orders,
//! written once. The JSON API ([`api`]) and the pages call the same functions here, so a
//! button and an API call can never follow different rules.
//!
//! Each operation is one write transaction: read the case, ask `domain::workflow` whether this
//! person may do this now, change it, save it against the version read (or the version the
//! person's form showed: a form sent twice, or a second dispatcher routing the same case,
//! finds the case moved and is told so), and write the audit log. A refusal is logged too.

pub(crate) mod api;
pub(crate) mod deadlines;
pub(crate) mod export;
pub(crate) mod leaders;
pub(crate) mod pages;
pub(crate) mod staff;
pub(crate) mod webhooks;

use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};

use domain::calendar::china;
use domain::district::{District, HandlingClass, UnitKind};
use domain::words::Said;
use domain::workflow::{
    self, Action, Actor, CaseFacts, OrderAction, OrderState, Rating, Refusal, Role, Stage,
};
use domain::{t, Language, RiskLevel};

use crate::people::Session;
use crate::server::HubState;
use crate::store::accounts;
use crate::store::district::{self as store, DistrictCase, NewOrder, Order, Step};
use crate::store::sql::Db;
use crate::store::HubStoreError;

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OfficeError {
    #[error("no case has this tracking code")]
    NoCase,
    #[error("no order has this number")]
    NoOrder,
    #[error("no account has this id")]
    NoAccount,
    /// This person may not (403; logged).
    #[error("{0}")]
    Forbidden(Said),
    /// Not now (409), and why.
    #[error("{0}")]
    Conflict(Said),
    /// The case changed since the form was shown (409).
    #[error("the case changed since you opened it (someone else acted on it): look again")]
    Stale,
    /// A value that cannot be used (422), with the field.
    #[error("{problem}")]
    Invalid { field: &'static str, problem: Said },
    #[error(transparent)]
    Store(#[from] HubStoreError),
}

impl OfficeError {
    /// What went wrong, in `lang` (a page's words; the JSON API says the English, `Display`).
    /// A database failure is said without its detail.
    pub(crate) fn words(&self, lang: Language) -> String {
        match self {
            OfficeError::NoCase => t!(lang, "没有这个查询码的案件").to_owned(),
            OfficeError::NoOrder => t!(lang, "没有这个编号的指令").to_owned(),
            OfficeError::NoAccount => t!(lang, "没有这个账号。").to_owned(),
            OfficeError::Stale => {
                t!(lang, "您打开后案件已有变动（别人已经处理过）：请重新查看").to_owned()
            }
            OfficeError::Forbidden(why) | OfficeError::Conflict(why) => why.in_language(lang),
            OfficeError::Invalid { problem, .. } => problem.in_language(lang),
            OfficeError::Store(_) => t!(lang, "系统暂时无法使用，请稍后再试。").to_owned(),
        }
    }
}

/// A sentence without anything to fill in.
macro_rules! said {
    ($msgid:literal) => {
        domain::words::Said::new(|lang| domain::t!(lang, $msgid).to_owned())
    };
}
pub(crate) use said;

impl From<Refusal> for OfficeError {
    fn from(r: Refusal) -> OfficeError {
        match r {
            Refusal::Forbidden(why) => OfficeError::Forbidden(why),
            Refusal::Conflict(why) => OfficeError::Conflict(why),
        }
    }
}

fn invalid(field: &'static str, problem: Said) -> OfficeError {
    OfficeError::Invalid { field, problem }
}

/// Something a person does to a case.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Act {
    Route {
        unit: String,
    },
    Accept,
    Return {
        reason: String,
    },
    Progress {
        note: String,
    },
    Resolve {
        result: String,
    },
    AskExtension {
        until: DateTime<Utc>,
        reason: String,
    },
    DecideExtension {
        approve: bool,
    },
    Close {
        reason: String,
    },
    Note {
        note: String,
    },
    FollowUp {
        outcome: String,
    },
    Chase {
        note: Option<String>,
    },
    Supervise {
        note: Option<String>,
    },
}

impl Act {
    fn action(&self) -> Action {
        match self {
            Act::Route { .. } => Action::Route,
            Act::Accept => Action::Accept,
            Act::Return { .. } => Action::Return,
            Act::Progress { .. } => Action::Progress,
            Act::Resolve { .. } => Action::Resolve,
            Act::AskExtension { .. } => Action::AskExtension,
            Act::DecideExtension { .. } => Action::DecideExtension,
            Act::Close { .. } => Action::Close,
            Act::Note { .. } => Action::Note,
            Act::FollowUp { .. } => Action::FollowUp,
            Act::Chase { .. } => Action::Chase,
            Act::Supervise { .. } => Action::Supervise,
        }
    }
}

/// A form field's name in words, for what is said about it.
fn field_words(field: &str, lang: Language) -> String {
    match field {
        "reason" => t!(lang, "理由"),
        "note" => t!(lang, "说明"),
        "result" => t!(lang, "办理结果"),
        "outcome" => t!(lang, "回访结果"),
        "need" => t!(lang, "需要做的事"),
        "place" => t!(lang, "地点"),
        "people" => t!(lang, "到场人员"),
        other => return other.to_owned(),
    }
    .to_owned()
}

/// A free text a person writes (a reason, a note, a result): trimmed, not empty, bounded.
pub(crate) fn text(
    field: &'static str,
    value: &str,
    max_chars: usize,
) -> Result<String, OfficeError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(
            field,
            Said::new(move |lang| t!(lang, "请填写{}", field_words(field, lang))),
        ));
    }
    if value.chars().count() > max_chars {
        return Err(invalid(
            field,
            Said::new(move |lang| t!(lang, "{}最多{}个字", field_words(field, lang), max_chars)),
        ));
    }
    if value
        .chars()
        .any(|c| (c.is_control() && c != '\n') || crate::validate::is_bidi_control(c))
    {
        return Err(invalid(
            field,
            Said::new(move |lang| t!(lang, "{}里有控制字符", field_words(field, lang))),
        ));
    }
    Ok(value.to_owned())
}

/// What the workflow's rules need to know of a case, from the district's tree.
fn facts<'a>(
    district: &'a District,
    case: &'a DistrictCase,
    ordered: &'a [String],
) -> CaseFacts<'a> {
    let community = district.community_of_station(&case.station_id);
    CaseFacts {
        stage: Some(case.stage),
        unit: case.unit.as_deref(),
        community: community.map(|c| c.id.as_str()),
        street: district.street_of(&case.station_id).map(|s| s.id.as_str()),
        unit_street: case
            .unit
            .as_deref()
            .and_then(|u| district.street_of(u))
            .map(|s| s.id.as_str()),
        ordered,
        extension_asked: case.extension_until.is_some(),
    }
}

/// A case's handling class and deadlines from `now` (at routing, and again when it reopens).
fn set_deadlines(
    hub: &HubState,
    db: &mut dyn Db,
    case: &mut DistrictCase,
    now: DateTime<Utc>,
) -> Result<(), HubStoreError> {
    let district = &hub.config().district;
    let answers: Vec<(String, String)> = store::submission(db, &case.id)?
        .map(|s| {
            s.answers
                .into_iter()
                .map(|a| (a.question, a.value))
                .collect()
        })
        .unwrap_or_default();
    let risk = match case.risk.as_str() {
        "high" => RiskLevel::High,
        "elevated" => RiskLevel::Elevated,
        _ => RiskLevel::Normal,
    };
    let class = district.class_for(&case.service, &case.subtype, &answers, risk);
    let deadlines = district.deadlines(class);
    let calendar = &hub.config().calendar;
    case.class = Some(class);
    case.routed_at = Some(now);
    case.accept_by = Some(deadlines.accept.end(now, calendar));
    case.resolve_by = Some(deadlines.resolve.end(now, calendar));
    Ok(())
}

/// Tells the citizen's page who handles the case now and by when.
fn publish_handler(
    hub: &HubState,
    db: &mut dyn Db,
    case: &DistrictCase,
) -> Result<(), HubStoreError> {
    let district = &hub.config().district;
    let name = case
        .unit
        .as_deref()
        .map(|u| district.unit(u).map_or(u, |u| u.name.zh.as_str()));
    store::set_public_handler(
        db,
        &case.id,
        name,
        case.resolve_by.filter(|_| case.stage.is_open()),
    )
}

/// Routes a new high-risk case at once, to the unit the rules suggest (DISTRICT.md §3), in
/// the intake's transaction. Other cases wait for the dispatcher.
pub(crate) fn route_at_intake(
    hub: &HubState,
    db: &mut dyn Db,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), HubStoreError> {
    let Some(mut case) = store::case(db, token)? else {
        return Ok(());
    };
    if case.risk != "high" || case.stage != Stage::Received {
        return Ok(());
    }
    let Some((unit, _)) =
        hub.config()
            .district
            .suggest_route(&case.service, &case.subtype, &case.station_id)
    else {
        return Ok(());
    };
    let seen = case.version;
    set_deadlines(hub, db, &mut case, now)?;
    case.stage = Stage::Assigned;
    case.unit = Some(unit.clone());
    let step = Step {
        kind: "routed",
        by: "hub",
        unit: Some(&unit),
        note: Some("high risk: routed at once"),
        public: false,
    };
    store::save(db, &case, seen, &step, now)?;
    publish_handler(hub, db, &case)?;
    deadlines::reschedule(hub.config(), db, &case)?;
    accounts::audit(db, now, "hub", "route", Some(token), Some(&unit))?;
    Ok(())
}

/// Does `act` to the case `token` as `session`'s person; `seen_version` is the version the
/// person's form showed (the API may leave it out). Returns the case as saved.
pub(crate) async fn act(
    hub: &Arc<HubState>,
    session: &Session,
    token: &str,
    act: Act,
    seen_version: Option<i64>,
) -> Result<DistrictCase, OfficeError> {
    let hub2 = Arc::clone(hub);
    let user = session.user.clone();
    let token = token.to_owned();
    let now = hub.now();
    let outcome = hub
        .store()
        .write(move |db| {
            act_in(
                &hub2,
                db,
                &user.id,
                user.role,
                &user.unit,
                &token,
                &act,
                seen_version,
                now,
            )
        })
        .await?;
    outcome
}

/// [`act`]'s transaction. A refusal is returned as `Ok(Err(_))` so that its audit line is
/// committed.
#[allow(clippy::too_many_arguments)]
fn act_in(
    hub: &HubState,
    db: &mut dyn Db,
    user: &str,
    role: Role,
    unit: &str,
    token: &str,
    act: &Act,
    seen_version: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Result<DistrictCase, OfficeError>, HubStoreError> {
    let district = &hub.config().district;
    let Some(mut case) = store::case(db, token)? else {
        return Ok(Err(OfficeError::NoCase));
    };
    let ordered = store::ordered_departments(db, &case.id)?;
    let actor = Actor { role, unit };
    let action = act.action();
    let next = match workflow::check(actor, &facts(district, &case, &ordered), action) {
        Ok(next) => next,
        Err(refusal) => {
            let forbidden = matches!(refusal, Refusal::Forbidden(_));
            if forbidden {
                tracing::warn!(
                    user,
                    action = action.as_str(),
                    "office: refused, not this person's to do"
                );
                accounts::audit(db, now, user, "refused", Some(token), Some(action.as_str()))?;
            }
            return Ok(Err(refusal.into()));
        }
    };
    if seen_version.is_some_and(|v| v != case.version) {
        return Ok(Err(OfficeError::Stale));
    }
    let seen = case.version;
    let kind;
    let mut note: Option<String> = None;
    let mut public = false;
    let mut step_unit: Option<String> = case.unit.clone();
    match act {
        Act::Route { unit: to } => {
            match district.kind_of(to) {
                Some(UnitKind::Community | UnitKind::Department) => {}
                Some(_) => return Ok(Err(invalid("unit", said!("案件只能派给社区或部门")))),
                None => {
                    let to = to.clone();
                    return Ok(Err(invalid(
                        "unit",
                        Said::new(move |lang| t!(lang, "区里没有“{}”这个单位", to)),
                    )));
                }
            }
            set_deadlines(hub, db, &mut case, now)?;
            case.unit = Some(to.clone());
            case.accepted_at = None;
            kind = "routed";
            step_unit = Some(to.clone());
        }
        Act::Accept => {
            case.accepted_at = Some(now);
            kind = "accepted";
        }
        Act::Return { reason } => {
            case.unit = None;
            case.accepted_at = None;
            case.accept_by = None;
            case.resolve_by = None;
            case.extension_until = None;
            case.extension_reason = None;
            case.returns += 1;
            kind = "returned";
            note = Some(reason.clone());
        }
        Act::Progress { note: n } => {
            kind = "progress";
            note = Some(n.clone());
            public = true;
        }
        Act::Resolve { result } => {
            case.resolved_at = Some(now);
            kind = "resolved";
            note = Some(result.clone());
            public = true;
        }
        Act::AskExtension { until, reason } => {
            if *until <= now || case.resolve_by.is_some_and(|by| *until <= by) {
                return Ok(Err(invalid("until", said!("延期要晚于现在的办结期限"))));
            }
            case.extension_until = Some(*until);
            case.extension_reason = Some(reason.clone());
            kind = "extension_asked";
            note = Some(format!("{} — {reason}", local_minute(*until)));
        }
        Act::DecideExtension { approve } => {
            if *approve {
                case.resolve_by = case.extension_until;
                case.extensions += 1;
                kind = "extended";
            } else {
                kind = "extension_refused";
            }
            note = case.extension_until.map(local_minute);
            case.extension_until = None;
            case.extension_reason = None;
        }
        Act::Close { reason } => {
            case.closed_at = Some(now);
            kind = if next == Stage::Closed {
                "closed"
            } else {
                "closed_unresolved"
            };
            note = Some(reason.clone());
            public = next == Stage::ClosedUnresolved;
        }
        Act::Note { note: n } => {
            kind = "note";
            note = Some(n.clone());
        }
        Act::FollowUp { outcome } => {
            kind = "follow_up";
            note = Some(outcome.clone());
        }
        Act::Chase { note: n } => {
            kind = "chase";
            note = n.clone();
        }
        Act::Supervise { note: n } => {
            kind = "supervision";
            note = n.clone();
        }
    }
    case.stage = next;
    let step = Step {
        kind,
        by: user,
        unit: step_unit.as_deref(),
        note: note.as_deref(),
        public,
    };
    if !store::save(db, &case, seen, &step, now)? {
        return Ok(Err(OfficeError::Stale));
    }
    if matches!(
        act,
        Act::Route { .. }
            | Act::Return { .. }
            | Act::DecideExtension { .. }
            | Act::Resolve { .. }
            | Act::Close { .. }
    ) {
        publish_handler(hub, db, &case)?;
    }
    accounts::audit(db, now, user, kind, Some(token), step_unit.as_deref())?;
    let saved = store::case(db, token)?.ok_or(OfficeError::NoCase);
    if let Ok(saved) = &saved {
        deadlines::reschedule(hub.config(), db, saved)?;
    }
    Ok(saved)
}

/// The case as `session`'s person may see it: `personal` (when asked for) only for the
/// dispatcher and the unit working it, and each such view is in the audit log.
pub(crate) struct CaseView {
    pub(crate) case: DistrictCase,
    pub(crate) personal: Option<protocol::CaseSubmission>,
    pub(crate) timeline: Vec<store::Event>,
    pub(crate) orders: Vec<Order>,
}

pub(crate) async fn view(
    hub: &Arc<HubState>,
    session: &Session,
    token: &str,
    with_personal: bool,
) -> Result<CaseView, OfficeError> {
    let hub2 = Arc::clone(hub);
    let user = session.user.clone();
    let token = token.to_owned();
    let now = hub.now();
    hub.store()
        .write(move |db| {
            let district = &hub2.config().district;
            let Some(case) = store::case(db, &token)? else {
                return Ok(Err(OfficeError::NoCase));
            };
            let ordered = store::ordered_departments(db, &case.id)?;
            let actor = Actor {
                role: user.role,
                unit: &user.unit,
            };
            let facts = facts(district, &case, &ordered);
            if !workflow::may_see(actor, &facts) {
                accounts::audit(db, now, &user.id, "refused", Some(&token), Some("view"))?;
                return Ok(Err(OfficeError::Forbidden(said!("这不是本单位的案件"))));
            }
            let personal = if with_personal && workflow::may_see_personal(actor, &facts) {
                accounts::audit(db, now, &user.id, "view_personal", Some(&token), None)?;
                store::submission(db, &case.id)?
            } else {
                None
            };
            let timeline = store::timeline(db, &case.id)?;
            let orders = store::orders_of_case(db, &case.id)?;
            Ok(Ok(CaseView {
                case,
                personal,
                timeline,
                orders,
            }))
        })
        .await?
}

/// The cases a list shows `session`'s person, within what they may see.
pub(crate) async fn list(
    hub: &Arc<HubState>,
    session: &Session,
    mut filter: store::Filter,
) -> Result<(Vec<DistrictCase>, i64), OfficeError> {
    let district = &hub.config().district;
    let user = &session.user;
    match user.role {
        Role::Dispatcher | Role::Leader => {}
        Role::Auditor => {
            return Err(OfficeError::Forbidden(said!(
                "审计员只看审计日志，不看案件"
            )))
        }
        Role::Street => {
            // Everything filed at the street's stations.
            filter.stations = Some(district.stations_under(&user.unit));
        }
        _ => {
            if filter.unit.as_deref().is_some_and(|u| u != user.unit) {
                return Err(OfficeError::Forbidden(said!("每个单位只看本单位的案件")));
            }
            filter.unit = Some(user.unit.clone());
        }
    }
    Ok(hub.store().read(move |db| store::list(db, &filter)).await?)
}

/// What an order needs when it is issued.
pub(crate) struct OrderForm {
    pub(crate) department: String,
    pub(crate) need: String,
    pub(crate) place: String,
    pub(crate) arrive_by: DateTime<Utc>,
    pub(crate) staff: i64,
    pub(crate) reply_by: DateTime<Utc>,
}

/// A community secretary orders a department to come for a case (DISTRICT.md §5).
pub(crate) async fn issue_order(
    hub: &Arc<HubState>,
    session: &Session,
    token: &str,
    form: OrderForm,
    seen_version: Option<i64>,
) -> Result<(i64, String), OfficeError> {
    let district = &hub.config().district;
    if district.kind_of(&form.department) != Some(UnitKind::Department) {
        let department = form.department.clone();
        return Err(invalid(
            "department",
            Said::new(move |lang| t!(lang, "区里没有“{}”这个部门", department)),
        ));
    }
    let now = hub.now();
    if form.arrive_by <= now {
        return Err(invalid("arrive_by", said!("到场时间已经过了")));
    }
    if form.reply_by <= now || form.reply_by > form.arrive_by {
        return Err(invalid(
            "reply_by",
            said!("接令期限要在现在之后、到场时间之前"),
        ));
    }
    if !(1..=500).contains(&form.staff) {
        return Err(invalid("staff", said!("人数是1到500之间的数")));
    }
    let hub2 = Arc::clone(hub);
    let user = session.user.clone();
    let token = token.to_owned();
    hub.store()
        .write(move |db| {
            let district = &hub2.config().district;
            let Some(case) = store::case(db, &token)? else {
                return Ok(Err(OfficeError::NoCase));
            };
            let ordered = store::ordered_departments(db, &case.id)?;
            let actor = Actor {
                role: user.role,
                unit: &user.unit,
            };
            if let Err(refusal) =
                workflow::check(actor, &facts(district, &case, &ordered), Action::IssueOrder)
            {
                if matches!(refusal, Refusal::Forbidden(_)) {
                    accounts::audit(
                        db,
                        now,
                        &user.id,
                        "refused",
                        Some(&token),
                        Some("issue_order"),
                    )?;
                }
                return Ok(Err(refusal.into()));
            }
            if seen_version.is_some_and(|v| v != case.version) {
                return Ok(Err(OfficeError::Stale));
            }
            let prefix = district
                .order_prefix(&user.unit)
                .unwrap_or_else(|| user.unit.clone());
            let year = now.with_timezone(&china()).year();
            let new = NewOrder {
                department: form.department.clone(),
                need: form.need.clone(),
                place: form.place.clone(),
                arrive_by: form.arrive_by,
                staff: form.staff,
                reply_by: form.reply_by,
            };
            let numbering = store::Numbering {
                community: &user.unit,
                prefix: &prefix,
                year,
            };
            let (id, number) = store::issue_order(db, &case.id, numbering, &new, &user.id, now)?;
            let seen = case.version;
            let department = district
                .unit(&form.department)
                .map_or(form.department.as_str(), |u| u.name.zh.as_str());
            let note = format!("{number} → {department} {}", local_minute(form.arrive_by));
            let step = Step {
                kind: "order_issued",
                by: &user.id,
                unit: Some(&form.department),
                note: Some(&note),
                public: false,
            };
            // The case's version moves too: a second click on the same form is told.
            if !store::save(db, &case, seen, &step, now)? {
                return Ok(Err(OfficeError::Stale));
            }
            accounts::audit(
                db,
                now,
                &user.id,
                "order_issued",
                Some(&token),
                Some(&number),
            )?;
            if let Some(order) = store::order(db, id)? {
                webhooks::enqueue_order(hub2.config(), db, &order, now)?;
            }
            deadlines::reschedule(hub2.config(), db, &case)?;
            Ok(Ok((id, number)))
        })
        .await?
}

/// A department accepts an order, reports its arrival, or the community confirms it.
pub(crate) async fn order_step(
    hub: &Arc<HubState>,
    session: &Session,
    id: i64,
    action: OrderAction,
    arrival: Option<(Vec<String>, DateTime<Utc>)>,
) -> Result<Order, OfficeError> {
    let now = hub.now();
    if let Some((people, at)) = &arrival {
        if people.is_empty() || people.len() > 500 {
            return Err(invalid("people", said!("请写下到场人员的姓名（1到500人）")));
        }
        for p in people {
            text("people", p, 40)?;
        }
        if *at > now + chrono::Duration::minutes(5) {
            return Err(invalid("at", said!("到场之后才能报到")));
        }
    }
    let user = session.user.clone();
    let hub2 = Arc::clone(hub);
    hub.store()
        .write(move |db| {
            let Some(order) = store::order(db, id)? else {
                return Ok(Err(OfficeError::NoOrder));
            };
            let actor = Actor {
                role: user.role,
                unit: &user.unit,
            };
            let next = match workflow::check_order(
                actor,
                &order.community,
                &order.department,
                order.state,
                action,
            ) {
                Ok(next) => next,
                Err(refusal) => {
                    if matches!(refusal, Refusal::Forbidden(_)) {
                        accounts::audit(db, now, &user.id, "refused", Some(&order.number), None)?;
                    }
                    return Ok(Err(refusal.into()));
                }
            };
            let (at, people) = match &arrival {
                Some((people, at)) => (*at, Some(people.as_slice())),
                None => (now, None),
            };
            if !store::move_order(db, id, order.state, next, at, people)? {
                return Ok(Err(OfficeError::Stale));
            }
            let kind = match next {
                OrderState::Accepted => "order_accepted",
                OrderState::Arrived => "arrived",
                OrderState::Confirmed => "arrival_confirmed",
                OrderState::Issued => "order_issued",
            };
            let note = match &arrival {
                Some((people, at)) => format!(
                    "{} {} ({})",
                    order.number,
                    local_minute(*at),
                    people.join("、")
                ),
                None => order.number.clone(),
            };
            store::event(
                db,
                &order.case_id,
                &Step {
                    kind,
                    by: &user.id,
                    unit: Some(&order.department),
                    note: Some(&note),
                    public: false,
                },
                now,
            )?;
            accounts::audit(db, now, &user.id, kind, Some(&order.number), None)?;
            if let Some(case) = store::case(db, &order.token)? {
                deadlines::reschedule(hub2.config(), db, &case)?;
            }
            Ok(store::order(db, id)?.ok_or(OfficeError::NoOrder))
        })
        .await?
}

/// The citizen rates a resolved case (the code is the capability; DISTRICT.md §7).
pub(crate) async fn rate(
    hub: &Arc<HubState>,
    token: &str,
    rating: Rating,
    reason: Option<String>,
) -> Result<DistrictCase, OfficeError> {
    let hub2 = Arc::clone(hub);
    let token = token.to_owned();
    let now = hub.now();
    hub.store()
        .write(move |db| {
            let Some(mut case) = store::case(db, &token)? else {
                return Ok(Err(OfficeError::NoCase));
            };
            if let Err(r) = workflow::check_rating(
                case.stage,
                case.resolved_at,
                case.rating.zip(case.rated_at),
                rating,
                now,
            ) {
                return Ok(Err(r.into()));
            }
            let seen = case.version;
            case.rating = Some(rating);
            case.rated_at = Some(now);
            case.stage = rating.next_stage();
            if rating == Rating::Unsatisfied {
                // Back to the same unit, to be worked again, with fresh deadlines.
                case.redo_count += 1;
                case.accepted_at = None;
                case.resolved_at = None;
                case.closed_at = None;
                set_deadlines(&hub2, db, &mut case, now)?;
            } else {
                case.closed_at = Some(now);
            }
            let step = Step {
                kind: "rating",
                by: "citizen",
                unit: case.unit.as_deref(),
                note: Some(&match &reason {
                    Some(r) => format!("{} — {r}", rating.as_str()),
                    None => rating.as_str().to_owned(),
                }),
                public: false,
            };
            if !store::save(db, &case, seen, &step, now)? {
                return Ok(Err(OfficeError::Stale));
            }
            accounts::audit(
                db,
                now,
                "citizen",
                "rating",
                Some(&token),
                Some(rating.as_str()),
            )?;
            let saved = store::case(db, &token)?.ok_or(OfficeError::NoCase);
            if let Ok(saved) = &saved {
                deadlines::reschedule(hub2.config(), db, saved)?;
            }
            Ok(saved)
        })
        .await?
}

/// An instant as the district reads it: `2026-06-02 14:00` (China Standard Time).
pub(crate) fn local_minute(at: DateTime<Utc>) -> String {
    at.with_timezone(&china())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Whether a case was resolved the day it was filed (before midnight, China Standard Time).
pub(crate) fn same_day(case: &DistrictCase) -> bool {
    case.resolved_at.is_some_and(|r| {
        r.with_timezone(&china()).date_naive() == case.filed_at.with_timezone(&china()).date_naive()
    })
}

/// A class in words for lists (its code).
pub(crate) fn class_code(class: Option<HandlingClass>) -> Option<&'static str> {
    class.map(HandlingClass::as_str)
}

/// An order, for the community that issued it, the department ordered, the dispatcher and
/// leaders.
pub(crate) async fn order(
    hub: &Arc<HubState>,
    session: &Session,
    id: i64,
) -> Result<Order, OfficeError> {
    let user = session.user.clone();
    let now = hub.now();
    hub.store()
        .write(move |db| {
            let Some(order) = store::order(db, id)? else {
                return Ok(Err(OfficeError::NoOrder));
            };
            let mine = matches!(user.role, Role::Dispatcher | Role::Leader)
                || (user.role != Role::Auditor
                    && (user.unit == order.community || user.unit == order.department));
            if !mine {
                accounts::audit(
                    db,
                    now,
                    &user.id,
                    "refused",
                    Some(&order.number),
                    Some("view"),
                )?;
                return Ok(Err(OfficeError::Forbidden(said!("这是其他单位之间的指令"))));
            }
            Ok(Ok(order))
        })
        .await?
}

/// What a kiosk may offer the citizen holding the slip: the rating, while the case may be rated.
pub(crate) async fn rating_offer(
    hub: &Arc<HubState>,
    token: &str,
) -> Result<protocol::RatingOffer, OfficeError> {
    let token = token.to_owned();
    let now = hub.now();
    let case = hub.store().read(move |db| store::case(db, &token)).await?;
    let case = case.ok_or(OfficeError::NoCase)?;
    Ok(offer(&case, now))
}

/// The rating a case's holder may give now.
pub(crate) fn offer(case: &DistrictCase, now: DateTime<Utc>) -> protocol::RatingOffer {
    let may_rate = may_rate(case.stage, case.resolved_at, now);
    protocol::RatingOffer {
        may_rate,
        rating: case.rating.map(|r| r.as_str().to_owned()),
        until: case
            .resolved_at
            .map(|at| at + chrono::Duration::days(workflow::RATING_WINDOW_DAYS))
            .filter(|_| may_rate),
    }
}

/// Whether a case may be rated now by someone who has not rated it yet: resolved (or closed by
/// a rating) and within its 7 days. The tracking page and the kiosk's offer both ask this.
pub(crate) fn may_rate(
    stage: Stage,
    resolved_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    workflow::check_rating(stage, resolved_at, None, Rating::Satisfied, now).is_ok()
}
