//! What every HTML page of the hub shares: escaping, the security headers, the stylesheet, and
//! times shown in China Standard Time.
//!
//! Pages are built as strings from escaped parts; no text from a request or the database
//! reaches a page without [`escape`]. The Content-Security-Policy allows the hub's own
//! stylesheet and nothing else: no script, no frame, no form posting elsewhere.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveTime, TimeZone, Utc, Weekday};
use domain::Language;

/// The stylesheet's path (served by the router).
pub(crate) const STYLESHEET_PATH: &str = "/assets/hub.css";

pub(crate) const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Escapes text for HTML element content and quoted attribute values, and drops bidirectional
/// override and isolate characters, which the hub refuses at its door but a row written
/// before (or by other means) may still hold: a page never reads otherwise than it is written.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if crate::validate::is_bidi_control(c) => {}
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page that must not be indexed, cached, framed, sniffed or leak its URL onwards.
pub(crate) fn private_page(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        "x-robots-tag",
        HeaderValue::from_static("noindex, nofollow"),
    );
    response
}

/// The head of a page and the opening of its body: language ([`html_lang`]), phone-width
/// viewport, `noindex`.
/// `body_class` picks the page's look in the stylesheet (`tracking` or `operator`).
pub(crate) fn page_start(
    lang: Language,
    title: &str,
    extra_head: &str,
    body_class: &str,
) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex, nofollow\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n{extra_head}\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\n\
         </head>\n<body class=\"{body_class}\">\n",
        lang = html_lang(lang),
        title = escape(title),
        body_class = escape(body_class),
    )
}

pub(crate) const PAGE_END: &str = "</body>\n</html>\n";

/// The language switch: every language the hub speaks, each by its own name, as links that
/// change only the query, so a page never echoes its URL. `keep` is what the links carry on
/// besides the language (the operator page's `token`, so a wall screen stays signed in).
pub(crate) fn language_switch(current: Language, keep: &[(&str, &str)]) -> String {
    let links: Vec<String> = Language::ALL
        .into_iter()
        .map(|lang| {
            let label = lang.own_name();
            if lang == current {
                format!("<strong>{label}</strong>")
            } else {
                let mut pairs = vec![("lang", lang.code())];
                pairs.extend_from_slice(keep);
                format!(
                    "<a href=\"{}\" hreflang=\"{}\">{label}</a>",
                    query_href(&pairs),
                    lang.code()
                )
            }
        })
        .collect();
    format!("<nav class=\"lang\">{}</nav>\n", links.join(" · "))
}

/// A link that changes only the query: `?a=1&amp;b=2`, every value percent-encoded and the
/// whole escaped for an attribute.
pub(crate) fn query_href(pairs: &[(&str, &str)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect();
    escape(&format!("?{}", query.join("&")))
}

/// Every byte but the unreserved (`A-Z a-z 0-9 - . _ ~`) as `%XX`.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A page's `<html lang>`: the language's code, Simplified Chinese as `zh-CN` (what the pages
/// have always said; a browser picks its Chinese font by it).
pub(crate) fn html_lang(lang: Language) -> &'static str {
    if lang == Language::Zh {
        "zh-CN"
    } else {
        lang.code()
    }
}

/// China Standard Time (UTC+8): the stations' local time, the zone every page states it uses.
pub(crate) fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// An instant as a date and time in China Standard Time.
pub(crate) fn china_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&china())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The time of day alone, `HH:MM`, in China Standard Time.
pub(crate) fn china_clock(at: DateTime<Utc>) -> String {
    at.with_timezone(&china()).format("%H:%M").to_string()
}

/// The date alone, `YYYY-MM-DD`, and its day of the week, in China Standard Time.
pub(crate) fn china_date(at: DateTime<Utc>) -> (String, Weekday) {
    let local = at.with_timezone(&china());
    (local.format("%Y-%m-%d").to_string(), local.weekday())
}

/// The local day (China Standard Time) that `at` falls in, as `[start, end)` in UTC.
pub(crate) fn china_day(at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let date = at.with_timezone(&china()).date_naive();
    let start = china()
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .expect("a fixed offset maps every local time to one instant")
        .with_timezone(&Utc);
    (start, start + Duration::days(1))
}

/// The hub's stylesheet: phone first, large type (20 px, and it grows with the browser's own
/// text size), strong contrast, no web fonts: the CJK font stack names what iOS, Android,
/// Windows and Linux (`fonts-wqy-microhei`, `fonts-noto-cjk`) carry.
pub(crate) const STYLESHEET: &str = r#"
:root { color-scheme: light; }
html { font-size: 125%; -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
* { box-sizing: border-box; }
body { margin: 0; background: #f2f2ef; color: #111; line-height: 1.6;
  font-family: system-ui, -apple-system, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
  "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif; }
main { max-width: 34rem; margin: 0 auto; padding: 0.5rem 1rem 2rem; }
h1 { font-size: 1.5rem; line-height: 1.3; margin: 0.25rem 0 0.75rem; }
h2 { font-size: 1.2rem; line-height: 1.3; margin: 1.75rem 0 0.6rem; }
p { margin: 0 0 0.5rem; }
a { color: #0645ad; }
.lang { text-align: right; }
.lang a, .lang strong { display: inline-block; padding: 0.35rem 0.4rem; }
.label, dt, time, .small { font-size: 0.9em; color: #3d3d3d; }
.small { line-height: 1.5; }
.nowrap { white-space: nowrap; }
.code { margin: 0 0 1rem; }
.code .label { display: block; }
.code strong { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono",
  monospace; font-size: 1.1em; letter-spacing: 0.03em; overflow-wrap: anywhere; }
.card { background: #fff; border-radius: 0.5rem; padding: 0.75rem 1rem;
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.15); }
dl { margin: 0; }
dd { margin: 0 0 0.6rem; font-weight: 700; overflow-wrap: anywhere; }
dd:last-child { margin-bottom: 0; }

/* The tracking page: the state first, in colour, with a dot that is not colour alone. */
.status { border-top: 0.5rem solid #1a5fb4; }
.status .label { margin: 0; }
.status .state { margin: 0 0 0.6rem; font-size: 1.8rem; font-weight: 700; line-height: 1.3;
  color: #1a5fb4; }
.status .state::before { content: ""; display: inline-block; width: 0.55em; height: 0.55em;
  margin-right: 0.3em; border-radius: 50%; background: currentColor; vertical-align: 0.08em; }
.status.done { border-color: #1d7a46; }
.status.done .state { color: #1d7a46; }
.status.unresolved { border-color: #8f4f00; }
.status.unresolved .state { color: #8f4f00; }
.status dl { border-top: 1px solid #d6d6d0; padding-top: 0.6rem; }
ol.timeline { list-style: none; margin: 0 0 0 0.45rem; padding: 0 0 0 1.2rem;
  border-left: 0.2rem solid #c4c4bd; }
ol.timeline li { position: relative; background: #fff; border-radius: 0.5rem;
  padding: 0.6rem 1rem; margin: 0 0 0.75rem; box-shadow: 0 1px 3px rgba(0, 0, 0, 0.15); }
ol.timeline li:last-child { margin-bottom: 0; }
ol.timeline li::before { content: ""; position: absolute; left: -1.75rem; top: 0.9rem;
  width: 0.9rem; height: 0.9rem; border-radius: 50%; background: #8d8d86;
  border: 0.15rem solid #f2f2ef; }
ol.timeline li.latest::before { background: #1a5fb4; }
ol.timeline li.latest.done::before { background: #1d7a46; }
ol.timeline li.latest.unresolved::before { background: #8f4f00; }
.step { margin: 0; font-size: 1.1em; font-weight: 700; }
time { display: block; }
.who { margin: 0.2rem 0 0; font-weight: 600; }
.note { margin: 0.3rem 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
li .small { margin: 0.3rem 0 0; }
footer { margin-top: 1.75rem; }

/* The operator page: a desktop or wall screen, tables, red where someone must act. */
body.operator { font-size: 0.85rem; }
.operator main { max-width: none; padding: 0.5rem 1.5rem 2rem; }
.operator h2 { font-size: 1.3em; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border: 1px solid #c8c8c2; padding: 0.35rem 0.5rem; text-align: left;
  vertical-align: top; }
th { background: #e6e6e1; }
.operator th, .operator td { white-space: nowrap; }
.operator td.wrap { white-space: normal; }
.alert, .all-clear { margin: 1rem 0; border-radius: 0.4rem; overflow: hidden; }
.alert { background: #fde8e8; border: 3px solid #c01c28; }
.alert h2 { margin: 0; padding: 0.5rem 1rem; background: #c01c28; color: #fff; }
.alert table, .alert p { margin: 0.75rem 1rem; width: calc(100% - 2rem); }
.alert td { background: #fff7f7; }
/* On a phone a table wider than the screen scrolls sideways, inside its box, rather than be
   cut off at the box's edge or push the page wider. */
@media (max-width: 900px) {
  .operator main { padding: 0.5rem 0.75rem 2rem; }
  .operator table { display: block; overflow-x: auto; }
}
/* The audit log: a table on a desk, each line a block of its own on a phone. */
table.log td.at { white-space: nowrap; }
@media (max-width: 40rem) {
  table.log, table.log tbody, table.log tr, table.log td { display: block; border: 0; }
  table.log tr.head { display: none; }
  table.log tr { padding: 0.4rem 0.6rem; border-bottom: 1px solid #c8c8c2; }
  table.log td { padding: 0.05rem 0; }
  table.log td.at { font-size: 0.85em; color: #3d3d3d; }
}
.all-clear { background: #e9f5ec; border: 2px solid #1d7a46; }
.all-clear h2 { margin: 0; padding: 0.5rem 1rem; color: #1d7a46; }
.all-clear p { margin: 0 1rem 0.75rem; }
.stale, .warn { color: #a51d2d; font-weight: 700; }

/* A queue ticket and a booking: the number or the time, very large, first. */
.ticket-number { margin: 0.1rem 0 0.3rem; font-size: 4rem; font-weight: 800; line-height: 1.1;
  letter-spacing: 0.06em; font-variant-numeric: tabular-nums; }
.when { margin: 0.1rem 0 0.5rem; font-size: 1.6rem; font-weight: 700; line-height: 1.3; }
.ahead { margin: 0 0 0.3rem; font-size: 1.4rem; font-weight: 700; }
.wait { margin: 0 0 0.3rem; font-size: 1.15rem; }
.advice { margin: 1rem 0 0; padding: 0.75rem 1rem; background: #fff8e1;
  border-left: 0.35rem solid #8f4f00; border-radius: 0.3rem; }
.status.called { border-color: #1d7a46; }
.status.called .state { color: #1d7a46; }
.status.finished { border-color: #5e5e5a; }
.status.finished .state { color: #3d3d3d; }
.ok { color: #1d7a46; font-weight: 600; }

/* The back office: phone first, large targets, red where a deadline has passed. */
.office main { max-width: 46rem; }
.office main.wide { max-width: none; }
.office main.narrow { max-width: 24rem; }
header.bar { display: flex; flex-wrap: wrap; gap: 0.3rem 0.8rem; align-items: center;
  padding: 0.4rem 1rem; background: #1a3a5f; color: #fff; font-size: 0.85rem; }
header.bar a { color: #fff; font-weight: 700; margin-right: 0.8rem; }
header.bar form { margin: 0 0 0 auto; }
header.bar button { min-height: 2.2rem; background: transparent; color: #fff; border-color: #fff; }
button, select, input, textarea { font: inherit; }
button { min-height: 2.75rem; padding: 0.35rem 1rem; border-radius: 0.4rem;
  border: 1px solid #767670; background: #fff; color: #111; cursor: pointer; }
button.primary { background: #1a5fb4; border-color: #1a5fb4; color: #fff; font-weight: 700; }
input, select, textarea { display: block; width: 100%; min-height: 2.75rem; margin-top: 0.2rem;
  padding: 0.35rem 0.5rem; border: 1px solid #767670; border-radius: 0.3rem; background: #fff; }
label { display: block; font-weight: 600; }
.stack > * + * { margin-top: 0.6rem; }
.stack h3 { margin: 0; font-size: 1.05rem; }
form.card { margin: 0 0 0.75rem; }
form.inline { display: inline-block; margin: 0 0.4rem 0.4rem 0; }
.actions { margin: 0.75rem 0; }
.row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: flex-end; margin-top: 0.5rem; }
.row .grow { flex: 1 1 12rem; }
ul.cases { list-style: none; padding: 0; margin: 0; }
li.case { background: #fff; border-radius: 0.5rem; padding: 0.6rem 1rem; margin: 0 0 0.75rem;
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.15); border-left: 0.4rem solid #1a5fb4; }
li.case.high { border-left-color: #c01c28; }
li.case.overdue { border-left-color: #c01c28; background: #fff7f7; }
li.case p { margin: 0.2rem 0 0; }
.case-link { text-decoration: none; }
.case-link strong { font-size: 1.1em; text-decoration: underline; }
.code-small { color: #3d3d3d; font-family: ui-monospace, Menlo, Consolas, monospace; }
.deadline { font-weight: 600; }
.count { display: inline-block; min-width: 1.6em; padding: 0 0.45em; border-radius: 0.8em;
  background: #1a5fb4; color: #fff; font-size: 0.8em; text-align: center; vertical-align: 0.1em; }
.error { background: #fde8e8; border-left: 0.35rem solid #c01c28; padding: 0.5rem 0.75rem;
  font-weight: 700; }
.personal { background: #fff8e1; border: 2px solid #8f4f00; border-radius: 0.5rem;
  padding: 0.5rem 1rem; margin: 1rem 0; }
.personal h2 { margin-top: 0.25rem; }
.sr { position: absolute; left: -9999px; }
.scroll { overflow-x: auto; }
/* The citizen's rating: three answers as large buttons. */
.rating { margin-top: 1rem; }
.rating h2 { margin-top: 0; }
details.more { margin: 0.75rem 0; }
details.more summary { min-height: 2.75rem; padding: 0.5rem 0; font-weight: 700; cursor: pointer; color: #0645ad; }
button.big { display: block; width: 100%; min-height: 3.25rem; font-size: 1.15rem; font-weight: 700; }
.rating form { margin-top: 0.5rem; }

/* The leaders' page: numbers as big tiles that open their lists, one column on a phone and
   three on a wall screen; the map and the chart shrink to the column's width. */
.board h1 .small { font-weight: 400; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(7.5rem, 1fr));
  gap: 0.6rem; margin: 0 0 1rem; }
a.tile { display: block; background: #fff; border-radius: 0.5rem; padding: 0.6rem 0.9rem;
  text-decoration: none; color: #111; box-shadow: 0 1px 3px rgba(0, 0, 0, 0.15);
  border-top: 0.35rem solid #1a5fb4; }
a.tile .value { display: block; font-size: 2.1rem; font-weight: 800; line-height: 1.15; }
a.tile .label { display: block; color: #3d3d3d; font-size: 0.95rem; }
a.tile.warn-tile { border-top-color: #c01c28; }
a.tile.warn-tile .value { color: #c01c28; }
.columns { display: grid; grid-template-columns: 1fr; gap: 0 1.5rem; }
@media (min-width: 70rem) { .columns { grid-template-columns: 1.1fr 1fr 1fr; }
  .board h2:first-child, .columns > div > section:first-child h2 { margin-top: 0.5rem; } }
.columns > div { min-width: 0; }
svg.map, svg.trend { display: block; width: 100%; height: auto; background: #fff;
  border-radius: 0.5rem; box-shadow: 0 1px 3px rgba(0, 0, 0, 0.15); }
svg.map a:focus polygon, svg.map a:hover polygon { stroke: #111; }
ul.legend { list-style: none; padding: 0; margin: 0.5rem 0; display: flex; flex-wrap: wrap;
  gap: 0.2rem 1rem; font-size: 0.9rem; }
svg.swatch { display: inline-block; width: 1.1em; height: 1.1em; margin-right: 0.3em;
  vertical-align: -0.15em; }
ol.risk-list { padding-left: 1.4rem; margin: 0.5rem 0; }
ol.risk-list li { margin: 0.3rem 0; }
.score { display: inline-block; min-width: 1.8em; font-weight: 800; }
table.rank { width: 100%; border-collapse: collapse; background: #fff; font-size: 0.9rem; }
table.rank th, table.rank td { padding: 0.35rem 0.3rem; border-bottom: 1px solid #e0e0dc;
  text-align: left; }
table.rank th { font-size: 0.8rem; color: #3d3d3d; white-space: nowrap; }
table.rank .num { text-align: right; white-space: nowrap; width: 3.4em; }
.rank-no { display: inline-block; min-width: 1.1em; font-weight: 800; color: #3d3d3d; }
table.rank tr.flagged td { background: #fde8e8; }
.badge { display: inline-block; padding: 0 0.35em; border-radius: 0.25rem; background: #c01c28;
  color: #fff; font-size: 0.8em; font-weight: 700; }
.ranking h3 { margin: 1rem 0 0.3rem; font-size: 1.05rem; }
.count.red { background: #c01c28; text-decoration: none; }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.plain li { margin: 0.25rem 0; }
ul.plain li.ok { color: #1d7a46; }

/* An order's red-header notice (红头通知): A4 when printed, the seal's place at the foot. */
.notice { background: #fff; padding: 1.5rem 1.25rem; margin: 0 auto 1rem;
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.15);
  font-family: "FangSong", "STFangsong", "Noto Serif CJK SC", "Source Han Serif SC", serif; }
.red-head { margin: 0; color: #c01c28; font-size: 1.7rem; font-weight: 800; line-height: 1.3;
  text-align: center; letter-spacing: 0.08em; }
.doc-number { margin: 0.5rem 0; text-align: center; }
hr.red-rule { border: 0; border-top: 3px solid #c01c28; margin: 0.5rem 0 1.25rem; }
.notice h1 { font-size: 1.25rem; text-align: center; }
.notice .body { text-indent: 2em; }
.seal { margin-top: 2rem; text-align: right; }
.seal p { margin: 0.2rem 0; }
.seal-box { display: inline-block; margin-top: 0.5rem; padding: 1.5rem 2rem;
  border: 2px dashed #c01c28; color: #c01c28; }
@media print {
  @page { size: A4; margin: 2.5cm 2cm; }
  body { background: #fff; }
  header.bar, .lang, .no-print { display: none; }
  .notice { box-shadow: none; padding: 0; font-size: 16pt; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            escape("<script>alert('1')</script> & \"x\""),
            "&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt; &amp; &quot;x&quot;"
        );
    }

    #[test]
    fn bidirectional_overrides_never_reach_a_page() {
        assert_eq!(escape("ab\u{202E}cd\u{2066}e\u{2069}"), "abcde");
        assert_eq!(escape("שלום"), "שלום");
    }

    #[test]
    fn links_carry_the_query_encoded_and_escaped() {
        assert_eq!(
            query_href(&[("lang", "en"), ("token", "a b&c/é")]),
            "?lang=en&amp;token=a%20b%26c%2F%C3%A9"
        );
        let nav = language_switch(Language::Zh, &[("token", "t+1")]);
        assert!(nav.contains("href=\"?lang=en&amp;token=t%2B1\""), "{nav}");
        assert!(language_switch(Language::Zh, &[]).contains("href=\"?lang=en\""));
    }

    #[test]
    fn times_are_shown_eight_hours_ahead_of_utc() {
        let at = DateTime::parse_from_rfc3339("2024-05-01T20:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(china_time(at), "2024-05-02 04:30");
        assert_eq!(china_clock(at), "04:30");
        assert_eq!(china_date(at), ("2024-05-02".to_owned(), Weekday::Thu));
    }

    #[test]
    fn the_local_day_runs_from_midnight_in_china() {
        let at = DateTime::parse_from_rfc3339("2024-05-01T20:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let (start, end) = china_day(at);
        assert_eq!(start.to_rfc3339(), "2024-05-01T16:00:00+00:00");
        assert_eq!(end - start, Duration::days(1));
        assert_eq!(china_day(start), (start, end));
        assert_eq!(china_day(end - Duration::seconds(1)), (start, end));
    }
}
