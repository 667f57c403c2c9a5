//! Cases seen through Open311: every case has a `service_request_id` (a number the hub hands
//! out, whichever door the case came in by), and these queries read cases by it.

use chrono::{DateTime, Utc};

use crate::clock::stamp;
use crate::validate::{is_bidi_control, stored_instant};
use protocol::CaseState;

use super::sql::{args, Db, Row, Value};
use super::{state_from_db, HubStoreError};

/// A case as an Open311 request: no personal data (the form's address is kept, it names where
/// the problem is, and for a kiosk it is the station's address).
///
/// Read from rows it cannot trust: a state, a time or a form that does not read back is `None`
/// (and logged), so one damaged row never takes a list down with it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RequestRecord {
    pub(crate) service_request_id: i64,
    pub(crate) token: String,
    pub(crate) station_id: String,
    pub(crate) service: String,
    /// `None`: the stored state is none the hub knows.
    pub(crate) state: Option<CaseState>,
    pub(crate) department: Option<String>,
    pub(crate) expected_at: Option<DateTime<Utc>>,
    /// `None`: the stored time is unreadable or outside the years 0000–9999.
    pub(crate) filed_at: Option<DateTime<Utc>>,
    pub(crate) updated_at: Option<DateTime<Utc>>,
    /// The newest note on the timeline.
    pub(crate) latest_note: Option<String>,
    /// Whether the case came in through Open311 (it has a stored form), not the native API.
    pub(crate) open311: bool,
    /// `address_string`, `lat`, `long` and `media_url` as the Open311 client sent them.
    pub(crate) address: Option<String>,
    pub(crate) lat: Option<String>,
    pub(crate) long: Option<String>,
    pub(crate) media_url: Option<String>,
}

/// Which requests `GET requests` wants.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RequestFilter {
    /// When given, only these (and no other filter applies).
    pub(crate) ids: Option<Vec<i64>>,
    pub(crate) service_codes: Option<Vec<String>>,
    /// `Some(true)` closed only, `Some(false)` open only.
    pub(crate) closed: Option<bool>,
    pub(crate) start: Option<DateTime<Utc>>,
    pub(crate) end: Option<DateTime<Utc>>,
    pub(crate) limit: u32,
}

const SELECT: &str = "SELECT o.service_request_id, c.token, c.station_id, c.service, c.state,
        c.department, c.expected_at, c.filed_at, c.updated_at,
        (SELECT e.note FROM case_events e WHERE e.case_id = c.id AND e.note IS NOT NULL
         ORDER BY e.id DESC LIMIT 1),
        o.form
    FROM cases c JOIN open311_requests o ON o.case_id = c.id";

pub(crate) fn by_id(db: &mut dyn Db, id: i64) -> Result<Option<RequestRecord>, HubStoreError> {
    db.row(
        &format!("{SELECT} WHERE o.service_request_id = ?1"),
        args![id],
    )?
    .map(|r| raw(&r).map(record))
    .transpose()
}

/// The request number of the case with this canonical tracking code.
pub(crate) fn id_for_token(db: &mut dyn Db, token: &str) -> Result<Option<i64>, HubStoreError> {
    db.row(
        "SELECT o.service_request_id FROM cases c
         JOIN open311_requests o ON o.case_id = c.id WHERE c.token = ?1",
        args![token],
    )?
    .map(|r| r.int(0))
    .transpose()
}

pub(crate) fn list(
    db: &mut dyn Db,
    filter: &RequestFilter,
) -> Result<Vec<RequestRecord>, HubStoreError> {
    let mut clauses: Vec<String> = Vec::new();
    let (start, end) = (filter.start.map(stamp), filter.end.map(stamp));
    let mut values: Vec<Value<'_>> = Vec::new();
    // Numbered placeholders, the next `n` of them.
    let placeholders = |values: &Vec<Value<'_>>, n: usize| {
        (values.len() + 1..=values.len() + n)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(ids) = &filter.ids {
        clauses.push(format!(
            "o.service_request_id IN ({})",
            placeholders(&values, ids.len())
        ));
        values.extend(ids.iter().map(|&i| Value::Int(i)));
    } else {
        if let Some(codes) = &filter.service_codes {
            clauses.push(format!(
                "c.service IN ({})",
                placeholders(&values, codes.len())
            ));
            values.extend(codes.iter().map(|c| Value::Text(c)));
        }
        match filter.closed {
            Some(true) => clauses.push("c.state IN ('resolved', 'closed_unresolved')".into()),
            Some(false) => clauses.push("c.state NOT IN ('resolved', 'closed_unresolved')".into()),
            None => {}
        }
        if let Some(start) = &start {
            clauses.push(format!("c.filed_at >= {}", placeholders(&values, 1)));
            values.push(Value::Text(start));
        }
        if let Some(end) = &end {
            clauses.push(format!("c.filed_at <= {}", placeholders(&values, 1)));
            values.push(Value::Text(end));
        }
    }
    let mut sql = SELECT.to_owned();
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    sql.push_str(&format!(
        " ORDER BY o.service_request_id DESC LIMIT {}",
        placeholders(&values, 1)
    ));
    values.push(Value::Int(i64::from(filter.limit)));
    db.rows(&sql, &values)?
        .iter()
        .map(|r| raw(r).map(record))
        .collect()
}

type Raw = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn raw(r: &Row) -> Result<Raw, HubStoreError> {
    Ok((
        r.int(0)?,
        r.text(1)?,
        r.text(2)?,
        r.text(3)?,
        r.text(4)?,
        r.opt_text(5)?,
        r.opt_text(6)?,
        r.text(7)?,
        r.text(8)?,
        r.opt_text(9)?,
        r.opt_text(10)?,
    ))
}

fn record(raw: Raw) -> RequestRecord {
    let (id, token, station_id, service, state, department, expected, filed, updated, note, form) =
        raw;
    let damaged = |what: &str| {
        tracing::warn!(
            service_request_id = id,
            what,
            "open311: a request's row does not read back; shown without it"
        );
    };
    let open311 = form.is_some();
    let fields: Vec<(String, String)> = match form {
        Some(text) => serde_json::from_str(&text).unwrap_or_else(|_| {
            damaged("form");
            Vec::new()
        }),
        None => Vec::new(),
    };
    // The form was checked at the door; what is read back is still cleaned of
    // bidirectional controls, as every page does.
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| {
                v.chars()
                    .filter(|&c| !is_bidi_control(c))
                    .collect::<String>()
            })
    };
    let time = |what: &str, text: &str| {
        let at = stored_instant(text);
        if at.is_none() {
            damaged(what);
        }
        at
    };
    let state = state_from_db(&state).ok();
    if state.is_none() {
        damaged("state");
    }
    RequestRecord {
        service_request_id: id,
        token,
        station_id,
        service,
        state,
        department,
        expected_at: expected.as_deref().and_then(|t| time("expected_at", t)),
        filed_at: time("filed_at", &filed),
        updated_at: time("updated_at", &updated),
        latest_note: note,
        open311,
        address: field("address_string"),
        lat: field("lat"),
        long: field("long"),
        media_url: field("media_url"),
    }
}
