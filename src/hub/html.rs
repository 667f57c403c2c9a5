//! What every HTML page of the hub shares: escaping, the security headers, the stylesheet, and
//! times shown in China Standard Time.
//!
//! Pages are built as strings from escaped parts; no text from a request or the database
//! reaches a page without [`escape`]. The Content-Security-Policy allows the hub's own
//! stylesheet and nothing else: no script, no frame, no form posting elsewhere.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};

/// The stylesheet's path (served by the router).
pub const STYLESHEET_PATH: &str = "/assets/hub.css";

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
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
pub fn private_page(status: StatusCode, html: String) -> Response {
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

/// The head of a page and the opening of its body: language, phone-width viewport, `noindex`.
pub fn page_start(html_lang: &str, title: &str, extra_head: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex, nofollow\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n{extra_head}\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\n\
         </head>\n<body>\n",
        lang = escape(html_lang),
        title = escape(title),
    )
}

pub const PAGE_END: &str = "</body>\n</html>\n";

/// The two-language switch: links that change only the query, so a page never echoes its URL.
pub fn language_switch(current: crate::domain::Language) -> String {
    use crate::domain::Language;
    let link = |lang: Language, label: &str| {
        if lang == current {
            format!("<strong>{label}</strong>")
        } else {
            format!(
                "<a href=\"?lang={}\" hreflang=\"{}\">{label}</a>",
                lang.code(),
                lang.code()
            )
        }
    };
    format!(
        "<nav class=\"lang\">{} · {}</nav>\n",
        link(Language::Zh, "中文"),
        link(Language::En, "English")
    )
}

/// China Standard Time, the zone every page states it uses.
pub fn china_time(at: DateTime<Utc>) -> String {
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    at.with_timezone(&cst).format("%Y-%m-%d %H:%M").to_string()
}

/// The hub's stylesheet: phone first, large type, strong contrast, no web fonts.
pub const STYLESHEET: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f4f2; color: #111; font: 18px/1.6 system-ui, -apple-system,
  "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.25rem; margin: 1.5rem 0 0.5rem; }
a { color: #0645ad; }
.lang { text-align: right; font-size: 1rem; }
.code { font-size: 1rem; }
.code strong { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 1.15rem; letter-spacing: 0.05em; word-break: break-all; }
.status { background: #fff; border-left: 0.5rem solid #1a5fb4; padding: 0.75rem 1rem;
  margin: 1rem 0; }
.status.closed { border-color: #26a269; }
.status .label { margin: 0; font-size: 1rem; color: #333; }
.status .state { margin: 0; font-size: 1.6rem; font-weight: 700; }
dl { background: #fff; padding: 0.75rem 1rem; margin: 0; }
dt { font-size: 0.95rem; color: #333; }
dd { margin: 0 0 0.6rem; font-weight: 600; overflow-wrap: anywhere; }
ol.timeline { list-style: none; padding: 0; margin: 0; }
ol.timeline li { background: #fff; padding: 0.75rem 1rem; margin-bottom: 0.5rem;
  border-left: 0.25rem solid #999; }
ol.timeline time { display: block; font-size: 0.95rem; color: #333; }
.note { margin: 0.25rem 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.small { font-size: 0.95rem; color: #333; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 0.95rem; }
th, td { border: 1px solid #ccc; padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #e8e8e4; }
.alert { background: #fde8e8; border: 2px solid #c01c28; padding: 0.5rem 1rem; margin: 1rem 0; }
.alert h2 { color: #a51d2d; margin-top: 0.25rem; }
.stale, .warn { color: #a51d2d; font-weight: 700; }
.operator main { max-width: none; }
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
    fn times_are_shown_eight_hours_ahead_of_utc() {
        let at = DateTime::parse_from_rfc3339("2024-05-01T20:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(china_time(at), "2024-05-02 04:30");
    }
}
