//! What the `grievance-hub` commands other than serving do (DISTRICT.md §11): `user add`
//! (an account, its password from standard input), `user list`, and `district show`. The
//! dispatcher's page makes accounts through the same [`put_user`].

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use domain::calendar::Coverage;
use domain::district::District;
use domain::workflow::Role;

use crate::config::{is_valid_id, HubConfig};
use crate::people::{check_account, check_password_rules, hash_password};
use crate::store::accounts::{self, User};
use crate::store::{HubStore, HubStoreError};

/// An account to make.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub unit: String,
    pub role: String,
    pub name: Option<String>,
    pub password: String,
    /// Set the unit, role, name and password of an account that exists (and unlock it).
    pub replace: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A value that cannot be used, with the option or field it came from.
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    #[error("an account `{0}` exists already (add --replace to change it)")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] HubStoreError),
}

fn invalid(field: &'static str, problem: impl Into<String>) -> AdminError {
    AdminError::Invalid {
        field,
        problem: problem.into(),
    }
}

/// Checks an account's values against the district; the password is hashed here.
pub(crate) fn account(district: &District, new: &NewUser) -> Result<User, AdminError> {
    if !is_valid_id(&new.id) {
        return Err(invalid(
            "id",
            format!(
                "`{}` is not an id: letters, digits, `.`, `_` and `-`, at most 64",
                new.id
            ),
        ));
    }
    let role = Role::parse(&new.role).ok_or_else(|| {
        invalid(
            "role",
            format!(
                "`{}` is not a role: {}",
                new.role,
                Role::ALL.map(Role::as_str).join(", ")
            ),
        )
    })?;
    check_account(district, &new.unit, role).map_err(|p| invalid("unit", p))?;
    check_password_rules(&new.password).map_err(|p| invalid("password", p))?;
    let name = new.name.clone().unwrap_or_else(|| new.id.clone());
    if name.trim().is_empty() || name.chars().count() > 40 || name.chars().any(char::is_control) {
        return Err(invalid(
            "name",
            "a name is 1 to 40 characters, no control characters",
        ));
    }
    let password_hash = hash_password(&new.password).map_err(|p| invalid("password", p))?;
    Ok(User {
        id: new.id.clone(),
        unit: new.unit.clone(),
        role,
        name: name.trim().to_owned(),
        password_hash,
        failed_logins: 0,
        locked_until: None,
    })
}

/// Who makes an account at the command line, in the audit log.
pub(crate) const COMMAND_LINE: &str = "admin";

/// Stores the account `new` in `store`, in the audit log as done `by` (an account's id, or
/// [`COMMAND_LINE`]); `Ok(true)` when it was made, `Ok(false)` replaced.
pub(crate) async fn put_user(
    store: &Arc<HubStore>,
    district: &District,
    new: &NewUser,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool, AdminError> {
    // An account that is there already is not hashed for first: the kiosk's local hub asks for
    // its eight demo accounts at every start, and each hash is 19 MiB and tens of milliseconds.
    if !new.replace {
        let id = new.id.clone();
        if store
            .read(move |db| Ok(accounts::user(db, &id)?.is_some()))
            .await?
        {
            return Err(AdminError::Exists(new.id.clone()));
        }
    }
    let user = account(district, new)?;
    let replace = new.replace;
    let by = by.to_owned();
    store
        .write(move |db| {
            let existed = accounts::user(db, &user.id)?.is_some();
            if existed && !replace {
                return Ok(Err(AdminError::Exists(user.id.clone())));
            }
            accounts::put_user(db, &user, replace, now)?;
            accounts::audit(
                db,
                now,
                &by,
                if existed {
                    "user_replaced"
                } else {
                    "user_added"
                },
                Some(&user.id),
                Some(&format!("{} {}", user.unit, user.role.as_str())),
            )?;
            Ok(Ok(!existed))
        })
        .await?
}

/// `grievance-hub user add`: opens the hub's database as `config` says (blocking), and adds
/// the account.
pub async fn add_user(config: &HubConfig, new: &NewUser) -> Result<bool, AdminError> {
    let store = open_store(config).await?;
    put_user(
        &store,
        &config.district,
        new,
        COMMAND_LINE,
        config.clock.now(),
    )
    .await
}

/// `grievance-hub user list`: every account, one line each (never a password hash).
pub async fn list_users(config: &HubConfig) -> Result<Vec<String>, AdminError> {
    let store = open_store(config).await?;
    let users = store.read(accounts::users).await?;
    Ok(users
        .iter()
        .map(|u| {
            format!(
                "{}\t{}\t{}\t{}{}",
                u.id,
                u.unit,
                u.role.as_str(),
                u.name,
                match u.locked_until {
                    Some(t) if t > config.clock.now() => format!("\tlocked until {t}"),
                    _ => String::new(),
                }
            )
        })
        .collect())
}

async fn open_store(config: &HubConfig) -> Result<Arc<HubStore>, AdminError> {
    let (database, dir) = (config.database.clone(), config.data_dir.clone());
    let store = tokio::task::spawn_blocking(move || match &database {
        Some(db) => HubStore::open_postgres(db),
        None => HubStore::open(&dir),
    })
    .await
    .map_err(|e| HubStoreError::Task(e.to_string()))??;
    Ok(Arc::new(store))
}

/// `grievance-hub district show [--json]`: the tree (and, in words, the calendar's years).
pub fn district_show(config: &HubConfig, as_json: bool) -> String {
    let d = &config.district;
    if as_json {
        let units: Vec<_> = d
            .units()
            .iter()
            .map(|u| {
                json!({
                    "id": u.id,
                    "kind": u.kind.as_str(),
                    "name": u.name.zh,
                    "name_en": u.name.en,
                    "parent": u.parent,
                })
            })
            .collect();
        let years: Vec<_> = config
            .calendar
            .years()
            .map(|(y, c)| {
                json!({
                    "year": y,
                    "published": matches!(c, Coverage::Published { .. }),
                })
            })
            .collect();
        return serde_json::to_string_pretty(&json!({ "units": units, "calendar": years }))
            .expect("plain JSON");
    }
    let mut out = String::new();
    fn tree(d: &District, id: &str, depth: usize, out: &mut String) {
        let Some(u) = d.unit(id) else { return };
        out.push_str(&format!(
            "{}{} {} ({}, {})\n",
            "  ".repeat(depth),
            u.kind.as_str(),
            u.id,
            u.name.zh,
            u.name.en
        ));
        for child in d.units().iter().filter(|c| c.parent.as_deref() == Some(id)) {
            if child.kind != domain::district::UnitKind::Department {
                tree(d, &child.id, depth + 1, out);
            }
        }
    }
    tree(d, &d.root().id, 0, &mut out);
    for dept in d.of_kind(domain::district::UnitKind::Department) {
        out.push_str(&format!(
            "  department {} ({}, {})\n",
            dept.id, dept.name.zh, dept.name.en
        ));
    }
    for (year, coverage) in config.calendar.years() {
        out.push_str(&match coverage {
            Coverage::Published { source } => format!("calendar {year}: published ({source})\n"),
            Coverage::Provisional => format!(
                "calendar {year}: provisional (statutory holidays only; replace with the State Council's notice)\n"
            ),
        });
    }
    out
}
