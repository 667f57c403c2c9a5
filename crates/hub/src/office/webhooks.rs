//! The units' webhooks (DISTRICT.md §6): a unit that gave a `webhook` in the district file is
//! told of the orders it receives, and of the chases and supervision raised on its deadlines.
//! A message is a plain JSON object, or a WeCom group robot's text message (`format = "wecom"`,
//! the seed's "发令执行" group). It never carries personal data: the case's code, its service,
//! the unit, the deadline and the step.
//!
//! Messages are queued in `webhook_outbox` in the same transaction as what they tell of, and
//! sent by a task of their own ([`deliver`]): a page never waits for a webhook. Each process
//! claims a few due messages for a minute (so two processes do not send the same one), sends
//! each within `HUB_WEBHOOK_TIMEOUT` (10 seconds), and marks it delivered on a 2xx; any other answer, a refused
//! connection or a hang is tried again later, waiting twice as long each time (1 minute up to
//! an hour), and given up after [`MAX_ATTEMPTS`] (it stays in the table with its error).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use domain::chasing::{Step, Watched};
use domain::district::WebhookFormat;

use crate::clock::stamp;
use crate::config::HubConfig;
use crate::server::HubState;
use crate::store::district::{self as store, DistrictCase, Order};
use crate::store::sql::Db;
use crate::store::HubStoreError;

/// How often each process looks for messages to send.
pub(crate) const LOOK_EVERY: Duration = Duration::from_secs(5);
/// Attempts before a message is given up.
pub(crate) const MAX_ATTEMPTS: i64 = 24;

/// The wait before attempt `attempts + 1`: 1, 2, 4 … minutes, at most an hour.
pub(crate) fn backoff(attempts: i64) -> chrono::Duration {
    chrono::Duration::minutes(1i64 << attempts.clamp(0, 6)).min(chrono::Duration::hours(1))
}

fn step_words(step: Step) -> &'static str {
    match step {
        Step::Reminder => "提醒",
        Step::Chase => "催办",
        Step::Supervision => "督办",
    }
}

fn deadline_words(name: &str) -> &'static str {
    match name.split(':').next().unwrap_or(name) {
        "accept" => "签收",
        "resolve" => "办结",
        "reply" => "接令",
        "arrive" => "到场",
        _ => "期限",
    }
}

/// Queues the message of a chase or supervision for the unit that must act, if it has a webhook.
pub(crate) fn enqueue(
    config: &HubConfig,
    db: &mut dyn Db,
    case: &DistrictCase,
    w: &Watched,
    step: Step,
    now: DateTime<Utc>,
) -> Result<(), HubStoreError> {
    let district = &config.district;
    let Some(unit) = district.unit(&w.unit) else {
        return Ok(());
    };
    let Some(hook) = &unit.webhook else {
        return Ok(());
    };
    let service = config
        .catalogue
        .service(&case.service)
        .map(|s| {
            let sub = s
                .subtype(&case.subtype)
                .map(|t| t.name.zh.as_str())
                .unwrap_or("");
            format!("{}·{sub}", s.name.zh)
        })
        .unwrap_or_else(|| case.service.clone());
    let body = match hook.format {
        WebhookFormat::Json => json!({
            "event": step.as_str(),
            "case": case.token,
            "unit": w.unit,
            "deadline": w.name,
            "due": stamp(w.due),
            "service": case.service,
            "subtype": case.subtype,
            "at": stamp(now),
        }),
        WebhookFormat::Wecom => json!({
            "msgtype": "text",
            "text": {"content": format!(
                "【{}】{}：{}（案件 {}…）的{}期限 {} 已到，请即处理。",
                step_words(step),
                unit.name.zh,
                service,
                &case.token[..4.min(case.token.len())],
                deadline_words(&w.name),
                super::local_minute(w.due),
            )},
        }),
    };
    store::enqueue_webhook(db, &w.unit, &hook.url, &body.to_string(), now)
}

/// Queues the message of a new order for the department ordered, if it has a webhook.
pub(crate) fn enqueue_order(
    config: &HubConfig,
    db: &mut dyn Db,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<(), HubStoreError> {
    let district = &config.district;
    let Some(unit) = district.unit(&order.department) else {
        return Ok(());
    };
    let Some(hook) = &unit.webhook else {
        return Ok(());
    };
    let community = district
        .unit(&order.community)
        .map_or(order.community.as_str(), |u| u.name.zh.as_str());
    let body = match hook.format {
        WebhookFormat::Json => json!({
            "event": "order",
            "order": order.number,
            "id": order.id,
            "case": order.token,
            "community": order.community,
            "department": order.department,
            "place": order.place,
            "arrive_by": stamp(order.arrive_by),
            "reply_by": stamp(order.reply_by),
            "staff": order.staff,
            "at": stamp(now),
        }),
        WebhookFormat::Wecom => json!({
            "msgtype": "text",
            "text": {"content": format!(
                "【发令】{community} {}：请{}于 {} 前派 {} 人到 {}；{} 前接令。",
                order.number,
                unit.name.zh,
                super::local_minute(order.arrive_by),
                order.staff,
                order.place,
                super::local_minute(order.reply_by),
            )},
        }),
    };
    store::enqueue_webhook(db, &order.department, &hook.url, &body.to_string(), now)
}

/// Sends what is due, for as long as the hub serves (aborted when it stops).
pub(crate) async fn deliver(state: Arc<HubState>) {
    let timeout = state.config().webhook_timeout;
    let client = match reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks: no HTTP client; nothing will be sent");
            return;
        }
    };
    let mut ticks = tokio::time::interval(LOOK_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = send_due(&state, &client).await {
            tracing::warn!(error = %e, "webhooks: not sent now; trying again shortly");
        }
    }
}

/// One look: claims the due messages and sends each; returns how many were delivered.
pub(crate) async fn send_due(
    state: &Arc<HubState>,
    client: &reqwest::Client,
) -> Result<usize, HubStoreError> {
    let now = state.now();
    let lease = now + chrono::Duration::seconds(60);
    let claimed = state
        .store()
        .write(move |db| store::claim_webhooks(db, now, lease, 20))
        .await?;
    let mut delivered = 0;
    for message in claimed {
        let outcome = client
            .post(&message.url)
            .header("content-type", "application/json")
            .body(message.body.clone())
            .send()
            .await;
        let failure = match outcome {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(format!("answered {}", r.status())),
            Err(e) if e.is_timeout() => Some(format!(
                "no answer within {} s",
                state.config().webhook_timeout.as_secs()
            )),
            Err(e) => Some(format!("not reached: {e}")),
        };
        let at = state.now();
        let attempts = message.attempts + 1;
        match &failure {
            None => delivered += 1,
            Some(why) => {
                tracing::warn!(id = message.id, attempts, why = %why, "webhook: not delivered")
            }
        }
        let next = (attempts < MAX_ATTEMPTS).then(|| at + backoff(message.attempts));
        let id = message.id;
        state
            .store()
            .write(move |db| store::webhook_sent(db, id, at, failure.as_deref().map(|f| (f, next))))
            .await?;
    }
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_an_hour() {
        let minutes: Vec<i64> = (0..9).map(|a| backoff(a).num_minutes()).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
