//! Talking to upstream over HTTP: the native protocol (the hub's) and Open311 GeoReport v2,
//! behind one type. Every failure is sorted into *transient* (try again later: the network, a
//! timeout, a 5xx, a garbled answer) or *permanent* (a 4xx that will never succeed as sent:
//! keep the case, tell staff, stop trying).

use std::time::Duration;

use reqwest::StatusCode;

use crate::config::UpstreamKind;
use protocol::{
    ApiError, CaseProgress, CaseReceipt, CaseSubmission, Heartbeat, RosterDocument, StationState,
    API_V1, IDEMPOTENCY_KEY,
};

/// How long a request may take, in all, before it counts as a (transient) failure: a hub that
/// accepts the connection and never answers must not hold the outbox.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Permanent(String),
}

impl DeliveryError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, DeliveryError::Permanent(_))
    }
}

/// Where and how to reach upstream.
#[derive(Debug, Clone)]
pub struct Upstream {
    base: String,
    kind: UpstreamKind,
    token: String,
    http: reqwest::Client,
}

impl Upstream {
    pub fn new(base: &str, kind: UpstreamKind, token: &str) -> Upstream {
        Upstream {
            base: base.trim_end_matches('/').to_owned(),
            kind,
            token: token.to_owned(),
            http: http_client(REQUEST_TIMEOUT),
        }
    }

    /// The same upstream with another limit than [`REQUEST_TIMEOUT`] on each request (tests).
    pub fn with_timeout(mut self, timeout: Duration) -> Upstream {
        self.http = http_client(timeout);
        self
    }

    pub fn kind(&self) -> UpstreamKind {
        self.kind
    }

    /// Sends a case. Returns upstream's reference for it (the receipt's token natively, the
    /// service request id or token with Open311).
    pub async fn submit(&self, case: &CaseSubmission) -> Result<String, DeliveryError> {
        match self.kind {
            UpstreamKind::Native => {
                let response = self
                    .http
                    .post(format!("{}{API_V1}/cases", self.base))
                    .bearer_auth(&self.token)
                    .header(IDEMPOTENCY_KEY, &case.id)
                    .json(case)
                    .send()
                    .await
                    .map_err(transport)?;
                let receipt: CaseReceipt = read_json(response).await?;
                if receipt.id != case.id {
                    return Err(DeliveryError::Transient(format!(
                        "upstream answered for case {} instead of {}",
                        receipt.id, case.id
                    )));
                }
                Ok(receipt.token)
            }
            UpstreamKind::Open311 => {
                super::open311::submit(&self.http, &self.base, &self.token, case).await
            }
        }
    }

    /// Upstream's progress of a case (`None`: upstream does not know it).
    pub async fn progress(
        &self,
        token: &str,
        upstream_ref: Option<&str>,
    ) -> Result<Option<CaseProgress>, DeliveryError> {
        match self.kind {
            UpstreamKind::Native => {
                let response = self
                    .http
                    .get(format!("{}{API_V1}/cases/{token}", self.base))
                    .bearer_auth(&self.token)
                    .send()
                    .await
                    .map_err(transport)?;
                if response.status() == StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                read_json(response).await.map(Some)
            }
            UpstreamKind::Open311 => {
                super::open311::progress(&self.http, &self.base, &self.token, token, upstream_ref)
                    .await
            }
        }
    }

    /// Tells upstream how the station is (the native protocol only; Open311 has no such thing).
    pub async fn heartbeat(&self, beat: &Heartbeat) -> Result<(), DeliveryError> {
        if self.kind == UpstreamKind::Open311 {
            return Ok(());
        }
        let response = self
            .http
            .post(format!("{}{API_V1}/heartbeat", self.base))
            .bearer_auth(&self.token)
            .json(beat)
            .send()
            .await
            .map_err(transport)?;
        check(response).await.map(|_| ())
    }

    /// Sends the station's queues, bookings and who is on duty (`PUT /api/v1/station-state`).
    /// Upstream keeps the state with the highest `seq`, so sending an older one again is
    /// harmless. Open311 has no such thing: nothing is sent and it succeeds.
    pub async fn station_state(&self, state: &StationState) -> Result<(), DeliveryError> {
        if self.kind == UpstreamKind::Open311 {
            return Ok(());
        }
        let response = self
            .http
            .put(format!("{}{API_V1}/station-state", self.base))
            .bearer_auth(&self.token)
            .json(state)
            .send()
            .await
            .map_err(transport)?;
        check(response).await.map(|_| ())
    }

    /// The roster the district set for this station (`GET /api/v1/roster`); `None` when it set
    /// none (`404`) and always with Open311, which has no rosters.
    pub async fn roster(&self) -> Result<Option<RosterDocument>, DeliveryError> {
        if self.kind == UpstreamKind::Open311 {
            return Ok(None);
        }
        let response = self
            .http
            .get(format!("{}{API_V1}/roster", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(transport)?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        read_json(response).await.map(Some)
    }
}

fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5).min(timeout))
        .user_agent(concat!("grievance-kiosk/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

impl Upstream {
    /// Whether upstream answers and accepts this kiosk's token, without changing anything: the
    /// native protocol is asked for a case that cannot exist (`404` means reachable and the
    /// token good, `401` a bad token); an Open311 server for its service list.
    pub(crate) async fn probe(&self) -> Result<(), DeliveryError> {
        let response = match self.kind {
            UpstreamKind::Native => {
                self.http
                    .get(format!("{}{API_V1}/cases/{PROBE_TOKEN}", self.base))
                    .bearer_auth(&self.token)
                    .send()
                    .await
            }
            UpstreamKind::Open311 => {
                self.http
                    .get(format!("{}/services.json", self.base))
                    .query(&[("api_key", &self.token)])
                    .send()
                    .await
            }
        }
        .map_err(transport)?;
        if self.kind == UpstreamKind::Native && response.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        check(response).await.map(|_| ())
    }
}

/// A well-formed tracking code that no case has (all zeros, its check character included).
const PROBE_TOKEN: &str = "00000000000000000";

/// A request that did not get an answer: always worth trying again.
pub(super) fn transport(e: reqwest::Error) -> DeliveryError {
    let what = if e.is_timeout() {
        "upstream did not answer in time"
    } else if e.is_connect() {
        "cannot reach upstream"
    } else {
        "the connection to upstream failed"
    };
    DeliveryError::Transient(format!("{what}: {e}"))
}

/// Sorts an answer by its status: success passes, a 4xx is permanent (but 408 and 429, which
/// ask to come back later), anything else transient.
pub(super) async fn check(response: reqwest::Response) -> Result<reqwest::Response, DeliveryError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
        .unwrap_or_else(|| "untyped".to_owned());
    let body = response.text().await.unwrap_or_default();
    // The protocol's error says what was wrong in a sentence, which staff see. Anything else
    // (a proxy's or a framework's error page) is only described: such a page may echo the
    // request, and with it a resident's phone number and words, into the kiosk's log.
    let reason = serde_json::from_str::<ApiError>(&body)
        .map(|e| match e.field {
            Some(f) => format!("{f}: {}", e.error),
            None => e.error,
        })
        .unwrap_or_else(|_| format!("a {kind} answer of {} bytes", body.len()));
    let message = format!("upstream answered {status}: {reason}");
    if status.is_client_error()
        && status != StatusCode::REQUEST_TIMEOUT
        && status != StatusCode::TOO_MANY_REQUESTS
    {
        Err(DeliveryError::Permanent(message))
    } else {
        Err(DeliveryError::Transient(message))
    }
}

/// A successful answer's JSON; garbage in a 2xx is upstream's trouble, so try again later.
pub(super) async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, DeliveryError> {
    let response = check(response).await?;
    let body = response.bytes().await.map_err(transport)?;
    serde_json::from_slice(&body).map_err(|e| {
        DeliveryError::Transient(format!("upstream's answer is not the expected JSON: {e}"))
    })
}
