//! A list of cases as CSV for a spreadsheet (DISTRICT.md §9, §11: `GET
//! /api/v1/district/cases.csv` with the API's token, `/cases.csv` from the pages): the same
//! filters and the same scope as the list, and never a resident's phone, words or answers.
//!
//! UTF-8 with a byte-order mark, so that a spreadsheet opened by double-click (Excel, WPS)
//! reads the Chinese as Chinese; CRLF line ends; a field with a comma, a quote or a line end is
//! quoted; a field that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`) is led by a
//! `'`, so opening the file runs nothing.

use chrono::{DateTime, Utc};

use domain::{t, Language};

use crate::server::HubState;
use crate::store::district::DistrictCase;

/// The most rows one export holds; more are reached with `offset`.
pub(crate) const MAX_ROWS: i64 = 50_000;

/// One field, quoted and defused as the module says.
pub(crate) fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn row(out: &mut String, fields: &[&str]) {
    let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map(super::local_minute).unwrap_or_default()
}

/// The cases as a CSV document, headed in `lang`.
pub(crate) fn cases_csv(
    hub: &HubState,
    cases: &[DistrictCase],
    lang: Language,
    now: DateTime<Utc>,
) -> String {
    let district = &hub.config().district;
    let name = |id: &str| {
        district
            .unit(id)
            .map_or(id.to_owned(), |u| u.name.get(lang).to_owned())
    };
    let mut out = String::from("\u{feff}");
    row(
        &mut out,
        &[
            t!(lang, "查询码"),
            t!(lang, "诉求"),
            t!(lang, "状态"),
            t!(lang, "承办单位"),
            t!(lang, "办理类别"),
            t!(lang, "风险"),
            t!(lang, "站点"),
            t!(lang, "提交时间"),
            t!(lang, "签收期限"),
            t!(lang, "办结期限"),
            t!(lang, "csv" => "超期"),
        ],
    );
    for c in cases {
        let risk = match c.risk.as_str() {
            "high" => t!(lang, "高风险"),
            "elevated" => t!(lang, "较高风险"),
            _ => t!(lang, "一般风险"),
        };
        let overdue = if super::api::overdue(c, now) {
            t!(lang, "是")
        } else {
            t!(lang, "否")
        };
        row(
            &mut out,
            &[
                &c.token,
                &super::pages::service_words(hub, c, lang),
                c.stage.label(lang),
                &c.unit.as_deref().map(name).unwrap_or_default(),
                c.class.map_or("", |k| k.label(lang)),
                risk,
                &name(&c.station_id),
                &time(Some(c.filed_at)),
                &time(c.accept_by),
                &time(c.resolve_by),
                overdue,
            ],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn a_field_is_quoted_when_it_must_be_and_a_formula_is_defused() {
        assert_eq!(field("光明北社区"), "光明北社区");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+86"), "'+86");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field(""), "");
    }
}
