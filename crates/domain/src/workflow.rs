//! A case's life at the district, and who may do what to it (DISTRICT.md §1, §3, §5, §7, §10).
//!
//! ```text
//! received ─route→ assigned(unit) ─accept→ in_progress ─resolve→ resolved ─rated well→ closed
//!     ↑               │ return(reason)                               │ rated unsatisfied
//!     └───────────────┘                                              └→ reopened ─accept→ in_progress
//! any open stage ─close(reason)→ closed_unresolved
//! ```
//!
//! Every rule is a plain function of the actor, the case's facts and the action: the hub's pages,
//! its JSON API and its tests all ask [`check`], so they cannot disagree. A refusal is either
//! [`Refusal::Forbidden`] (the actor may not: 403, logged) or [`Refusal::Conflict`] (nobody may,
//! now: 409, and it says why, in any language: [`Said`]). Pure.

use chrono::{DateTime, Duration, Utc};

use crate::district::UnitKind;
use crate::t;
use crate::text::Language;
use crate::words::Said;

/// What a person does at the district (their account's role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Dispatcher,
    Community,
    Secretary,
    Street,
    Department,
    DepartmentHead,
    Leader,
    Auditor,
}

impl Role {
    /// Every role, in the order a district makes their accounts (most are its communities'
    /// and departments' people).
    pub const ALL: [Role; 8] = [
        Role::Community,
        Role::Secretary,
        Role::Department,
        Role::DepartmentHead,
        Role::Street,
        Role::Leader,
        Role::Dispatcher,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Dispatcher => "dispatcher",
            Role::Community => "community",
            Role::Secretary => "secretary",
            Role::Street => "street",
            Role::Department => "department",
            Role::DepartmentHead => "department_head",
            Role::Leader => "leader",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The kind of unit a person of this role belongs to.
    pub fn unit_kind(self) -> UnitKind {
        match self {
            Role::Dispatcher | Role::Leader | Role::Auditor => UnitKind::District,
            Role::Community | Role::Secretary => UnitKind::Community,
            Role::Street => UnitKind::Street,
            Role::Department | Role::DepartmentHead => UnitKind::Department,
        }
    }

    /// The role in words.
    pub fn label(self, lang: Language) -> &'static str {
        match self {
            Role::Dispatcher => t!(lang, "调度员"),
            Role::Community => t!(lang, "社区工作人员"),
            Role::Secretary => t!(lang, "社区书记"),
            Role::Street => t!(lang, "街道督导"),
            Role::Department => t!(lang, "部门承办人"),
            Role::DepartmentHead => t!(lang, "部门负责人"),
            Role::Leader => t!(lang, "领导"),
            Role::Auditor => t!(lang, "审计员"),
        }
    }

    /// Whether a person of this role may make accounts of role `other` and set their
    /// passwords from the pages: the dispatcher, for every role but the auditor's. The auditor
    /// reads what dispatchers did, so the auditor's account is made only at the hub's command
    /// line (`grievance-hub user add`), by whoever runs the server.
    pub fn manages_accounts_of(self, other: Role) -> bool {
        self == Role::Dispatcher && other != Role::Auditor
    }

    /// Whether this role works the cases assigned to its unit.
    pub fn handles(self) -> bool {
        matches!(
            self,
            Role::Community | Role::Secretary | Role::Department | Role::DepartmentHead
        )
    }
}

/// Where a case stands at the district.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Received,
    Assigned,
    InProgress,
    Resolved,
    Closed,
    ClosedUnresolved,
    Reopened,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Received,
        Stage::Assigned,
        Stage::InProgress,
        Stage::Resolved,
        Stage::Closed,
        Stage::ClosedUnresolved,
        Stage::Reopened,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Received => "received",
            Stage::Assigned => "assigned",
            Stage::InProgress => "in_progress",
            Stage::Resolved => "resolved",
            Stage::Closed => "closed",
            Stage::ClosedUnresolved => "closed_unresolved",
            Stage::Reopened => "reopened",
        }
    }

    pub fn parse(text: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The stage in words.
    pub fn label(self, lang: Language) -> &'static str {
        match self {
            Stage::Received => t!(lang, "待派单"),
            Stage::Assigned => t!(lang, "待签收"),
            Stage::InProgress => t!(lang, "办理中"),
            Stage::Resolved => t!(lang, "已办结"),
            Stage::Closed => t!(lang, "已结案"),
            Stage::ClosedUnresolved => t!(lang, "已结案（未解决）"),
            Stage::Reopened => t!(lang, "重新办理"),
        }
    }

    /// Still to be worked: deadlines run and chases follow.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Stage::Received | Stage::Assigned | Stage::InProgress | Stage::Reopened
        )
    }

    /// The state the citizen sees (the native protocol's `CaseState` names): `closed` is shown
    /// as `resolved`; everything internal stays inside.
    pub fn public_state(self) -> &'static str {
        match self {
            Stage::Closed => "resolved",
            other => other.as_str(),
        }
    }
}

/// Something a person does to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Route,
    Accept,
    Return,
    Progress,
    Resolve,
    AskExtension,
    DecideExtension,
    Close,
    Note,
    FollowUp,
    IssueOrder,
    Chase,
    Supervise,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Route => "route",
            Action::Accept => "accept",
            Action::Return => "return",
            Action::Progress => "progress",
            Action::Resolve => "resolve",
            Action::AskExtension => "ask_extension",
            Action::DecideExtension => "decide_extension",
            Action::Close => "close",
            Action::Note => "note",
            Action::FollowUp => "follow_up",
            Action::IssueOrder => "issue_order",
            Action::Chase => "chase",
            Action::Supervise => "supervise",
        }
    }
}

/// The person acting.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub role: Role,
    pub unit: &'a str,
}

/// What the rules need to know of a case.
#[derive(Debug, Clone, Default)]
pub struct CaseFacts<'a> {
    pub stage: Option<Stage>,
    /// The unit it is assigned to.
    pub unit: Option<&'a str>,
    /// The community of the station it was filed at, and that community's street.
    pub community: Option<&'a str>,
    pub street: Option<&'a str>,
    /// The street of the unit it is assigned to, when that is a community.
    pub unit_street: Option<&'a str>,
    /// Departments ordered to come for it.
    pub ordered: &'a [String],
    /// An extension has been asked for and not decided.
    pub extension_asked: bool,
}

/// Why an action is refused, said in any language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// This person may not (403).
    #[error("{0}")]
    Forbidden(Said),
    /// Nobody may, in the case's present state (409).
    #[error("{0}")]
    Conflict(Said),
}

/// A refusal of words without anything to fill in.
macro_rules! said {
    ($msgid:literal) => {
        Said::new(|lang| t!(lang, $msgid).to_owned())
    };
}

/// Stages in words: “待签收”或“重新办理”.
fn stages_in_words(stages: &[Stage], lang: Language) -> String {
    stages
        .iter()
        .map(|s| s.label(lang))
        .collect::<Vec<_>>()
        .join(t!(lang, "”或“"))
}

/// Whether `actor` may see the case at all (its list entry, its page without personal data).
pub fn may_see(actor: Actor<'_>, case: &CaseFacts<'_>) -> bool {
    let mine = |u: Option<&str>| u == Some(actor.unit);
    match actor.role {
        Role::Dispatcher | Role::Leader => true,
        Role::Auditor => false,
        Role::Street => mine(case.street) || mine(case.unit_street),
        Role::Community | Role::Secretary => mine(case.unit) || mine(case.community),
        Role::Department | Role::DepartmentHead => {
            mine(case.unit) || case.ordered.iter().any(|d| d == actor.unit)
        }
    }
}

/// Whether `actor` may see the resident's personal data (phone, description, answers): the
/// dispatcher and the unit the case is assigned to, no one else.
pub fn may_see_personal(actor: Actor<'_>, case: &CaseFacts<'_>) -> bool {
    match actor.role {
        Role::Dispatcher => true,
        r if r.handles() => case.unit == Some(actor.unit),
        _ => false,
    }
}

/// Whether `actor` may do `action` to the case now; `Ok` names the stage it moves to (the same
/// stage for an action that does not move it).
pub fn check(actor: Actor<'_>, case: &CaseFacts<'_>, action: Action) -> Result<Stage, Refusal> {
    let forbidden = |why: Said| Err(Refusal::Forbidden(why));
    let Some(stage) = case.stage else {
        return Err(Refusal::Conflict(said!("案件还没有到区里")));
    };
    if !may_see(actor, case) {
        return forbidden(said!("这不是本单位的案件"));
    }
    let handler = actor.role.handles() && case.unit == Some(actor.unit);
    let conflict = |why: Said| Err(Refusal::Conflict(why));
    let in_stage = |allowed: &[Stage], next: Stage| {
        if allowed.contains(&stage) {
            Ok(next)
        } else {
            let allowed = allowed.to_vec();
            conflict(Said::new(move |lang| {
                t!(
                    lang,
                    "案件现在是“{}”；这一步只适用于“{}”的案件",
                    stage.label(lang),
                    stages_in_words(&allowed, lang)
                )
            }))
        }
    };
    match action {
        Action::Route | Action::DecideExtension => {
            if actor.role != Role::Dispatcher {
                return forbidden(said!("只有调度员可以派单和审批延期"));
            }
            if action == Action::DecideExtension && !case.extension_asked {
                return conflict(said!("没有待审批的延期申请"));
            }
            match action {
                Action::Route => in_stage(&[Stage::Received, Stage::Assigned], Stage::Assigned),
                _ => Ok(stage),
            }
        }
        Action::Close => {
            if actor.role != Role::Dispatcher {
                return forbidden(said!("只有调度员可以结案"));
            }
            if stage == Stage::Resolved {
                Ok(Stage::Closed)
            } else if stage.is_open() {
                Ok(Stage::ClosedUnresolved)
            } else {
                conflict(Said::new(move |lang| {
                    t!(lang, "案件已经是“{}”", stage.label(lang))
                }))
            }
        }
        Action::Accept
        | Action::Return
        | Action::Progress
        | Action::Resolve
        | Action::AskExtension
        | Action::FollowUp => {
            if !handler {
                return forbidden(said!("只有案件派给的单位可以办理"));
            }
            match action {
                Action::Accept => in_stage(&[Stage::Assigned, Stage::Reopened], Stage::InProgress),
                Action::Return => in_stage(
                    &[Stage::Assigned, Stage::Reopened, Stage::InProgress],
                    Stage::Received,
                ),
                Action::Progress => in_stage(&[Stage::InProgress], Stage::InProgress),
                Action::Resolve => in_stage(&[Stage::InProgress], Stage::Resolved),
                Action::AskExtension => {
                    if case.extension_asked {
                        return conflict(said!("已经申请过延期，还没有审批"));
                    }
                    in_stage(
                        &[Stage::Assigned, Stage::InProgress, Stage::Reopened],
                        stage,
                    )
                }
                _ => in_stage(&[Stage::Resolved, Stage::Closed], stage),
            }
        }
        Action::IssueOrder => {
            if actor.role != Role::Secretary {
                return forbidden(said!("只有社区书记可以发令"));
            }
            if case.unit != Some(actor.unit) {
                return forbidden(said!("只有案件派给的社区可以为它发令"));
            }
            in_stage(
                &[Stage::Assigned, Stage::InProgress, Stage::Reopened],
                stage,
            )
        }
        Action::Note => {
            if matches!(actor.role, Role::Leader | Role::Auditor) {
                return forbidden(said!("领导只督办；备注由办理的单位填写"));
            }
            Ok(stage)
        }
        Action::Chase => {
            if !matches!(actor.role, Role::Dispatcher | Role::Street) {
                return forbidden(said!("只有调度员和街道可以催办"));
            }
            if !stage.is_open() || case.unit.is_none() {
                return conflict(said!("只有已派单、未办结的案件可以催办"));
            }
            Ok(stage)
        }
        Action::Supervise => {
            if actor.role != Role::Leader {
                return forbidden(said!("只有领导可以督办"));
            }
            if !stage.is_open() {
                return conflict(Said::new(move |lang| {
                    t!(lang, "案件已是“{}”，不能督办", stage.label(lang))
                }));
            }
            Ok(stage)
        }
    }
}

/// An order's progress (DISTRICT.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderState {
    Issued,
    Accepted,
    Arrived,
    Confirmed,
}

impl OrderState {
    pub const ALL: [OrderState; 4] = [
        OrderState::Issued,
        OrderState::Accepted,
        OrderState::Arrived,
        OrderState::Confirmed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Issued => "issued",
            OrderState::Accepted => "accepted",
            OrderState::Arrived => "arrived",
            OrderState::Confirmed => "confirmed",
        }
    }

    /// The order's state in words.
    pub fn label(self, lang: Language) -> &'static str {
        match self {
            OrderState::Issued => t!(lang, "待接令"),
            OrderState::Accepted => t!(lang, "已接令"),
            OrderState::Arrived => t!(lang, "已到场"),
            OrderState::Confirmed => t!(lang, "已确认到场"),
        }
    }

    pub fn parse(text: &str) -> Option<OrderState> {
        OrderState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Something done to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    Accept,
    Arrive,
    Confirm,
}

/// Whether `actor` may do `action` to an order of `community` to `department` in `state`; `Ok`
/// names the order's next state.
pub fn check_order(
    actor: Actor<'_>,
    community: &str,
    department: &str,
    state: OrderState,
    action: OrderAction,
) -> Result<OrderState, Refusal> {
    let dept =
        matches!(actor.role, Role::Department | Role::DepartmentHead) && actor.unit == department;
    let comm = matches!(actor.role, Role::Community | Role::Secretary) && actor.unit == community;
    let (allowed, from, to, who) = match action {
        OrderAction::Accept => (
            dept,
            OrderState::Issued,
            OrderState::Accepted,
            said!("只有接令的部门可以这样做"),
        ),
        OrderAction::Arrive => (
            dept,
            OrderState::Accepted,
            OrderState::Arrived,
            said!("只有接令的部门可以这样做"),
        ),
        OrderAction::Confirm => (
            comm,
            OrderState::Arrived,
            OrderState::Confirmed,
            said!("只有发令的社区可以确认到场"),
        ),
    };
    if !allowed {
        return Err(Refusal::Forbidden(who));
    }
    if state != from {
        let why = match (action, state) {
            (OrderAction::Arrive, OrderState::Issued) => said!("还没有接令，请先接令"),
            (OrderAction::Arrive, OrderState::Arrived | OrderState::Confirmed) => {
                said!("已经报到过了")
            }
            (OrderAction::Confirm, OrderState::Issued | OrderState::Accepted) => {
                said!("还没有人报到")
            }
            _ => Said::new(move |lang| t!(lang, "指令已经是“{}”", state.label(lang))),
        };
        return Err(Refusal::Conflict(why));
    }
    Ok(to)
}

/// A citizen's rating of how the case was handled (DISTRICT.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rating {
    Satisfied,
    BasicallySatisfied,
    Unsatisfied,
}

impl Rating {
    pub const ALL: [Rating; 3] = [
        Rating::Satisfied,
        Rating::BasicallySatisfied,
        Rating::Unsatisfied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Satisfied => "satisfied",
            Rating::BasicallySatisfied => "basically_satisfied",
            Rating::Unsatisfied => "unsatisfied",
        }
    }

    pub fn parse(text: &str) -> Option<Rating> {
        Rating::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The stage a rating moves a resolved case to.
    pub fn next_stage(self) -> Stage {
        match self {
            Rating::Unsatisfied => Stage::Reopened,
            _ => Stage::Closed,
        }
    }
}

/// How long after its resolution a case may be rated, and the rating changed.
pub const RATING_WINDOW_DAYS: i64 = 7;

/// Whether the citizen may rate (or change the rating of) a case now. `previous` is the rating
/// on record and when it was given: one given before the latest resolution (a case reopened by
/// an unsatisfied rating and resolved again) was of the earlier result, and the new result is
/// rated afresh.
pub fn check_rating(
    stage: Stage,
    resolved_at: Option<DateTime<Utc>>,
    previous: Option<(Rating, DateTime<Utc>)>,
    rating: Rating,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let conflict = |why: Said| Err(Refusal::Conflict(why));
    if !matches!(stage, Stage::Resolved | Stage::Closed) {
        return conflict(said!("案件还没有办结，办结后才能评价"));
    }
    let Some(resolved_at) = resolved_at else {
        return conflict(said!("案件还没有办结，办结后才能评价"));
    };
    if now > resolved_at + Duration::days(RATING_WINDOW_DAYS) {
        return conflict(said!("办结已超过7天，不能再评价"));
    }
    if previous.is_some_and(|(r, at)| r == rating && at >= resolved_at) {
        return conflict(said!("这个评价已经记下了"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(stage: Stage, unit: &'static str) -> CaseFacts<'static> {
        CaseFacts {
            stage: Some(stage),
            unit: Some(unit),
            community: Some("gm-north"),
            street: Some("guangming"),
            unit_street: None,
            ordered: &[],
            extension_asked: false,
        }
    }

    const DISPATCHER: Actor = Actor {
        role: Role::Dispatcher,
        unit: "demo-district",
    };
    const LABOUR: Actor = Actor {
        role: Role::Department,
        unit: "labour",
    };
    const HOUSING: Actor = Actor {
        role: Role::Department,
        unit: "housing",
    };
    const SECRETARY: Actor = Actor {
        role: Role::Secretary,
        unit: "gm-north",
    };
    const OTHER_SECRETARY: Actor = Actor {
        role: Role::Secretary,
        unit: "dh-one",
    };
    const LEADER: Actor = Actor {
        role: Role::Leader,
        unit: "demo-district",
    };
    const STREET: Actor = Actor {
        role: Role::Street,
        unit: "guangming",
    };
    const OTHER_STREET: Actor = Actor {
        role: Role::Street,
        unit: "donghu",
    };

    #[test]
    fn only_the_dispatcher_makes_accounts_and_never_an_auditors() {
        for role in Role::ALL {
            assert_eq!(
                Role::Dispatcher.manages_accounts_of(role),
                role != Role::Auditor,
                "{role:?}"
            );
            for other in Role::ALL.into_iter().filter(|r| *r != Role::Dispatcher) {
                assert!(!other.manages_accounts_of(role), "{other:?} over {role:?}");
            }
        }
    }

    #[test]
    fn a_case_walks_its_life_by_the_rules() {
        let mut case = facts(Stage::Received, "labour");
        case.unit = None;
        assert_eq!(check(DISPATCHER, &case, Action::Route), Ok(Stage::Assigned));
        let case = facts(Stage::Assigned, "labour");
        assert_eq!(check(LABOUR, &case, Action::Accept), Ok(Stage::InProgress));
        assert_eq!(check(LABOUR, &case, Action::Return), Ok(Stage::Received));
        let case = facts(Stage::InProgress, "labour");
        assert_eq!(
            check(LABOUR, &case, Action::Progress),
            Ok(Stage::InProgress)
        );
        assert_eq!(check(LABOUR, &case, Action::Resolve), Ok(Stage::Resolved));
        let case = facts(Stage::Resolved, "labour");
        assert_eq!(check(DISPATCHER, &case, Action::Close), Ok(Stage::Closed));
        assert_eq!(check(LABOUR, &case, Action::FollowUp), Ok(Stage::Resolved));
        let case = facts(Stage::Reopened, "labour");
        assert_eq!(check(LABOUR, &case, Action::Accept), Ok(Stage::InProgress));
        assert_eq!(
            check(DISPATCHER, &case, Action::Close),
            Ok(Stage::ClosedUnresolved)
        );
    }

    #[test]
    fn acting_outside_ones_unit_or_role_is_forbidden_and_out_of_turn_is_a_conflict() {
        let case = facts(Stage::Assigned, "labour");
        let forbidden = |r: Result<Stage, Refusal>| matches!(r, Err(Refusal::Forbidden(_)));
        let conflict = |r: Result<Stage, Refusal>| matches!(r, Err(Refusal::Conflict(_)));
        assert!(forbidden(check(HOUSING, &case, Action::Accept)));
        assert!(forbidden(check(LABOUR, &case, Action::Route)));
        assert!(forbidden(check(LEADER, &case, Action::Accept)));
        assert!(forbidden(check(LEADER, &case, Action::Note)));
        assert!(
            forbidden(check(SECRETARY, &case, Action::IssueOrder)),
            "not assigned to it"
        );
        assert!(
            conflict(check(LABOUR, &case, Action::Resolve)),
            "not accepted yet"
        );
        assert!(conflict(check(DISPATCHER, &case, Action::DecideExtension)));
        let accepted = facts(Stage::InProgress, "labour");
        assert!(
            conflict(check(DISPATCHER, &accepted, Action::Route)),
            "already accepted"
        );
        let closed = facts(Stage::Closed, "labour");
        assert!(conflict(check(DISPATCHER, &closed, Action::Close)));
        let err = check(LABOUR, &accepted, Action::Accept).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the case is “In progress”; this step is for a case that is “Awaiting acceptance” or “Reopened”"
        );
    }

    #[test]
    fn a_secretary_orders_only_for_her_own_communitys_cases() {
        let case = facts(Stage::InProgress, "gm-north");
        assert_eq!(
            check(SECRETARY, &case, Action::IssueOrder),
            Ok(Stage::InProgress)
        );
        assert!(matches!(
            check(OTHER_SECRETARY, &case, Action::IssueOrder),
            Err(Refusal::Forbidden(_))
        ));
        let handler = Actor {
            role: Role::Community,
            unit: "gm-north",
        };
        assert!(matches!(
            check(handler, &case, Action::IssueOrder),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn only_the_dispatcher_and_the_assigned_unit_see_personal_data() {
        let ordered = vec!["housing".to_owned()];
        let mut case = facts(Stage::InProgress, "gm-north");
        case.ordered = &ordered;
        assert!(may_see_personal(DISPATCHER, &case));
        assert!(may_see_personal(SECRETARY, &case));
        assert!(
            !may_see_personal(HOUSING, &case),
            "ordered to come, not assigned"
        );
        assert!(
            may_see(HOUSING, &case),
            "but it sees the case it is ordered to"
        );
        assert!(!may_see(LABOUR, &case));
        assert!(!may_see_personal(LEADER, &case));
        assert!(may_see(LEADER, &case));
        assert!(may_see(STREET, &case) && !may_see_personal(STREET, &case));
        assert!(!may_see(OTHER_STREET, &case));
        let auditor = Actor {
            role: Role::Auditor,
            unit: "demo-district",
        };
        assert!(!may_see(auditor, &case));
    }

    #[test]
    fn orders_are_accepted_then_arrived_at_then_confirmed() {
        let go = |actor, state, action| check_order(actor, "gm-north", "housing", state, action);
        assert_eq!(
            go(HOUSING, OrderState::Issued, OrderAction::Accept),
            Ok(OrderState::Accepted)
        );
        assert_eq!(
            go(HOUSING, OrderState::Accepted, OrderAction::Arrive),
            Ok(OrderState::Arrived)
        );
        assert_eq!(
            go(SECRETARY, OrderState::Arrived, OrderAction::Confirm),
            Ok(OrderState::Confirmed)
        );
        assert_eq!(
            go(HOUSING, OrderState::Issued, OrderAction::Arrive),
            Err(Refusal::Conflict(said!("还没有接令，请先接令")))
        );
        assert_eq!(
            go(HOUSING, OrderState::Arrived, OrderAction::Arrive),
            Err(Refusal::Conflict(said!("已经报到过了")))
        );
        assert!(matches!(
            go(LABOUR, OrderState::Issued, OrderAction::Accept),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            go(OTHER_SECRETARY, OrderState::Arrived, OrderAction::Confirm),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn a_rating_needs_a_resolved_case_within_seven_days_and_a_change() {
        let resolved = "2026-06-02T08:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let day = |d| resolved + Duration::days(d);
        assert_eq!(
            check_rating(
                Stage::Resolved,
                Some(resolved),
                None,
                Rating::Satisfied,
                day(1)
            ),
            Ok(())
        );
        assert!(check_rating(Stage::InProgress, None, None, Rating::Satisfied, day(1)).is_err());
        assert!(check_rating(
            Stage::Resolved,
            Some(resolved),
            None,
            Rating::Satisfied,
            day(8)
        )
        .is_err());
        assert_eq!(
            check_rating(
                Stage::Closed,
                Some(resolved),
                Some((Rating::Satisfied, day(1))),
                Rating::Satisfied,
                day(2)
            ),
            Err(Refusal::Conflict(said!("这个评价已经记下了")))
        );
        // Unsatisfied before the case was worked again and resolved anew: the new result is
        // rated afresh, even with the same word.
        assert_eq!(
            check_rating(
                Stage::Resolved,
                Some(day(3)),
                Some((Rating::Unsatisfied, day(1))),
                Rating::Unsatisfied,
                day(4)
            ),
            Ok(())
        );
        assert_eq!(
            check_rating(
                Stage::Closed,
                Some(resolved),
                Some((Rating::Satisfied, day(1))),
                Rating::Unsatisfied,
                day(2)
            ),
            Ok(())
        );
        assert_eq!(Rating::Unsatisfied.next_stage(), Stage::Reopened);
        assert_eq!(Rating::BasicallySatisfied.next_stage(), Stage::Closed);
        assert_eq!(Stage::Closed.public_state(), "resolved");
    }
}
