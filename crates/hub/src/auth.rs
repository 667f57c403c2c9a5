//! Who is calling. Kiosks present a station token, departments a department token, operators
//! the operator token (all as `Authorization: Bearer …`), Open311 clients an `api_key`.
//!
//! Every secret is compared in constant time against *every* configured secret, so neither an
//! early mismatch nor the position of a match in the list shows in the response time, and every
//! way of failing (no header, unknown token, a department's token at a station's door) ends in
//! the same answer: the handlers turn `None` into one fixed `401`.
//!
//! Failed logins are throttled per client address ([`throttle_logins`], a layer over every
//! route): each presented secret that matches nothing takes one token from the address's
//! bucket of [`LOGIN_FAILURES`], at the moment it is checked; once it is empty, every check of
//! a secret from that address fails *whatever was presented*, and the answer becomes `429`
//! with `Retry-After`, until the bucket refills. A request that presents nothing (a browser opening `/operator`, the public
//! pages) is neither counted nor refused. The checks learn the request's address through a
//! task-local set by the layer, so the handlers call them as before.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::config::RateLimit;
use super::rate_limit::{client_address, Decision};
use super::server::HubState;

/// Failed logins an address may make at once, and how fast it is forgiven: ten wrong secrets,
/// then one more every 30 seconds. A kiosk with a mistyped token still retries every minute; a
/// script guessing 16-character tokens gets 2,880 guesses a day.
pub(crate) const LOGIN_FAILURES: RateLimit = RateLimit {
    per_minute: 2,
    burst: 10,
};

/// A token or key: kept out of `Debug` output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// Whether `presented` is this secret, in time that depends only on the lengths.
    pub(crate) fn matches(&self, presented: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), presented.as_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Compares two byte strings without stopping at the first difference: the time taken depends
/// on the longer length, never on where (or whether) they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len().max(b.len());
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

/// Every secret the hub accepts. Stations can be added while the hub runs (the kiosk's
/// in-process hub registers the token it made for itself).
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    stations: StationTokens,
    departments: Vec<(String, Secret)>,
    open311_keys: Vec<Secret>,
    operator: Option<Secret>,
}

impl Credentials {
    pub fn new(
        stations: impl IntoIterator<Item = (String, Secret)>,
        departments: impl IntoIterator<Item = (String, Secret)>,
        open311_keys: impl IntoIterator<Item = Secret>,
        operator: Option<Secret>,
    ) -> Credentials {
        let mut tokens = StationTokens::default();
        for (id, secret) in stations {
            tokens.set(&id, secret);
        }
        Credentials {
            stations: tokens,
            departments: departments.into_iter().collect(),
            open311_keys: open311_keys.into_iter().collect(),
            operator,
        }
    }

    /// Accepts `token` for `station_id` from now on (replacing that station's previous token).
    pub(crate) fn set_station(&mut self, station_id: &str, token: Secret) {
        self.stations.set(station_id, token);
    }

    /// The station whose token was presented.
    pub(crate) fn station(&self, presented: Option<&str>) -> Option<String> {
        let presented = presented?;
        attempted(self.stations.find(presented))
    }

    /// Whether `station_id` has a token.
    pub(crate) fn has_station(&self, station_id: &str) -> bool {
        self.stations.by_id.contains_key(station_id)
    }

    /// The department whose token was presented.
    pub(crate) fn department(&self, presented: Option<&str>) -> Option<String> {
        let presented = presented?;
        attempted(find(&self.departments, presented))
    }

    pub(crate) fn open311_key(&self, presented: Option<&str>) -> bool {
        let Some(presented) = presented else {
            return false;
        };
        let mut ok = false;
        for key in &self.open311_keys {
            ok |= key.matches(presented);
        }
        attempted(ok.then_some(())).is_some()
    }

    pub(crate) fn operator(&self, presented: Option<&str>) -> bool {
        let Some(presented) = presented else {
            return false;
        };
        let ok = self.operator.as_ref().is_some_and(|s| s.matches(presented));
        attempted(ok.then_some(())).is_some()
    }

    /// The station ids with a token (the operator page lists them even before they call).
    pub(crate) fn station_ids(&self) -> Vec<String> {
        self.stations.by_id.keys().cloned().collect()
    }
}

/// The stations' tokens, found by the SHA-256 of the token presented. A province has tens of
/// thousands of stations: comparing a token with every one of them, as [`find`] does for the
/// handful of departments, would cost a millisecond of CPU on every request of every kiosk.
/// The hash map's timing can only tell about the digest of what was presented, which says
/// nothing of any token; the token found is then compared in constant time all the same.
#[derive(Debug, Clone, Default)]
struct StationTokens {
    by_digest: HashMap<[u8; 32], (String, Secret)>,
    /// Each station's id and its token's digest, in id order (the operator page's list).
    by_id: BTreeMap<String, [u8; 32]>,
}

impl StationTokens {
    fn set(&mut self, station_id: &str, token: Secret) {
        if let Some(old) = self.by_id.remove(station_id) {
            self.by_digest.remove(&old);
        }
        let digest = super::digest::sha256(token.0.as_bytes());
        // One token for two stations: the later entry has it, as the list's last match did.
        if let Some((previous, _)) = self
            .by_digest
            .insert(digest, (station_id.to_owned(), token))
        {
            self.by_id.remove(&previous);
        }
        self.by_id.insert(station_id.to_owned(), digest);
    }

    fn find(&self, presented: &str) -> Option<String> {
        let digest = super::digest::sha256(presented.as_bytes());
        let (id, secret) = self.by_digest.get(&digest)?;
        secret.matches(presented).then(|| id.clone())
    }
}

/// Looks at every entry whatever happens, so a match early in the list costs the same as none.
fn find(entries: &[(String, Secret)], presented: &str) -> Option<String> {
    let mut found = None;
    for (id, secret) in entries {
        if secret.matches(presented) {
            found = Some(id);
        }
    }
    found.cloned()
}

/// What the login throttle knows of the request being handled (set by [`throttle_logins`]).
struct Attempt {
    hub: Arc<HubState>,
    client: IpAddr,
    /// A check was refused because the address had used up its failures: come back in this
    /// many seconds.
    refused: Cell<Option<u64>>,
}

tokio::task_local! {
    static ATTEMPT: Attempt;
}

/// The outcome of one check of a presented secret, as the throttle sees it. The secret has
/// already been compared (so the time taken does not depend on the throttle). A secret that
/// matched nothing takes one failure from the address's allowance at once, under the limiter's
/// lock, so many wrong secrets sent at the same moment are counted one by one; with the
/// allowance used up, the check fails whatever was presented.
pub(crate) fn attempted<T>(found: Option<T>) -> Option<T> {
    let allowed = ATTEMPT.try_with(|attempt| {
        let limiter = attempt.hub.login_limiter();
        let decision = if found.is_some() {
            limiter.peek(attempt.client)
        } else {
            limiter.check(attempt.client)
        };
        match decision {
            Decision::Allowed => {
                if found.is_none() {
                    tracing::warn!(client = %attempt.client, "failed login: a secret that matches nothing");
                }
                true
            }
            Decision::Limited { retry_after_s } => {
                attempt.refused.set(Some(retry_after_s));
                false
            }
        }
    });
    match allowed {
        Ok(false) => None,
        // Outside a request (unit tests, start-up) there is no throttle.
        Ok(true) | Err(_) => found,
    }
}

/// The layer over every route that throttles failed logins per client address (the same
/// address as the tracking page's limit: the peer, or the trusted `X-Forwarded-For`). A
/// request whose check of a secret was refused is answered `429` with `Retry-After` instead
/// of the handler's refusal (the handler did nothing: who is calling is checked first).
pub(crate) async fn throttle_logins(
    State(hub): State<Arc<HubState>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    let client: IpAddr = client_address(peer, request.headers(), hub.config().trust_forwarded_for);
    let attempt = Attempt {
        hub,
        client,
        refused: Cell::new(None),
    };
    let (response, refused) = ATTEMPT
        .scope(attempt, async move {
            let response = next.run(request).await;
            (response, ATTEMPT.with(|a| a.refused.get()))
        })
        .await;
    match refused {
        Some(retry_after_s) => {
            tracing::debug!(%client, retry_after_s, "login refused: too many failed logins");
            too_many_failed_logins(retry_after_s)
        }
        None => response,
    }
}

fn too_many_failed_logins(retry_after_s: u64) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many failed logins from this address: try again in {retry_after_s} s\n"),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The token of an `Authorization: Bearer <token>` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_match_and_any_difference_does_not() {
        assert!(constant_time_eq(
            b"station-token-1234",
            b"station-token-1234"
        ));
        assert!(!constant_time_eq(
            b"station-token-1234",
            b"station-token-1235"
        ));
        assert!(!constant_time_eq(
            b"station-token-1234",
            b"station-token-123"
        ));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn a_token_names_its_station_and_nothing_else() {
        let mut c = Credentials::new(
            [("a".to_owned(), Secret::new("token-of-station-a"))],
            [("housing".to_owned(), Secret::new("token-of-housing"))],
            [Secret::new("open311-key-0001")],
            Some(Secret::new("operator-token-1")),
        );
        assert_eq!(c.station(Some("token-of-station-a")).as_deref(), Some("a"));
        assert_eq!(c.station(Some("token-of-housing")), None);
        assert_eq!(c.department(Some("token-of-station-a")), None);
        assert_eq!(c.station(None), None);
        assert!(c.open311_key(Some("open311-key-0001")));
        assert!(!c.open311_key(Some("open311-key-0002")));
        assert!(c.operator(Some("operator-token-1")));
        c.set_station("a", Secret::new("new-token-of-a"));
        assert_eq!(c.station(Some("token-of-station-a")), None);
        assert_eq!(c.station(Some("new-token-of-a")).as_deref(), Some("a"));
        assert!(c.has_station("a") && !c.has_station("b"));
        // The old token of a station given another one is forgotten with it.
        c.set_station("b", Secret::new("token-of-station-a"));
        c.set_station("b", Secret::new("token-of-station-b"));
        assert_eq!(c.station(Some("token-of-station-a")), None);
        assert_eq!(c.station_ids(), ["a", "b"]);
    }

    #[test]
    fn thirty_thousand_stations_each_find_their_own() {
        let stations = (0..30_000).map(|n| (format!("s{n}"), Secret::new(format!("token-{n:08}"))));
        let c = Credentials::new(stations, [], [], None);
        for n in [0, 1, 12_345, 29_999] {
            assert_eq!(
                c.station(Some(&format!("token-{n:08}"))),
                Some(format!("s{n}"))
            );
        }
        assert_eq!(c.station(Some("token-00030000")), None);
        assert_eq!(c.station_ids().len(), 30_000);
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let s = Secret::new("do-not-print-me");
        assert!(!format!("{s:?}").contains("do-not"));
    }

    #[test]
    fn only_a_bearer_header_carries_a_token() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
