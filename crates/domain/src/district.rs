//! The district's organisation and its rules of routing (DISTRICT.md §2–§4): a tree of units
//! (the district, its streets, their communities, their stations) with the departments beside
//! it; which unit a case goes to by default; which handling class a case gets, and the deadlines
//! each class has.
//!
//! A district writes its own file ([`District::parse`], TOML, every mistake named with its line);
//! without one the hub runs the built-in demo district ([`District::demo`], `demo_district.toml`,
//! which is also the documented example of the form). Pure.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use toml::Spanned;

use crate::calendar::Span;
use crate::risk::RiskLevel;
use crate::text::Localized;

const DEMO: &str = include_str!("demo_district.toml");

/// What a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnitKind {
    District,
    Street,
    Community,
    Station,
    Department,
}

impl UnitKind {
    pub const ALL: [UnitKind; 5] = [
        UnitKind::District,
        UnitKind::Street,
        UnitKind::Community,
        UnitKind::Station,
        UnitKind::Department,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::District => "district",
            UnitKind::Street => "street",
            UnitKind::Community => "community",
            UnitKind::Station => "station",
            UnitKind::Department => "department",
        }
    }

    pub fn parse(text: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// What a unit of this kind hangs under.
    fn parent_kind(self) -> Option<UnitKind> {
        match self {
            UnitKind::District => None,
            UnitKind::Street | UnitKind::Department => Some(UnitKind::District),
            UnitKind::Community => Some(UnitKind::Street),
            UnitKind::Station => Some(UnitKind::Community),
        }
    }
}

/// How a unit's webhook wants its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// `{"event": …, "case": …, …}`
    Json,
    /// A WeCom group robot: `{"msgtype": "text", "text": {"content": …}}`.
    Wecom,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Wecom => "wecom",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub format: WebhookFormat,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub id: String,
    pub kind: UnitKind,
    pub name: Localized,
    pub parent: Option<String>,
    /// A station's place: longitude, latitude (WGS 84).
    pub location: Option<(f64, f64)>,
    /// A community's boundary: the outer ring of a GeoJSON polygon, longitude then latitude,
    /// closed (the last point is the first).
    pub boundary: Option<Vec<(f64, f64)>>,
    /// What a community's order numbers start with: `光明北` in `光明北发令〔2026〕0042号`.
    pub order_prefix: Option<String>,
    pub webhook: Option<Webhook>,
}

/// How fast a case must move (DISTRICT.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HandlingClass {
    Emergency,
    Urgent,
    General,
    Complex,
}

impl HandlingClass {
    pub const ALL: [HandlingClass; 4] = [
        HandlingClass::Emergency,
        HandlingClass::Urgent,
        HandlingClass::General,
        HandlingClass::Complex,
    ];

    /// The class in words.
    pub fn label(self, lang: crate::text::Language) -> &'static str {
        match self {
            HandlingClass::Emergency => crate::t!(lang, "紧急"),
            HandlingClass::Urgent => crate::t!(lang, "加急"),
            HandlingClass::General => crate::t!(lang, "一般"),
            HandlingClass::Complex => crate::t!(lang, "复杂"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HandlingClass::Emergency => "emergency",
            HandlingClass::Urgent => "urgent",
            HandlingClass::General => "general",
            HandlingClass::Complex => "complex",
        }
    }

    pub fn parse(text: &str) -> Option<HandlingClass> {
        HandlingClass::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// A class's two deadlines: to accept (签收) and to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub accept: Span,
    pub resolve: Span,
}

/// A routing rule: cases of `service` (and `subtype`, and from `street`, when given) go to `unit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub service: String,
    pub subtype: Option<String>,
    pub street: Option<String>,
    pub unit: String,
}

impl Route {
    /// How many of the optional parts the rule names: the most specific matching rule wins.
    fn specificity(&self) -> usize {
        usize::from(self.subtype.is_some()) + usize::from(self.street.is_some())
    }
}

/// A class rule: cases of `service` (and `subtype`, and with the answer `question=option`, when
/// given) are of `class`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRule {
    pub service: String,
    pub subtype: Option<String>,
    pub answer: Option<(String, String)>,
    pub class: HandlingClass,
}

/// Why a unit was suggested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteReason {
    /// The routing rule at this position in the file matched.
    Rule(usize),
    /// No rule matched: the community of the station it was filed at (兜底).
    Community,
}

/// A bad district file: the line (from 1) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("district file line {line}: {problem}")]
pub struct DistrictError {
    pub line: usize,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct District {
    units: Vec<Unit>,
    index: HashMap<String, usize>,
    routes: Vec<Route>,
    classes: Vec<ClassRule>,
    deadlines: BTreeMap<HandlingClass, Deadlines>,
    weights: crate::scorecard::Weights,
}

impl District {
    /// The built-in demo district (演示区): 2 streets, 4 communities, 6 stations, 5 departments.
    pub fn demo() -> District {
        District::parse(DEMO).expect("the demo district is valid")
    }

    /// The demo district's file, as an example to start from.
    pub fn demo_text() -> &'static str {
        DEMO
    }

    /// Reads a district file; the first mistake is named with its line.
    pub fn parse(text: &str) -> Result<District, DistrictError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let file: FileForm = toml::from_str(text).map_err(|e| DistrictError {
            line: e.span().map_or(1, |s| line_of(s.start)),
            problem: e.message().to_owned(),
        })?;
        let mut units: Vec<Unit> = Vec::new();
        let mut index = HashMap::new();
        let mut lines = Vec::new();
        for entry in &file.unit {
            let line = line_of(entry.span().start);
            let fail = |problem: String| DistrictError { line, problem };
            let u = entry.get_ref();
            if !is_id(&u.id) {
                return Err(fail(format!(
                    "`{}` is not an id: letters, digits, `.`, `_` and `-`, at most 64",
                    u.id
                )));
            }
            let kind = UnitKind::parse(&u.kind).ok_or_else(|| {
                fail(format!(
                    "unit `{}`: kind `{}` is not one of district, street, community, station, department",
                    u.id, u.kind
                ))
            })?;
            if u.name.zh.trim().is_empty() || u.name.en.trim().is_empty() {
                return Err(fail(format!(
                    "unit `{}`: the name needs both `zh` and `en`",
                    u.id
                )));
            }
            if index.insert(u.id.clone(), units.len()).is_some() {
                return Err(fail(format!("the id `{}` is used twice", u.id)));
            }
            let location = match u.location {
                None => None,
                Some([lon, lat]) => {
                    if kind != UnitKind::Station {
                        return Err(fail(format!(
                            "unit `{}`: only a station has a `location`",
                            u.id
                        )));
                    }
                    check_point(lon, lat)
                        .map_err(|p| fail(format!("unit `{}`: location {p}", u.id)))?;
                    Some((lon, lat))
                }
            };
            let boundary = match &u.boundary {
                None => None,
                Some(ring) => {
                    if kind != UnitKind::Community {
                        return Err(fail(format!(
                            "unit `{}`: only a community has a `boundary`",
                            u.id
                        )));
                    }
                    if ring.len() < 4 || ring.first() != ring.last() {
                        return Err(fail(format!(
                            "unit `{}`: a boundary is a closed ring of at least 4 points, the last one the first",
                            u.id
                        )));
                    }
                    for [lon, lat] in ring {
                        check_point(*lon, *lat)
                            .map_err(|p| fail(format!("unit `{}`: boundary point {p}", u.id)))?;
                    }
                    Some(ring.iter().map(|[a, b]| (*a, *b)).collect())
                }
            };
            if u.order_prefix.is_some() && kind != UnitKind::Community {
                return Err(fail(format!(
                    "unit `{}`: only a community issues orders (`order_prefix`)",
                    u.id
                )));
            }
            let webhook = match &u.webhook {
                None => None,
                Some(w) => {
                    if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                        return Err(fail(format!(
                            "unit `{}`: the webhook's url must start with http:// or https://",
                            u.id
                        )));
                    }
                    let format = match w.format.as_deref().unwrap_or("json") {
                        "json" => WebhookFormat::Json,
                        "wecom" => WebhookFormat::Wecom,
                        other => {
                            return Err(fail(format!(
                                "unit `{}`: webhook format `{other}` is not `json` or `wecom`",
                                u.id
                            )))
                        }
                    };
                    Some(Webhook {
                        url: w.url.clone(),
                        format,
                    })
                }
            };
            lines.push(line);
            units.push(Unit {
                id: u.id.clone(),
                kind,
                name: u.name.clone(),
                parent: u.parent.clone(),
                location,
                boundary,
                order_prefix: u.order_prefix.clone(),
                webhook,
            });
        }
        // The tree: one district at the root, every other unit under a unit of the right kind.
        let roots: Vec<_> = units
            .iter()
            .filter(|u| u.kind == UnitKind::District)
            .collect();
        if roots.len() != 1 {
            return Err(DistrictError {
                line: lines.get(1).copied().unwrap_or(1),
                problem: format!(
                    "a district file has exactly one unit of kind `district`, this one has {}",
                    roots.len()
                ),
            });
        }
        let root = roots[0].id.clone();
        for (u, line) in units.iter_mut().zip(&lines) {
            let fail = |problem: String| DistrictError {
                line: *line,
                problem,
            };
            match (u.kind, &u.parent) {
                (UnitKind::District, Some(_)) => {
                    return Err(fail(format!("the district `{}` has no parent", u.id)))
                }
                // A department hangs under the district, said or not.
                (UnitKind::Department, None) => u.parent = Some(root.clone()),
                (UnitKind::District, None) => {}
                (kind, None) => {
                    return Err(fail(format!(
                        "unit `{}`: a {} needs its `parent`, a {}",
                        u.id,
                        kind.as_str(),
                        kind.parent_kind().map_or("", UnitKind::as_str)
                    )))
                }
                (_, Some(_)) => {}
            }
        }
        for (i, line) in lines.iter().enumerate() {
            let fail = |problem: String| DistrictError {
                line: *line,
                problem,
            };
            let u = &units[i];
            if let (Some(want), Some(parent)) = (u.kind.parent_kind(), &u.parent) {
                let Some(&p) = index.get(parent) else {
                    return Err(fail(format!(
                        "unit `{}`: its parent `{parent}` is no unit of this file",
                        u.id
                    )));
                };
                if units[p].kind != want {
                    return Err(fail(format!(
                        "unit `{}`: a {} hangs under a {}, but `{parent}` is a {}",
                        u.id,
                        u.kind.as_str(),
                        want.as_str(),
                        units[p].kind.as_str()
                    )));
                }
            }
        }
        let mut district = District {
            units,
            index,
            routes: Vec::new(),
            classes: Vec::new(),
            deadlines: default_deadlines(),
            weights: crate::scorecard::Weights::default(),
        };
        for entry in &file.route {
            let line = line_of(entry.span().start);
            let fail = |problem: String| DistrictError { line, problem };
            let r = entry.get_ref();
            if let Some(street) = &r.street {
                if district.kind_of(street) != Some(UnitKind::Street) {
                    return Err(fail(format!(
                        "route: `{street}` is not a street of this district"
                    )));
                }
            }
            match district.kind_of(&r.unit) {
                Some(UnitKind::Community | UnitKind::Department) => {}
                Some(other) => {
                    return Err(fail(format!(
                        "route: cases go to a community or a department, and `{}` is a {}",
                        r.unit,
                        other.as_str()
                    )))
                }
                None => {
                    return Err(fail(format!(
                        "route: `{}` is no unit of this district",
                        r.unit
                    )))
                }
            }
            if r.service.trim().is_empty() {
                return Err(fail("route: `service` is empty".into()));
            }
            district.routes.push(Route {
                service: r.service.clone(),
                subtype: r.subtype.clone().filter(|s| s != "*"),
                street: r.street.clone(),
                unit: r.unit.clone(),
            });
        }
        for entry in &file.class {
            let line = line_of(entry.span().start);
            let fail = |problem: String| DistrictError { line, problem };
            let c = entry.get_ref();
            let class = HandlingClass::parse(&c.class).ok_or_else(|| {
                fail(format!(
                    "class `{}` is not one of emergency, urgent, general, complex",
                    c.class
                ))
            })?;
            let answer = match &c.answer {
                None => None,
                Some(a) => {
                    let (q, o) = a
                        .split_once('=')
                        .filter(|(q, o)| !q.is_empty() && !o.is_empty())
                        .ok_or_else(|| {
                            fail(format!(
                                "answer `{a}` is not `question=option`, e.g. `workers=10_29`"
                            ))
                        })?;
                    Some((q.to_owned(), o.to_owned()))
                }
            };
            district.classes.push(ClassRule {
                service: c.service.clone(),
                subtype: c.subtype.clone().filter(|s| s != "*"),
                answer,
                class,
            });
        }
        if let Some(table) = &file.deadlines {
            let line = line_of(table.span().start);
            for (name, d) in table.get_ref() {
                let fail = |problem: String| DistrictError { line, problem };
                let class = HandlingClass::parse(name)
                    .ok_or_else(|| fail(format!("deadlines: `{name}` is not a class")))?;
                let accept = Span::parse(&d.accept)
                    .map_err(|p| fail(format!("deadlines.{name}.accept: {p}")))?;
                let resolve = Span::parse(&d.resolve)
                    .map_err(|p| fail(format!("deadlines.{name}.resolve: {p}")))?;
                district
                    .deadlines
                    .insert(class, Deadlines { accept, resolve });
            }
        }
        if let Some(table) = &file.scorecard {
            let line = line_of(table.span().start);
            let w = &table.get_ref().weights;
            let sum = w.response + w.resolution + w.satisfaction;
            if sum != 100 {
                return Err(DistrictError {
                    line,
                    problem: format!(
                        "scorecard.weights: response, resolution and satisfaction are percentages of the score and add up to 100 (these add up to {sum})"
                    ),
                });
            }
            district.weights = crate::scorecard::Weights {
                response: w.response,
                resolution: w.resolution,
                satisfaction: w.satisfaction,
            };
        }
        Ok(district)
    }

    /// What the scorecards' score weighs (DISTRICT.md §8): 30 / 35 / 35 unless the file's
    /// `[scorecard]` says otherwise.
    pub fn weights(&self) -> crate::scorecard::Weights {
        self.weights
    }

    /// Every unit, in the file's order.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    pub fn unit(&self, id: &str) -> Option<&Unit> {
        self.index.get(id).map(|&i| &self.units[i])
    }

    pub fn kind_of(&self, id: &str) -> Option<UnitKind> {
        self.unit(id).map(|u| u.kind)
    }

    /// The district itself (the dispatcher's, the leaders' and the auditors' unit).
    pub fn root(&self) -> &Unit {
        self.units
            .iter()
            .find(|u| u.kind == UnitKind::District)
            .expect("a parsed district has its root")
    }

    /// Units of one kind, in the file's order.
    pub fn of_kind(&self, kind: UnitKind) -> impl Iterator<Item = &Unit> {
        self.units.iter().filter(move |u| u.kind == kind)
    }

    /// The community a station stands in.
    pub fn community_of_station(&self, station: &str) -> Option<&Unit> {
        let u = self.unit(station)?;
        (u.kind == UnitKind::Station)
            .then(|| u.parent.as_deref().and_then(|p| self.unit(p)))
            .flatten()
    }

    /// The street a unit is in (a street is in itself; a community, a station: its street).
    pub fn street_of(&self, id: &str) -> Option<&Unit> {
        let mut u = self.unit(id)?;
        loop {
            match u.kind {
                UnitKind::Street => return Some(u),
                UnitKind::Community | UnitKind::Station => u = self.unit(u.parent.as_deref()?)?,
                UnitKind::District | UnitKind::Department => return None,
            }
        }
    }

    /// The stations under `id`: a street's (through its communities) or a community's; none
    /// for any other unit.
    pub fn stations_under(&self, id: &str) -> Vec<String> {
        self.of_kind(UnitKind::Station)
            .filter(|s| {
                s.parent.as_deref() == Some(id)
                    || self.street_of(&s.id).is_some_and(|st| st.id == id)
            })
            .map(|s| s.id.clone())
            .collect()
    }

    /// The unit a new case should go to, and why; `None` when no rule matches and the station
    /// is not in the tree (the dispatcher decides).
    pub fn suggest_route(
        &self,
        service: &str,
        subtype: &str,
        station: &str,
    ) -> Option<(String, RouteReason)> {
        let street = self.street_of(station).map(|s| s.id.as_str());
        let best = self
            .routes
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.service == service
                    && r.subtype.as_deref().is_none_or(|s| s == subtype)
                    && r.street.as_deref().is_none_or(|s| Some(s) == street)
            })
            // The most specific wins; among equals, the first in the file.
            .min_by_key(|(i, r)| (std::cmp::Reverse(r.specificity()), *i));
        match best {
            Some((i, r)) => Some((r.unit.clone(), RouteReason::Rule(i))),
            None => self
                .community_of_station(station)
                .map(|c| (c.id.clone(), RouteReason::Community)),
        }
    }

    /// The routing rules, in the file's order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// A case's handling class: emergency for a high risk, urgent for an elevated one, else the
    /// first class rule that matches, else general.
    pub fn class_for(
        &self,
        service: &str,
        subtype: &str,
        answers: &[(String, String)],
        risk: RiskLevel,
    ) -> HandlingClass {
        match risk {
            RiskLevel::High => return HandlingClass::Emergency,
            RiskLevel::Elevated => return HandlingClass::Urgent,
            RiskLevel::Normal => {}
        }
        self.classes
            .iter()
            .find(|c| {
                c.service == service
                    && c.subtype.as_deref().is_none_or(|s| s == subtype)
                    && c.answer
                        .as_ref()
                        .is_none_or(|(q, o)| answers.iter().any(|(aq, ao)| aq == q && ao == o))
            })
            .map_or(HandlingClass::General, |c| c.class)
    }

    /// A class's deadlines.
    pub fn deadlines(&self, class: HandlingClass) -> Deadlines {
        self.deadlines[&class]
    }

    /// What a community's order numbers start with: its `order_prefix`, else its Chinese name
    /// without `社区`.
    pub fn order_prefix(&self, community: &str) -> Option<String> {
        let u = self.unit(community)?;
        (u.kind == UnitKind::Community).then(|| {
            u.order_prefix
                .clone()
                .unwrap_or_else(|| u.name.zh.trim_end_matches("社区").to_owned())
        })
    }
}

/// An order's number: `光明北发令〔2026〕0042号`.
pub fn order_number(prefix: &str, year: i32, serial: i64) -> String {
    format!("{prefix}发令〔{year}〕{serial:04}号")
}

fn default_deadlines() -> BTreeMap<HandlingClass, Deadlines> {
    let d = |a: Span, r: Span| Deadlines {
        accept: a,
        resolve: r,
    };
    BTreeMap::from([
        (
            HandlingClass::Emergency,
            d(Span::Minutes(30), Span::Minutes(120)),
        ),
        (
            HandlingClass::Urgent,
            d(Span::Minutes(120), Span::Minutes(24 * 60)),
        ),
        (
            HandlingClass::General,
            d(Span::WorkingMinutes(240), Span::WorkingDays(7)),
        ),
        (
            HandlingClass::Complex,
            d(Span::WorkingDays(1), Span::WorkingDays(15)),
        ),
    ])
}

fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn check_point(lon: f64, lat: f64) -> Result<(), String> {
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(format!(
            "[{lon}, {lat}] is not [longitude, latitude] (−180…180, −90…90)"
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    #[serde(default)]
    unit: Vec<Spanned<UnitForm>>,
    #[serde(default)]
    route: Vec<Spanned<RouteForm>>,
    #[serde(default)]
    class: Vec<Spanned<ClassForm>>,
    #[serde(default)]
    deadlines: Option<Spanned<BTreeMap<String, DeadlinesForm>>>,
    #[serde(default)]
    scorecard: Option<Spanned<ScorecardForm>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScorecardForm {
    weights: WeightsForm,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightsForm {
    response: u32,
    resolution: u32,
    satisfaction: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitForm {
    id: String,
    kind: String,
    name: Localized,
    parent: Option<String>,
    location: Option<[f64; 2]>,
    boundary: Option<Vec<[f64; 2]>>,
    order_prefix: Option<String>,
    webhook: Option<WebhookForm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookForm {
    url: String,
    format: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteForm {
    service: String,
    subtype: Option<String>,
    street: Option<String>,
    unit: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassForm {
    service: String,
    subtype: Option<String>,
    answer: Option<String>,
    class: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlinesForm {
    accept: String,
    resolve: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streets_stations_are_its_communities_and_a_departments_none() {
        let d = District::demo();
        assert_eq!(d.stations_under("gm-north"), ["demo", "gm-north-mall"]);
        assert_eq!(
            d.stations_under("guangming"),
            [
                "demo",
                "gm-north-mall",
                "gm-south-site",
                "gm-south-hospital"
            ]
        );
        assert!(d.stations_under("housing").is_empty());
    }

    #[test]
    fn the_scorecards_weights_come_from_the_file_and_must_add_up_to_a_hundred() {
        assert_eq!(
            District::demo().weights(),
            crate::scorecard::Weights::default()
        );
        let base = District::demo_text();
        let set = |w: &str| District::parse(&format!("{base}\n[scorecard]\nweights = {w}\n"));
        let d = set("{ response = 20, resolution = 50, satisfaction = 30 }").unwrap();
        assert_eq!(
            (
                d.weights().response,
                d.weights().resolution,
                d.weights().satisfaction
            ),
            (20, 50, 30)
        );
        let e = set("{ response = 20, resolution = 50, satisfaction = 20 }").unwrap_err();
        assert!(e.problem.contains("add up to 90"), "{}", e.problem);
        assert_eq!(e.line, base.lines().count() + 2, "the line of [scorecard]");
        let e = set("{ response = 20, resolution = 80 }").unwrap_err();
        assert!(e.problem.contains("satisfaction"), "{}", e.problem);
    }

    #[test]
    fn the_demo_district_is_one_plus_two_plus_four_plus_six_and_five_departments() {
        let d = District::demo();
        let count = |k| d.of_kind(k).count();
        assert_eq!(count(UnitKind::District), 1);
        assert_eq!(count(UnitKind::Street), 2);
        assert_eq!(count(UnitKind::Community), 4);
        assert_eq!(count(UnitKind::Station), 6);
        assert_eq!(count(UnitKind::Department), 5);
        assert_eq!(d.root().id, "demo-district");
        // Departments hang under the district without saying so.
        assert_eq!(
            d.unit("housing").unwrap().parent.as_deref(),
            Some("demo-district")
        );
        assert_eq!(d.community_of_station("demo").unwrap().id, "gm-north");
        assert_eq!(d.street_of("demo").unwrap().id, "guangming");
        assert_eq!(d.street_of("dh-two").unwrap().id, "donghu");
        assert_eq!(d.street_of("housing"), None);
        assert_eq!(d.order_prefix("gm-north").as_deref(), Some("光明北"));
        assert_eq!(d.order_prefix("housing"), None);
        assert_eq!(order_number("光明北", 2026, 42), "光明北发令〔2026〕0042号");
    }

    #[test]
    fn a_case_goes_to_the_most_specific_rule_else_to_its_community() {
        let text = format!(
            "{}\n[[route]]\nservice = \"complaint\"\nsubtype = \"wages_owed\"\nstreet = \"donghu\"\nunit = \"dh-one\"\n",
            District::demo_text()
        );
        let d = District::parse(&text).unwrap();
        let (unit, why) = d.suggest_route("complaint", "wages_owed", "demo").unwrap();
        assert_eq!((unit.as_str(), why), ("labour", RouteReason::Rule(0)));
        // From a station in Donghu the street's own rule is more specific.
        let (unit, _) = d
            .suggest_route("complaint", "wages_owed", "dh-two-mall")
            .unwrap();
        assert_eq!(unit, "dh-one");
        // A rule without a subtype covers every subtype of its service.
        assert_eq!(
            d.suggest_route("legal", "labour", "demo").unwrap().0,
            "justice"
        );
        // Nobody's: the station's community (兜底).
        assert_eq!(
            d.suggest_route("assistance", "elderly", "gm-south-site")
                .unwrap(),
            ("gm-south".to_owned(), RouteReason::Community)
        );
        // An unknown station and no rule: the dispatcher decides.
        assert_eq!(d.suggest_route("assistance", "elderly", "elsewhere"), None);
    }

    #[test]
    fn the_class_follows_risk_then_the_rules_then_general() {
        let d = District::demo();
        let ten = vec![("workers".to_owned(), "10_29".to_owned())];
        let me = vec![("workers".to_owned(), "just_me".to_owned())];
        use HandlingClass::*;
        assert_eq!(
            d.class_for("complaint", "wages_owed", &ten, RiskLevel::Normal),
            Complex
        );
        assert_eq!(
            d.class_for("complaint", "wages_owed", &me, RiskLevel::Normal),
            General
        );
        assert_eq!(
            d.class_for("complaint", "wages_owed", &ten, RiskLevel::Elevated),
            Urgent
        );
        assert_eq!(
            d.class_for("complaint", "noise", &[], RiskLevel::High),
            Emergency
        );
        assert_eq!(
            d.class_for("complaint", "land", &[], RiskLevel::Normal),
            Complex
        );
        assert_eq!(d.deadlines(General).accept, Span::WorkingMinutes(240));
        assert_eq!(d.deadlines(Complex).resolve, Span::WorkingDays(15));
        assert_eq!(d.deadlines(Emergency).accept, Span::Minutes(30));
    }

    #[test]
    fn deadlines_can_be_set_per_class() {
        let text = format!(
            "{}\n[deadlines]\ngeneral = {{ accept = \"2wh\", resolve = \"5wd\" }}\n",
            District::demo_text()
        );
        let d = District::parse(&text).unwrap();
        assert_eq!(
            d.deadlines(HandlingClass::General).resolve,
            Span::WorkingDays(5)
        );
        assert_eq!(
            d.deadlines(HandlingClass::Urgent).resolve,
            Span::Minutes(24 * 60)
        );
    }

    #[test]
    fn a_bad_district_file_names_its_line_and_what_is_wrong() {
        let base =
            "[[unit]]\nid = \"d\"\nkind = \"district\"\nname = { zh = \"区\", en = \"D\" }\n";
        let unit = |body: &str| format!("{base}\n[[unit]]\n{body}\n");
        let cases: Vec<(String, usize, &str)> = vec![
            (unit("id = \"s\"\nkind = \"street\"\nname = { zh = \"街\", en = \"S\" }\nparent = \"nowhere\""), 6, "no unit of this file"),
            (unit("id = \"c\"\nkind = \"community\"\nname = { zh = \"社\", en = \"C\" }\nparent = \"d\""), 6, "hangs under a street"),
            (unit("id = \"c\"\nkind = \"community\"\nname = { zh = \"社\", en = \"C\" }"), 6, "needs its `parent`"),
            (unit("id = \"s\"\nkind = \"village\"\nname = { zh = \"村\", en = \"V\" }"), 6, "kind `village`"),
            (unit("id = \"d\"\nkind = \"street\"\nname = { zh = \"街\", en = \"S\" }\nparent = \"d\""), 6, "used twice"),
            (unit("id = \"bad id\"\nkind = \"street\"\nname = { zh = \"街\", en = \"S\" }"), 6, "not an id"),
            (unit("id = \"s\"\nkind = \"street\"\nname = { zh = \"街\", en = \"\" }\nparent = \"d\""), 6, "both `zh` and `en`"),
            (unit("id = \"s\"\nkind = \"street\"\nname = { zh = \"街\", en = \"S\" }\nparent = \"d\"\nlocation = [1.0, 2.0]"), 6, "only a station"),
            (unit("id = \"s\"\nkind = \"street\"\nname = { zh = \"街\", en = \"S\" }\nparent = \"d\"\ncolour = \"red\""), 11, "unknown field `colour`"),
            (unit("id = \"x\"\nkind = \"department\"\nname = { zh = \"局\", en = \"B\" }\nwebhook = { url = \"ftp://x\" }"), 6, "http:// or https://"),
            (unit("id = \"x\"\nkind = \"department\"\nname = { zh = \"局\", en = \"B\" }\nwebhook = { url = \"http://x\", format = \"sms\" }"), 6, "`sms`"),
            (format!("{base}\n[[route]]\nservice = \"legal\"\nunit = \"d\"\n"), 6, "a community or a department"),
            (format!("{base}\n[[route]]\nservice = \"legal\"\nunit = \"ghost\"\n"), 6, "no unit of this district"),
            (format!("{base}\n[[class]]\nservice = \"legal\"\nclass = \"slow\"\n"), 6, "class `slow`"),
            (format!("{base}\n[[class]]\nservice = \"legal\"\nanswer = \"workers\"\nclass = \"complex\"\n"), 6, "question=option"),
            (format!("{base}\n[deadlines]\ngeneral = {{ accept = \"4x\", resolve = \"7wd\" }}\n"), 6, "deadlines.general.accept"),
            ("[[unit]]\nid = \"s\"\nkind = \"street\"\nname = { zh = \"街\", en = \"S\" }\n".to_owned(), 1, "exactly one unit of kind `district`"),
            (format!("{base}\n[[unit]]\nid = \"c\"\nkind = \"community\"\nname = {{ zh = \"社\", en = \"C\" }}\nparent = \"d\"\nboundary = [[1.0, 1.0], [2.0, 1.0], [1.0, 1.0]]\n"), 6, "closed ring"),
        ];
        for (text, line, problem) in cases {
            let err = District::parse(&text).unwrap_err();
            assert!(err.to_string().contains(problem), "{text}\n→ {err}");
            assert_eq!(err.line, line, "{text}\n→ {err}");
        }
    }
}
