//! Talking to upstream over HTTP: the native protocol (the hub's) and Open311 GeoReport v2,
//! behind one type. Every failure is sorted into *transient* (try again later: the network, a
//! timeout, a 5xx, a garbled answer) or *permanent* (a 4xx that will never succeed as sent:
//! keep the case, tell staff, stop trying).

use std::time::Duration;

use reqwest::StatusCode;

use super::open311::{self, Server};
use crate::config::{KioskConfig, UpstreamKind};
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
    /// What an Open311 server's discovery, service list and definitions said, between cases.
    open311: open311::Shared,
}

impl Upstream {
    pub fn new(base: &str, kind: UpstreamKind, token: &str) -> Upstream {
        Upstream {
            base: base.trim_end_matches('/').to_owned(),
            kind,
            token: token.to_owned(),
            http: http_client(REQUEST_TIMEOUT),
            open311: open311::Shared::default(),
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

    fn open311<'a>(&'a self, config: &'a KioskConfig) -> Server<'a> {
        Server {
            http: &self.http,
            base: &self.base,
            api_key: &self.token,
            config,
            cache: &self.open311,
        }
    }

    /// Sends a case. Returns upstream's reference for it (the receipt's token natively; with
    /// Open311 `id:<service_request_id>`, `token:<token>`, or `blackbox` when the server gives
    /// neither). `config` is the station's: Open311's service mapping, attributes, format and
    /// the station's address.
    pub async fn submit(
        &self,
        case: &CaseSubmission,
        config: &KioskConfig,
    ) -> Result<String, DeliveryError> {
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
            UpstreamKind::Open311 => self
                .open311(config)
                .submit(case)
                .await
                .map(|d| d.reference()),
        }
    }

    /// Upstream's progress of a case (`None`: upstream does not know it).
    pub async fn progress(
        &self,
        token: &str,
        upstream_ref: Option<&str>,
        config: &KioskConfig,
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
            UpstreamKind::Open311 => self.open311(config).progress(token, upstream_ref).await,
        }
    }

    /// Whether the citizen may rate the case now (the native protocol only: `None` on Open311,
    /// which has no rating, and for a case upstream does not know).
    pub async fn rating_offer(
        &self,
        token: &str,
    ) -> Result<Option<protocol::RatingOffer>, DeliveryError> {
        if self.kind == UpstreamKind::Open311 {
            return Ok(None);
        }
        let response = self
            .http
            .get(format!("{}{API_V1}/cases/{token}/rating", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(transport)?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        read_json(response).await.map(Some)
    }

    /// Gives the citizen's rating; upstream answers with what may be done now.
    pub async fn rate(
        &self,
        token: &str,
        rating: &protocol::RatingSubmission,
    ) -> Result<protocol::RatingOffer, DeliveryError> {
        if self.kind == UpstreamKind::Open311 {
            return Err(DeliveryError::Permanent(
                "an Open311 server takes no rating".into(),
            ));
        }
        let response = self
            .http
            .post(format!("{}{API_V1}/cases/{token}/rating", self.base))
            .bearer_auth(&self.token)
            .json(rating)
            .send()
            .await
            .map_err(transport)?;
        read_json(response).await
    }

    /// An Open311 batch token's service request id, once the server has assigned one (`None`
    /// before, and always natively, where there are no tokens to resolve).
    pub async fn resolve_token(
        &self,
        token: &str,
        config: &KioskConfig,
    ) -> Result<Option<String>, DeliveryError> {
        match self.kind {
            UpstreamKind::Native => Ok(None),
            UpstreamKind::Open311 => self.open311(config).resolve_token(token).await,
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
    /// token good, `401` a bad token). An Open311 server is asked for its services (some of
    /// this station's, mapped, must be there) and sent a request with the key and no service,
    /// which a server refuses: `401`/`403` say the key is refused, another refusal that it was
    /// let through. Returns what is worth a warning (a service the server lacks, a required
    /// attribute nothing fills).
    pub(crate) async fn probe(&self, config: &KioskConfig) -> Result<Vec<String>, DeliveryError> {
        if self.kind == UpstreamKind::Open311 {
            return self.probe_open311(config).await;
        }
        let response = self
            .http
            .get(format!("{}{API_V1}/cases/{PROBE_TOKEN}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(transport)?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        check(response).await.map(|_| Vec::new())
    }

    async fn probe_open311(&self, config: &KioskConfig) -> Result<Vec<String>, DeliveryError> {
        let server = self.open311(config);
        let services = server.services().await?;
        let mapped: Vec<(String, String)> = config
            .catalogue
            .services
            .iter()
            .map(|s| {
                let code = config.upstream.open311.services.get(&s.id).unwrap_or(&s.id);
                (s.id.clone(), code.clone())
            })
            .collect();
        let (present, missing): (Vec<_>, Vec<_>) = mapped
            .iter()
            .partition(|(_, code)| services.iter().any(|s| &s.code == code));
        let listed = |pairs: &[&(String, String)]| {
            pairs
                .iter()
                .map(|(id, code)| {
                    if id == code {
                        format!("`{id}`")
                    } else {
                        format!("`{id}` as `{code}`")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if present.is_empty() {
            return Err(DeliveryError::Permanent(format!(
                "the Open311 server has none of this station's services ({}; it has {}): map                  them in upstream.open311.services",
                listed(&missing),
                services
                    .iter()
                    .take(12)
                    .map(|s| format!("`{}`", s.code))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let format = server.format().await?;
        let mut form = vec![("api_key", self.token.as_str())];
        if let Some(j) = &config.upstream.open311.jurisdiction_id {
            form.push(("jurisdiction_id", j.as_str()));
        }
        let response = self
            .http
            .post(format!(
                "{}/requests.{}",
                self.base,
                if format == open311::Format::Xml {
                    "xml"
                } else {
                    "json"
                }
            ))
            .form(&form)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if status.is_success() {
            return Err(DeliveryError::Permanent(
                "the Open311 server accepted a request with no service_code: it checks                  nothing, and would file whatever it is sent"
                    .into(),
            ));
        }
        if matches!(status.as_u16(), 401 | 403) || status.is_server_error() {
            let body = response.bytes().await.unwrap_or_default();
            let reason = open311::parse_body(None, &body)
                .ok()
                .and_then(|v| open311::error_reason(&v))
                .unwrap_or_else(|| format!("an answer of {} bytes", body.len()));
            return Err(if status.is_server_error() {
                DeliveryError::Transient(format!("the Open311 server answered {status}: {reason}"))
            } else {
                DeliveryError::Permanent(format!(
                    "the Open311 server refuses the key (upstream.token): {status}: {reason}"
                ))
            });
        }
        let mut warnings = Vec::new();
        if !missing.is_empty() {
            warnings.push(format!(
                "the server lacks {}: cases of those are kept for staff",
                listed(&missing)
            ));
        }
        for (id, code) in &present {
            let service = config.catalogue.service(id);
            if !services.iter().any(|s| &s.code == code && s.metadata) {
                continue;
            }
            for attribute in server.definition(code).await? {
                let fillable = open311::KIOSK_ATTRIBUTES.contains(&attribute.code.as_str())
                    || config
                        .upstream
                        .open311
                        .attributes
                        .contains_key(&attribute.code)
                    || service.is_some_and(|s| {
                        s.subtypes
                            .iter()
                            .any(|t| s.questions_for(t).any(|q| q.id == attribute.code))
                    });
                if attribute.required && !fillable {
                    warnings.push(format!(
                        "`{code}` requires the attribute `{}`, which nothing fills (set it in                          upstream.open311.attributes)",
                        attribute.code
                    ));
                }
            }
        }
        Ok(warnings)
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
