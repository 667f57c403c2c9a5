//! Which upstream the kiosk forwards to: the configured one (`KIOSK_UPSTREAM_URL`), or, when
//! none is configured, the reference hub run inside the kiosk on loopback, so that one
//! `cargo run` shows the whole loop (intake → slip → forward → track). The local hub keeps its
//! database in `<data_dir>/hub`, and its tokens beside it, made at random once: the station's
//! (`station-token`), a demo department's (`department-token`, department `district-office`,
//! for trying the department API) and the operator page's (`operator-token`); and an account
//! of the back office for each role of the demo district (`/login`), their passwords made at
//! random once and kept in `demo-accounts.txt` ([`DEMO_ACCOUNTS`]).

use std::path::Path;

use tokio::net::TcpListener;

use hub::{HubConfig, RunningHub, Secret};
use station::config::{KioskConfig, UpstreamKind};
use station::upstream::client::Upstream;

/// The upstream in use, and the local hub when the kiosk runs one.
pub(crate) struct Connection {
    pub(crate) upstream: Upstream,
    pub(crate) local_hub: Option<RunningHub>,
}

/// Where a local hub listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listen {
    /// The host and port of `tracking_base_url`, so the QR codes on slips open its pages (the
    /// touchscreen); another free port if that one is taken.
    TrackingAddress,
    /// Any free loopback port (the command line, for as long as one command runs).
    AnyPort,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error("cannot keep the local hub's station token in {path}: {reason}")]
    Token { path: String, reason: String },
    #[error("cannot start the local hub: {0:#}")]
    Hub(anyhow::Error),
    #[error("cannot make the local hub's demo accounts: {0}")]
    Accounts(String),
}

/// The demo district's accounts the local hub makes (id, unit, role, name), one per role.
pub(crate) const DEMO_ACCOUNTS: &[(&str, &str, &str, &str)] = &[
    ("dispatcher", "demo-district", "dispatcher", "调度员小陈"),
    ("secretary", "gm-north", "secretary", "光明北社区书记"),
    ("community", "gm-north", "community", "光明北社区网格员"),
    ("street", "guangming", "street", "光明街道督导"),
    ("housing", "housing", "department", "住建局承办人"),
    ("labour", "labour", "department", "人社局承办人"),
    ("leader", "demo-district", "leader", "区领导"),
    ("auditor", "demo-district", "auditor", "审计员"),
];

/// Makes the demo accounts the local hub does not have yet, each with the password kept for it
/// in `demo-accounts.txt` (one `id<TAB>password<TAB>role<TAB>unit` a line; made at random once).
async fn demo_accounts(hub: &RunningHub, dir: &Path) -> Result<std::path::PathBuf, ConnectError> {
    let path = dir.join("demo-accounts.txt");
    let fail =
        |e: &dyn std::fmt::Display| ConnectError::Accounts(format!("{}: {e}", path.display()));
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    let mut lines: Vec<String> = kept.lines().map(str::to_owned).collect();
    let password_of = |lines: &[String], id: &str| {
        lines
            .iter()
            .filter_map(|l| l.split_once('\t'))
            .find(|(i, _)| *i == id)
            .and_then(|(_, rest)| rest.split('\t').next())
            .map(str::to_owned)
    };
    for (id, unit, role, name) in DEMO_ACCOUNTS {
        let password = match password_of(&lines, id) {
            Some(p) => p,
            None => {
                let mut bytes = [0u8; 9];
                getrandom::fill(&mut bytes).map_err(|e| fail(&e))?;
                let p: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                lines.push(format!("{id}\t{p}\t{role}\t{unit}"));
                p
            }
        };
        let made = hub
            .add_user(&hub::admin::NewUser {
                id: (*id).into(),
                unit: (*unit).into(),
                role: (*role).into(),
                name: Some((*name).into()),
                password,
                replace: false,
            })
            .await;
        match made {
            Ok(_) | Err(hub::admin::AdminError::Exists(_)) => {}
            Err(e) => return Err(fail(&e)),
        }
    }
    let text = format!("{}\n", lines.join("\n"));
    if text.trim() != kept.trim() {
        devices::printer::transport::write_atomically(&path, text.as_bytes())
            .map_err(|e| fail(&e))?;
    }
    Ok(path)
}

/// The configured upstream, or a local hub started now.
pub(crate) async fn connect(
    config: &KioskConfig,
    listen: Listen,
) -> Result<Connection, ConnectError> {
    if let Some(url) = &config.upstream.url {
        let token = config.upstream.token.clone().unwrap_or_default();
        return Ok(Connection {
            upstream: Upstream::new(url, config.upstream.kind, &token),
            local_hub: None,
        });
    }
    let dir = config.data_dir.join("hub");
    let token = secret(&dir, "station-token")?;
    let mut hub_config = HubConfig::new(&dir).with_station(&config.station.id, &token);
    hub_config.department_tokens = vec![(
        DEMO_DEPARTMENT.into(),
        Secret::new(secret(&dir, "department-token")?),
    )];
    let operator = secret(&dir, "operator-token")?;
    hub_config.operator_token = Some(Secret::new(operator.clone()));
    hub_config
        .station_names
        .insert(config.station.id.clone(), config.station.name.zh.clone());
    let listener = bind(config, listen)
        .await
        .map_err(|e| ConnectError::Hub(e.into()))?;
    let hub = hub::start(hub_config, listener)
        .await
        .map_err(ConnectError::Hub)?;
    if listen == Listen::TrackingAddress {
        let accounts = demo_accounts(&hub, &dir).await?;
        // The touchscreen says once where its hub is, so the loop can be followed by hand.
        let base = hub.base_url();
        tracing::info!(
            "local hub: no KIOSK_UPSTREAM_URL, so the district hub runs inside the kiosk at \
             {base} (operator page: {base}/operator?token={operator}; the back office: \
             {base}/login, the demo accounts and their passwords in {}; department token for \
             `{DEMO_DEPARTMENT}` in {})",
            accounts.display(),
            dir.join("department-token").display()
        );
        if !config.upstream.tracking_base_url.starts_with(&base) {
            tracing::warn!(
                tracking_base_url = %config.upstream.tracking_base_url,
                listening = %base,
                "local hub: the slips' QR codes point where this hub is not listening (the port \
                 was taken)"
            );
        }
    }
    Ok(Connection {
        upstream: Upstream::new(&hub.base_url(), UpstreamKind::Native, &token),
        local_hub: Some(hub),
    })
}

async fn bind(config: &KioskConfig, listen: Listen) -> std::io::Result<TcpListener> {
    if listen == Listen::TrackingAddress {
        let base = &config.upstream.tracking_base_url;
        let authority = base
            .split_once("://")
            .map_or(base.as_str(), |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or("");
        // Only ever a loopback address: the local hub is for a demo or a kiosk on its own.
        if let Some(port) = authority
            .strip_prefix("127.0.0.1:")
            .or_else(|| authority.strip_prefix("localhost:"))
        {
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", port.parse().unwrap_or(0))).await
            {
                return Ok(listener);
            }
        }
    }
    TcpListener::bind(("127.0.0.1", 0)).await
}

/// The department the local hub knows, for trying the department API by hand.
pub(crate) const DEMO_DEPARTMENT: &str = "district-office";

/// A token the kiosk and its local hub share (`name` in `dir`), made once at random and kept.
fn secret(dir: &Path, name: &str) -> Result<String, ConnectError> {
    let path = dir.join(name);
    let fail = |e: &dyn std::fmt::Display| ConnectError::Token {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let token = existing.trim();
        if token.len() >= 32 {
            return Ok(token.to_owned());
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| fail(&e))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    devices::printer::transport::write_atomically(&path, token.as_bytes()).map_err(|e| fail(&e))?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_demo_accounts_are_made_once_and_their_kept_passwords_log_in() {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let hub = hub::start(HubConfig::new(dir.path()), listener)
            .await
            .unwrap();
        let path = demo_accounts(&hub, dir.path()).await.unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert_eq!(first.lines().count(), DEMO_ACCOUNTS.len());
        // A second start keeps the same passwords and makes nothing new.
        demo_accounts(&hub, dir.path()).await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        for line in first.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let (id, password, role) = (fields[0], fields[1], fields[2]);
            let r = client
                .post(format!("{}/api/v1/login", hub.base_url()))
                .json(&serde_json::json!({"user": id, "password": password}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{id}");
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["role"], role);
        }
    }
}
