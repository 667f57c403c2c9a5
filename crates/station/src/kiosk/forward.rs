//! What the kiosk sends upstream and how it keeps at it: a case as a `CaseSubmission`, the
//! outbox drained in order with exponential backoff and full jitter (the next try's time is
//! stored, so it survives a restart), permanent refusals kept and flagged, and upstream's
//! progress of a case, remembered for when the network is down.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Kiosk, KioskError};
use crate::store::{OutboxCounts, StoreError};
use crate::upstream::client::{DeliveryError, Upstream};
use crate::upstream::open311::BLACKBOX;
use domain::{Case, QuestionKind};
use protocol::{
    BookingStatus, CaseProgress, CaseSubmission, OnDuty, StationState, SubmittedAnswer,
    TicketState, TicketStatus,
};
use slip::status::PrinterState;

/// The first retry waits up to this long; each failure doubles it, up to [`BACKOFF_CAP`].
pub const BACKOFF_BASE: Duration = Duration::from_secs(5);
pub const BACKOFF_CAP: Duration = Duration::from_secs(600);

/// Full jitter: a random delay between zero and the exponential bound, so that 160 kiosks
/// coming back after an outage do not all knock at once. `random` is in [0, 1).
pub fn backoff(attempts: u32, random: f64) -> Duration {
    let bound = BACKOFF_BASE
        .saturating_mul(2u32.saturating_pow(attempts.min(20)))
        .min(BACKOFF_CAP);
    bound.mul_f64(random.clamp(0.0, 1.0))
}

fn random_unit() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

/// What one drain of the outbox did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Tracking codes of the cases upstream now has.
    pub delivered: Vec<String>,
    /// Tries that failed for now and were rescheduled.
    pub retried: usize,
    /// Entries upstream refused for good.
    pub failed: usize,
    pub last_error: Option<String>,
}

/// Upstream's progress of a case, and whether it is fresh or what was last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Just asked upstream.
    Live(CaseProgress),
    /// Upstream could not be asked; this is what it said at `fetched_at`.
    LastKnown {
        progress: CaseProgress,
        fetched_at: DateTime<Utc>,
        why: String,
    },
    /// Upstream does not have the case yet (still in the outbox).
    NotYetDelivered,
    /// Upstream could not be asked and never said anything about this case.
    Unknown(String),
}

/// The printer's state as a heartbeat reports it: the device's state, word for word, or
/// `unknown` before the print queue has asked.
fn printer_report(state: Option<PrinterState>) -> protocol::PrinterReport {
    use protocol::PrinterReport as R;
    match state {
        Some(PrinterState::Ready) => R::Ready,
        Some(PrinterState::NearEnd) => R::NearEnd,
        Some(PrinterState::PaperOut) => R::PaperOut,
        Some(PrinterState::CoverOpen) => R::CoverOpen,
        Some(PrinterState::Offline) => R::Offline,
        Some(PrinterState::Error) => R::Error,
        Some(PrinterState::Unknown) | None => R::Unknown,
    }
}

impl Kiosk {
    /// The case as upstream receives it, with service, sub-type, questions and options in
    /// Chinese words besides their ids.
    pub fn submission(&self, case: &Case) -> CaseSubmission {
        let service = self.config.catalogue.service(&case.service);
        let subtype = service.and_then(|s| s.subtype(&case.subtype));
        let answers = case
            .answers
            .iter()
            .map(|a| {
                let question = match (service, subtype) {
                    (Some(s), Some(t)) => s.questions_for(t).find(|q| q.id == a.question),
                    _ => None,
                };
                let value_label = question
                    .and_then(|q| match &q.kind {
                        QuestionKind::Choice { .. } => {
                            q.option(&a.value).map(|o| o.label.zh.clone())
                        }
                        QuestionKind::Text { .. } => None,
                    })
                    .unwrap_or_else(|| a.value.clone());
                SubmittedAnswer {
                    question: a.question.clone(),
                    question_label: question
                        .map_or_else(|| a.question.clone(), |q| q.label.zh.clone()),
                    value: a.value.clone(),
                    value_label,
                }
            })
            .collect();
        CaseSubmission {
            id: case.id.to_string(),
            token: case.token.as_str().to_owned(),
            station_id: case.station_id.clone(),
            service: case.service.clone(),
            subtype: case.subtype.clone(),
            service_name: service.map_or_else(|| case.service.clone(), |s| s.name.zh.clone()),
            subtype_name: subtype.map_or_else(|| case.subtype.clone(), |t| t.name.zh.clone()),
            answers,
            description: case.description.clone(),
            phone: case.phone.as_ref().map(|p| p.as_str().to_owned()),
            anonymous: case.anonymous,
            consent_version: case.consent_version.clone(),
            risk: case.risk.clone(),
            language: case.language,
            channel: case.channel,
            filed_at: case.created_at,
        }
    }

    /// Sends what is due, in order (high risk first, then oldest), once each. With
    /// `everything`, all pending entries are due now, and entries upstream once refused are
    /// tried again (staff say upstream was fixed).
    pub async fn drain_outbox(
        &mut self,
        upstream: &Upstream,
        everything: bool,
    ) -> Result<DrainReport, KioskError> {
        let now = self.now();
        if everything {
            self.store.outbox_retry_failed(now)?;
            self.store.outbox_all_due(now)?;
        }
        let mut report = DrainReport::default();
        while let Some(entry) = self.store.next_outbox_entry(Some(now))? {
            let stored = self.store.case_by_id(&entry.case_id)?.ok_or_else(|| {
                StoreError::BadRow(format!("outbox {} has no case {}", entry.id, entry.case_id))
            })?;
            let submission = self.submission(&stored.case);
            match upstream.submit(&submission, &self.config).await {
                Ok(reference) => {
                    self.store
                        .outbox_delivered(entry.id, &reference, self.now())?;
                    report.delivered.push(submission.token);
                }
                // An upstream's error may echo the case (a debug page with the request in
                // it): what is kept and logged has the case's personal data masked.
                Err(DeliveryError::Permanent(why)) => {
                    let why = stored.case.redact(&why);
                    self.store.outbox_failed(entry.id, &why)?;
                    report.failed += 1;
                    report.last_error = Some(why);
                }
                Err(DeliveryError::Transient(why)) => {
                    let why = stored.case.redact(&why);
                    let next = self.now()
                        + chrono::Duration::from_std(backoff(entry.attempts, random_unit()))
                            .unwrap_or_default()
                        + chrono::Duration::milliseconds(1);
                    self.store.outbox_retry(entry.id, &why, next)?;
                    report.retried += 1;
                    report.last_error = Some(why);
                    // Upstream is unwell: the rest would fail the same way; they keep their turn.
                    break;
                }
            }
        }
        if report.retried == 0 {
            self.resolve_tokens(upstream).await?;
        }
        Ok(report)
    }

    /// The most batch tokens one drain asks about.
    const TOKENS_PER_DRAIN: usize = 20;

    /// Asks an Open311 server for the service request ids of the cases it took with a batch
    /// token, and keeps each id that has been assigned (`id:<id>` instead of `token:<t>`), so
    /// the case is followed by its id from then on. Best effort: a failure waits for the next
    /// drain.
    async fn resolve_tokens(&mut self, upstream: &Upstream) -> Result<(), KioskError> {
        if upstream.kind() != crate::config::UpstreamKind::Open311 {
            return Ok(());
        }
        for (id, token) in self
            .store
            .outbox_unresolved_tokens(Self::TOKENS_PER_DRAIN)?
        {
            match upstream.resolve_token(&token, &self.config).await {
                Ok(Some(request_id)) => {
                    self.store.outbox_set_reference(
                        id,
                        &format!("token:{token}"),
                        &format!("id:{request_id}"),
                    )?;
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "an Open311 token could not be resolved yet");
                    break;
                }
            }
        }
        Ok(())
    }

    /// How the station is, for upstream's operators.
    pub fn heartbeat(
        &self,
        printer: Option<PrinterState>,
        profile: &slip::profile::PrinterProfile,
    ) -> Result<protocol::Heartbeat, KioskError> {
        let now = self.now();
        let outbox = self.store.outbox_counts()?;
        let paper = self.paper_estimate(profile)?;
        Ok(protocol::Heartbeat {
            station_id: self.config.station.id.clone(),
            sent_at: now,
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            printer_state: printer_report(printer).as_str().to_owned(),
            paper_left_m: (paper.left_m * 10.0).round() / 10.0,
            paper_low: paper.low,
            queue_lengths: self.queue_lengths(now)?,
            outbox_pending: outbox.pending as u32,
            outbox_oldest_s: outbox
                .oldest_pending
                .map(|t| (now - t).num_seconds().max(0) as u64),
            notices: self
                .store
                .open_notices()?
                .into_iter()
                .map(|n| protocol::StationNotice {
                    kind: n.kind,
                    at: n.at,
                })
                .collect(),
        })
    }

    /// People waiting per lane today, `{"C": 3}` (lanes with nobody waiting left out).
    pub fn queue_lengths(
        &self,
        now: DateTime<Utc>,
    ) -> Result<std::collections::BTreeMap<String, u32>, KioskError> {
        let mut out = std::collections::BTreeMap::new();
        for t in self.store.tickets_of_day(super::station_day(now))? {
            if t.state == TicketState::Waiting {
                *out.entry(t.lane).or_insert(0) += 1;
            }
        }
        Ok(out)
    }

    /// The station's queues, bookings and attendance as the hub shows them, with the
    /// generation of the database it reflects. No personal data: no phone, no name of a
    /// resident, no service in words.
    pub fn station_state(&self, now: DateTime<Utc>) -> Result<(StationState, u64), KioskError> {
        let sync = self.store.sync_state()?;
        let generation = sync.generation;
        let day = super::station_day(now);
        let mut tickets = Vec::new();
        for t in self.store.tickets_of_day(day)? {
            let view = self.ticket_view(t, now)?;
            let t = view.ticket;
            tickets.push(TicketStatus {
                token: t.token,
                ticket: t.label,
                lane: t.lane,
                state: t.state,
                ahead: view.ahead,
                wait_min: view.wait.map(|w| w.0),
                wait_max: view.wait.map(|w| w.1),
                counter: t.counter,
                taken_at: t.taken_at,
            });
        }
        let roster = self.roster();
        let from = now - chrono::Duration::days(1);
        let to = now
            + chrono::Duration::days(i64::from(self.config.appointments.booking_window_days) + 2);
        let mut bookings = Vec::new();
        for b in self.store.bookings_between(from, to)? {
            let service = self.config.catalogue.service(&b.service);
            bookings.push(BookingStatus {
                token: b.token,
                lane: service
                    .map(|s| s.lane.to_string())
                    .unwrap_or_else(|| "?".into()),
                role: if domain::names_role(service) {
                    roster.provider(&b.provider).map(|p| p.role)
                } else {
                    None
                },
                start: b.start,
                end: b.end,
                state: b.state,
            });
        }
        let on_duty = self
            .store
            .on_duty()?
            .into_iter()
            .filter_map(|(id, since)| {
                roster.provider(&id).map(|p| OnDuty {
                    provider_id: id.clone(),
                    role: p.role,
                    name: p.name.zh.clone(),
                    since,
                })
            })
            .collect();
        Ok((
            StationState {
                station_id: self.config.station.id.clone(),
                seq: sync.seq(generation),
                sent_at: now,
                tickets,
                bookings,
                on_duty,
            },
            generation,
        ))
    }

    /// Sends the station's state upstream when it changed since the hub last took it (or
    /// `force`). A failure is kept with the next try's time, like the outbox's.
    pub async fn sync_station(
        &mut self,
        upstream: &Upstream,
        force: bool,
    ) -> Result<bool, KioskError> {
        let now = self.now();
        let sync = self.store.sync_state()?;
        let due = sync.next_try_at.is_none_or(|t| t <= now);
        if !force && (sync.generation <= sync.sent || !due) {
            return Ok(false);
        }
        let (state, generation) = self.station_state(now)?;
        match upstream.station_state(&state).await {
            Ok(()) => {
                self.store.sync_sent(generation)?;
                Ok(true)
            }
            Err(e) => {
                let why = e.to_string();
                let next = now
                    + chrono::Duration::from_std(backoff(3, random_unit())).unwrap_or_default()
                    + chrono::Duration::seconds(1);
                self.store.sync_failed(&why, next)?;
                Err(KioskError::Upstream(why))
            }
        }
    }

    /// Fetches the roster the hub set for this station: kept (and used instead of the
    /// configuration's) when valid, forgotten when the hub has none. Returns whether the hub
    /// has one.
    pub async fn sync_roster(&mut self, upstream: &Upstream) -> Result<bool, KioskError> {
        match upstream.roster().await {
            Ok(Some(doc)) => {
                let services: Vec<&str> = self
                    .config
                    .catalogue
                    .services
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect();
                let roster = domain::roster::Roster {
                    providers: doc.providers.clone(),
                };
                if let Err((key, problem)) = roster.validate(&services) {
                    return Err(KioskError::Upstream(format!(
                        "the hub's roster is refused: `{key}`: {problem}"
                    )));
                }
                let json =
                    serde_json::to_string(&doc).map_err(|e| KioskError::Upstream(e.to_string()))?;
                self.store.set_upstream_roster(&json, self.now())?;
                Ok(true)
            }
            Ok(None) => {
                self.store.clear_upstream_roster()?;
                Ok(false)
            }
            Err(e) => Err(KioskError::Upstream(e.to_string())),
        }
    }

    pub fn outbox_counts(&self) -> Result<OutboxCounts, KioskError> {
        Ok(self.store.outbox_counts()?)
    }

    /// When the outbox next has something due.
    pub fn outbox_next_due(&self) -> Result<Option<DateTime<Utc>>, KioskError> {
        Ok(self.store.next_outbox_due()?)
    }

    /// Upstream's progress of a case: asked now if possible (and remembered), else the last
    /// known, saying so.
    pub async fn progress(
        &mut self,
        case: &Case,
        upstream: &Upstream,
    ) -> Result<Progress, KioskError> {
        let mut reference = self.store.outbox_reference(&case.id.to_string())?;
        if reference.as_deref() == Some(BLACKBOX) {
            // Delivered to an Open311 service that keeps no status: nothing to ask.
            return Ok(Progress::Unknown(
                "delivered to a service that keeps no status (Open311 blackbox): there is \
                 nothing to follow upstream"
                    .into(),
            ));
        }
        // A batch token: its service request id, kept once the server has assigned one.
        if let Some(token) = reference.as_deref().and_then(|r| r.strip_prefix("token:")) {
            if let Ok(Some(id)) = upstream.resolve_token(token, &self.config).await {
                let resolved = format!("id:{id}");
                self.store
                    .outbox_set_reference_of_case(&case.id.to_string(), &resolved)?;
                reference = Some(resolved);
            }
        }
        let asked = match &reference {
            None => return Ok(Progress::NotYetDelivered),
            Some(r) => {
                upstream
                    .progress(case.token.as_str(), Some(r), &self.config)
                    .await
            }
        };
        match asked {
            Ok(Some(progress)) => {
                if let Ok(json) = serde_json::to_string(&progress) {
                    self.store
                        .save_progress(&case.id.to_string(), &json, self.now())?;
                }
                Ok(Progress::Live(progress))
            }
            Ok(None) => Ok(Progress::NotYetDelivered),
            Err(e) => match self.store.saved_progress(&case.id.to_string())? {
                Some((json, fetched_at)) => match serde_json::from_str(&json) {
                    Ok(progress) => Ok(Progress::LastKnown {
                        progress,
                        fetched_at,
                        why: e.to_string(),
                    }),
                    Err(_) => Ok(Progress::Unknown(e.to_string())),
                },
                None => Ok(Progress::Unknown(e.to_string())),
            },
        }
    }
}

/// A case looked up by its code, at any kiosk: the local record when this kiosk filed it, and
/// upstream's progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    pub token: domain::TrackingToken,
    pub local: Option<crate::store::StoredCase>,
    pub progress: Progress,
    /// Whether the citizen may rate the case here and now (upstream says; `None` when it
    /// cannot be asked).
    pub rating: Option<protocol::RatingOffer>,
}

impl Kiosk {
    /// Looks a case up by what was typed or scanned (a code or a tracking URL).
    pub async fn track(
        &mut self,
        code: &str,
        upstream: Option<&Upstream>,
    ) -> Result<Tracked, KioskError> {
        let token = domain::TrackingToken::from_scan(code)?;
        let local = self.store.case_by_token(&token)?;
        let progress = match (upstream, &local) {
            (None, _) => Progress::Unknown("no upstream is configured".into()),
            (Some(upstream), Some(stored)) => self.progress(&stored.case, upstream).await?,
            (Some(upstream), None) => {
                match upstream.progress(token.as_str(), None, &self.config).await {
                    Ok(Some(progress)) => Progress::Live(progress),
                    Ok(None) => return Err(KioskError::NotFound(token.grouped())),
                    Err(e) => Progress::Unknown(e.to_string()),
                }
            }
        };
        // Only a case upstream shows as resolved can be rated; asking costs nothing otherwise.
        let resolved = matches!(
            &progress,
            Progress::Live(p) if p.state == protocol::CaseState::Resolved
        );
        let rating = match upstream {
            Some(upstream) if resolved => {
                upstream.rating_offer(token.as_str()).await.ok().flatten()
            }
            _ => None,
        };
        Ok(Tracked {
            token,
            local,
            progress,
            rating,
        })
    }

    /// The citizen holding the slip rates the case (`satisfied`, `basically_satisfied`,
    /// `unsatisfied`), as the tracking page's form does (DISTRICT.md §7).
    pub async fn rate_case(
        code: &str,
        rating: &str,
        upstream: &Upstream,
    ) -> Result<protocol::RatingOffer, KioskError> {
        let token = domain::TrackingToken::from_scan(code)?;
        let submission = protocol::RatingSubmission {
            rating: rating.to_owned(),
            reason: None,
        };
        upstream
            .rate(token.as_str(), &submission)
            .await
            .map_err(|e| KioskError::Upstream(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heartbeat_reports_each_printer_state_in_the_devices_own_word() {
        let states = PrinterState::ALL;
        for state in states {
            assert_eq!(printer_report(Some(state)).as_str(), state.as_str());
        }
        assert_eq!(printer_report(None), protocol::PrinterReport::Unknown);
        // Every code the hub accepts is one the kiosk can send.
        for report in protocol::PrinterReport::ALL {
            assert!(states.iter().any(|s| printer_report(Some(*s)) == report));
        }
    }

    #[test]
    fn backoff_grows_exponentially_up_to_the_cap_with_full_jitter() {
        assert_eq!(
            backoff(0, 0.0),
            Duration::ZERO,
            "full jitter starts at zero"
        );
        assert_eq!(backoff(0, 0.999_999), BACKOFF_BASE.mul_f64(0.999_999));
        assert_eq!(backoff(3, 1.0), BACKOFF_BASE * 8);
        assert_eq!(backoff(30, 1.0), BACKOFF_CAP, "never more than the cap");
        assert!(backoff(3, 0.5) < backoff(4, 0.5));
    }

    #[test]
    fn jitter_spreads_retries() {
        let delays: std::collections::HashSet<u128> = (0..50)
            .map(|_| backoff(5, random_unit()).as_millis())
            .collect();
        assert!(
            delays.len() > 40,
            "random delays, not one instant for every kiosk"
        );
    }
}
