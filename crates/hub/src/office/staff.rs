//! Accounts from the dispatcher's page (`/users`) and the API (`/api/v1/district/users`): the
//! list, a new account, a new password. The rules are `Role::manages_accounts_of` (the
//! dispatcher, for every role but the auditor's); the checks of a new account are the ones
//! `grievance-hub user add` makes ([`crate::admin::account`]). Every change and every refusal
//! is in the audit log.

use std::sync::Arc;

use domain::t;
use domain::words::Said;
use domain::workflow::Role;

use super::{said, OfficeError};
use crate::admin::{self, AdminError, NewUser};
use crate::people::{check_password_rules, hash_password, Session};
use crate::server::HubState;
use crate::store::accounts::{self, User};

impl From<AdminError> for OfficeError {
    fn from(e: AdminError) -> OfficeError {
        match e {
            AdminError::Invalid { field, problem } => OfficeError::Invalid {
                field,
                problem: Said::untranslated(problem),
            },
            AdminError::Exists(id) => {
                OfficeError::Conflict(Said::new(move |lang| t!(lang, "账号“{}”已经有了", id)))
            }
            AdminError::Store(e) => OfficeError::Store(e),
        }
    }
}

/// Whether this person may look after accounts at all.
pub(crate) fn manages_accounts(s: &Session) -> bool {
    Role::ALL
        .into_iter()
        .any(|r| s.user.role.manages_accounts_of(r))
}

async fn refuse(hub: &Arc<HubState>, s: &Session, target: &str, why: Said) -> OfficeError {
    let (user, target, now) = (s.user.id.clone(), target.to_owned(), hub.now());
    let logged = hub
        .store()
        .write(move |db| {
            accounts::audit(db, now, &user, "refused", Some(&target), Some("accounts"))
        })
        .await;
    match logged {
        Ok(()) => OfficeError::Forbidden(why),
        Err(e) => OfficeError::Store(e),
    }
}

/// Every account (never a password's hash leaves this module's callers' pages).
pub(crate) async fn list(hub: &Arc<HubState>, s: &Session) -> Result<Vec<User>, OfficeError> {
    if !manages_accounts(s) {
        return Err(refuse(hub, s, "users", said!("只有调度员管理账号")).await);
    }
    Ok(hub.store().read(accounts::users).await?)
}

/// Makes the account `new` (never replacing one); `new.replace` is ignored.
pub(crate) async fn add(
    hub: &Arc<HubState>,
    s: &Session,
    mut new: NewUser,
) -> Result<(), OfficeError> {
    new.replace = false;
    let allowed = Role::parse(&new.role).is_none_or(|r| s.user.role.manages_accounts_of(r));
    if !allowed {
        return Err(refuse(
            hub,
            s,
            &new.id,
            said!("审计员的账号只能在服务器的命令行上建立"),
        )
        .await);
    }
    if !manages_accounts(s) {
        return Err(refuse(hub, s, &new.id, said!("只有调度员管理账号")).await);
    }
    let district = &hub.config().district;
    admin::put_user(hub.store(), district, &new, &s.user.id, hub.now()).await?;
    Ok(())
}

/// Gives the account `id` a new password: it is unlocked and every session of the old
/// password ends.
pub(crate) async fn set_password(
    hub: &Arc<HubState>,
    s: &Session,
    id: &str,
    password: &str,
) -> Result<(), OfficeError> {
    if !manages_accounts(s) {
        return Err(refuse(hub, s, id, said!("只有调度员管理账号")).await);
    }
    let owned = id.to_owned();
    let Some(mut user) = hub
        .store()
        .read(move |db| accounts::user(db, &owned))
        .await?
    else {
        return Err(OfficeError::NoAccount);
    };
    if !s.user.role.manages_accounts_of(user.role) {
        return Err(refuse(hub, s, id, said!("审计员的密码只能在服务器的命令行上设置")).await);
    }
    let refused = |p: String| super::invalid("password", Said::untranslated(p));
    check_password_rules(password).map_err(refused)?;
    user.password_hash = hash_password(password).map_err(refused)?;
    let (by, now) = (s.user.id.clone(), hub.now());
    hub.store()
        .write(move |db| {
            accounts::put_user(db, &user, true, now)?;
            accounts::audit(db, now, &by, "password_set", Some(&user.id), None)
        })
        .await?;
    Ok(())
}
