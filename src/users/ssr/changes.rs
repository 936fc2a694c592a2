//! Changing staff users (SPEC 3.3–3.7): add one (three ways to a first password), edit, give a
//! role, reset a password, disable / enable / remove / delete. Each checks scope and authority
//! through `manageable_user`; changes of who is an active Administrator take the account's
//! authority lock first.

use super::{account_name, ensure_another_administrator, invitations::send_invitation, manageable_user, TargetUser};
use crate::{
    auth::ssr::addresses,
    companies::ssr::company_in_scope,
    error::{internal, AppError, FieldErrors},
    permissions::{grant::UsersManage, ADMINISTRATOR_RANK},
    roles::ssr::assignable_role,
    server::{
        capability::Allowed,
        errors::db_error,
        locks::{self, Guarded},
        passwords::generate_temporary,
        session,
        state::AppState,
    },
    services::{
        audit::{Action, Actor, Changes, Record},
        links::{self, Holder, Purpose},
        mail::{
            enqueue,
            templates::{Mail, Occasion},
        },
    },
    ui::{PASSWORD_CONFIRM_FIELD, PASSWORD_FIELD},
    users::{BasicInput, FirstPassword, MembershipChange, PasswordSetup, UserStatus, COMPANY, EMAIL, ROLE, TEMPORARY_PASSWORD_HOURS},
    validation::{confirm_matches, Password},
};
use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

/// A staff row as it is inserted: by "add user" and by invitations alike.
pub struct NewStaff<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub phone: Option<&'a str>,
    pub region: Option<&'a str>,
    pub description: Option<&'a str>,
    pub company_id: i64,
    pub role_id: i64,
    pub status: UserStatus,
    pub password_hash: Option<&'a str>,
    pub must_change_password: bool,
    pub password_expires_at: Option<DateTime<Utc>>,
}

/// The one insert of a staff user; an address anybody uses answers "cannot be used here" under
/// `field`.
pub async fn insert_staff(conn: &mut PgConnection, account_id: i64, new: &NewStaff<'_>, field: &'static str, now: DateTime<Utc>) -> Result<i64, AppError> {
    sqlx::query_scalar!(
        "INSERT INTO users (account_id, kind, email, display_name, phone, region, description, company_id, role_id,
                            status, password_hash, must_change_password, password_expires_at, password_changed_at,
                            created_at, updated_at)
         VALUES ($1, 'staff', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $13)
         RETURNING id",
        account_id,
        new.email,
        new.display_name,
        new.phone,
        new.region,
        new.description,
        new.company_id,
        new.role_id,
        new.status.as_str(),
        new.password_hash,
        new.must_change_password,
        new.password_expires_at,
        now
    )
    .fetch_one(conn)
    .await
    .map_err(|e| db_error(e, &[addresses::taken(field)]))
}

fn company_field(e: AppError) -> AppError {
    match e {
        AppError::NotFound => AppError::field(COMPANY.name, "Choose a company you manage."),
        other => other,
    }
}

fn role_field(e: AppError) -> AppError {
    match e {
        AppError::NotFound => AppError::field(ROLE.name, "Choose a role from the list."),
        other => other,
    }
}

/// Adds a staff user (SPEC 3.3). Hashes before its own transaction, and refuses an address
/// anybody uses before it.
pub async fn create(
    state: &AppState,
    allowed: &Allowed<'_, UsersManage>,
    basic: &BasicInput,
    first: &FirstPassword,
    company_id: i64,
    role_id: i64,
) -> Result<i64, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let temporary = matches!(first, FirstPassword::Generate).then(generate_temporary);
    let hash = match (first, &temporary) {
        (FirstPassword::Custom(password), _) => Some(state.passwords.hash(password).await?),
        (FirstPassword::Generate, Some(temp)) => Some(state.passwords.hash(&Password::parse(temp, None).map_err(internal)?).await?),
        _ => None,
    };
    addresses::ensure_free(state, staff.user_id(), EMAIL.name, &[&basic.email], None).await?;
    let mut tx = state.db.begin().await?;
    let company = company_in_scope(&mut tx, staff, company_id).await.map_err(company_field)?;
    let role = assignable_role(&mut tx, staff, role_id).await.map_err(role_field)?;
    let invited = matches!(first, FirstPassword::Invite);
    let new = NewStaff {
        email: basic.email.as_str(),
        display_name: &basic.display_name,
        phone: basic.phone.as_deref(),
        region: basic.region.as_deref(),
        description: basic.description.as_deref(),
        company_id: company.id(),
        role_id: role.id,
        status: if invited { UserStatus::Invited } else { UserStatus::Active },
        password_hash: hash.as_deref(),
        must_change_password: !invited,
        password_expires_at: temporary.as_ref().map(|_| now + Duration::hours(TEMPORARY_PASSWORD_HOURS)),
    };
    let id = insert_staff(&mut tx, staff.account_id(), &new, EMAIL.name, now).await?;
    let account = account_name(&mut tx, staff.account_id()).await?;
    let sign_in_link = format!("{}/sign-in", state.config.base_url());
    let mail = match (first, &temporary) {
        (FirstPassword::Invite, _) => None,
        (FirstPassword::Generate, Some(temp)) => Some(Mail::TemporaryPassword {
            name: &basic.display_name,
            account: &account,
            password: temp,
            sign_in_link: &sign_in_link,
            occasion: Occasion::now(now),
        }),
        _ => Some(Mail::AccountCreated { name: &basic.display_name, account: &account, inviter: staff.display_name(), sign_in_link: &sign_in_link }),
    };
    match mail {
        Some(mail) => {
            enqueue(&mut tx, state, Some(staff.account_id()), basic.email.as_str(), mail).await?;
        }
        None => send_invitation(&mut tx, state, staff, id, basic.email.as_str()).await?,
    }
    let setup = match first {
        FirstPassword::Invite => PasswordSetup::Invite,
        FirstPassword::Generate => PasswordSetup::Generate,
        FirstPassword::Custom(_) => PasswordSetup::Custom,
    };
    let changes = serde_json::json!({
        "email": basic.email.as_str(),
        "display_name": basic.display_name,
        "company": company.name(),
        "role": role.name,
        "password_setup": setup.as_str(),
    });
    Actor::staff(staff, now).audit(&mut tx, Action::UserCreated, Record::user(id), changes).await?;
    tx.commit().await?;
    Ok(id)
}

/// Saves a user's basic information (SPEC 3.4). A new address ends the user's open links and
/// sessions (they belonged to the old one); an invited user is invited again at the new one,
/// anyone else is told at both.
pub async fn update(
    state: &AppState,
    allowed: &Allowed<'_, UsersManage>,
    id: i64,
    basic: &BasicInput,
    company_id: i64,
    version: i32,
) -> Result<(), AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    // The user's own address is theirs to keep; any other one must be free.
    addresses::ensure_free(state, staff.user_id(), EMAIL.name, &[&basic.email], Some(id)).await?;
    let mut tx = state.db.begin().await?;
    let target = manageable_user(&mut tx, staff, id).await?;
    if target.version != version {
        return Err(AppError::Conflict);
    }
    let company = company_in_scope(&mut tx, staff, company_id).await.map_err(company_field)?;
    let email_changed = target.email.to_lowercase() != basic.email.normalized();
    let before = sqlx::query!(
        "SELECT u.phone, u.description, c.name AS company_name FROM users u
           JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
          WHERE u.account_id = $1 AND u.id = $2",
        staff.account_id(),
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE users SET display_name = $3, email = $4, phone = $5, region = $6, description = $7, company_id = $8,
                          updated_at = $9, version = version + 1
          WHERE account_id = $1 AND id = $2",
        staff.account_id(),
        id,
        basic.display_name,
        basic.email.as_str(),
        basic.phone,
        basic.region,
        basic.description,
        company.id(),
        now
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, &[addresses::taken(EMAIL.name)]))?;
    if email_changed {
        links::end_access(&mut tx, id, now).await?;
        if target.status == UserStatus::Invited {
            send_invitation(&mut tx, state, staff, id, basic.email.as_str()).await?;
        } else {
            notify_address_change(&mut tx, state, staff.account_id(), &basic.display_name, &target.email, basic.email.as_str()).await?;
        }
    }
    let changes = Changes::default()
        .field("display_name", &target.display_name, &basic.display_name)
        .field("email", &target.email, &basic.email.as_str().to_owned())
        .field("phone", &before.phone, &basic.phone)
        .field("region", &target.region, &basic.region)
        .field("description", &before.description, &basic.description)
        .field("company", &before.company_name, &company.name().to_owned());
    Actor::staff(staff, now).audit(&mut tx, Action::UserUpdated, Record::user(id), changes).await?;
    tx.commit().await?;
    Ok(())
}

/// Tells the old address that the sign-in address changed (not to what), and the new one that
/// it is now the sign-in address, both with when and from where.
pub async fn notify_address_change(
    conn: &mut PgConnection,
    state: &AppState,
    account_id: i64,
    name: &str,
    old: &str,
    new: &str,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let sign_in_link = format!("{}/sign-in", state.config.base_url());
    enqueue(&mut *conn, state, Some(account_id), old, Mail::EmailChangedAway { name, occasion: Occasion::now(now) }).await?;
    let here = Mail::EmailChangedHere { name, sign_in_link: &sign_in_link, occasion: Occasion::now(now) };
    enqueue(conn, state, Some(account_id), new, here).await?;
    Ok(())
}

/// Gives a user another role (SPEC 2.3): one change of who holds what at a time per account,
/// the caller's own authority read again under that lock, never their own role, never away
/// from the last Administrator.
pub async fn set_role(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, UsersManage>,
    id: i64,
    role_id: i64,
    version: i32,
) -> Result<(), AppError> {
    let staff = allowed.staff();
    locks::lock(&mut *conn, Guarded::Authority, staff.account_id()).await?;
    staff.recheck(&mut *conn).await?;
    let target = manageable_user(&mut *conn, staff, id).await?;
    if target.is_self(staff) {
        return Err(AppError::Refused("You cannot change your own role. Ask another administrator.".into()));
    }
    if target.version != version {
        return Err(AppError::Conflict);
    }
    let role = assignable_role(&mut *conn, staff, role_id).await.map_err(role_field)?;
    if target.role_rank == ADMINISTRATOR_RANK && role.rank != ADMINISTRATOR_RANK {
        ensure_another_administrator(&mut *conn, staff.account_id(), id, &target.display_name).await?;
    }
    let old_role = sqlx::query_scalar!("SELECT name FROM roles WHERE account_id = $1 AND id = $2", staff.account_id(), target.role_id)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query!(
        "UPDATE users SET role_id = $3, updated_at = $4, version = version + 1 WHERE account_id = $1 AND id = $2",
        staff.account_id(),
        id,
        role.id,
        state.clock.now()
    )
    .execute(&mut *conn)
    .await?;
    Actor::staff(staff, state.clock.now())
        .audit(conn, Action::UserRoleChanged, Record::user(id), Changes::default().field("role", &old_role, &role.name))
        .await
}

/// How an administrator resets a password (SPEC 3.5).
pub enum Reset {
    /// A temporary password, e-mailed, valid 24 hours.
    Generate,
    /// Typed twice by the administrator.
    Manual { password: String, password_confirm: String },
}

/// Resets a user's password; either way the user's sessions end and they choose their own
/// password at the next sign-in. Checks the target before hashing, and again in its own
/// transaction.
pub async fn reset_password(state: &AppState, allowed: &Allowed<'_, UsersManage>, id: i64, reset: Reset) -> Result<(), AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let target = {
        let mut conn = state.db.acquire().await?;
        manageable_user(&mut conn, staff, id).await?
    };
    check_resettable(&target, staff.user_id())?;
    let (temporary, password, mode) = match reset {
        Reset::Generate => {
            let temp = generate_temporary();
            let parsed = Password::parse(&temp, None).map_err(internal)?;
            (Some(temp), parsed, "generate")
        }
        Reset::Manual { password, password_confirm } => {
            let mut errors = FieldErrors::default();
            let parsed = errors.take(PASSWORD_FIELD, Password::parse(&password, Some(&target.email)));
            errors.take(PASSWORD_CONFIRM_FIELD, confirm_matches(&password, &password_confirm));
            match parsed {
                Some(p) if errors.is_empty() => (None, p, "manual"),
                _ => return Err(AppError::Validation(errors)),
            }
        }
    };
    let hash = state.passwords.hash(&password).await?;
    let mut tx = state.db.begin().await?;
    let target = manageable_user(&mut tx, staff, id).await?;
    sqlx::query!(
        "UPDATE users SET password_hash = $3, must_change_password = true, password_expires_at = $4,
                          password_changed_at = $5, updated_at = $5
          WHERE account_id = $1 AND id = $2",
        staff.account_id(),
        id,
        hash,
        temporary.as_ref().map(|_| now + Duration::hours(TEMPORARY_PASSWORD_HOURS)),
        now
    )
    .execute(&mut *tx)
    .await?;
    links::revoke(&mut tx, Purpose::PasswordReset, Holder::User(id), now).await?;
    session::end_all(&mut tx, id).await?;
    let account = account_name(&mut tx, staff.account_id()).await?;
    let sign_in_link = format!("{}/sign-in", state.config.base_url());
    let mail = match &temporary {
        Some(temp) => Mail::TemporaryPassword {
            name: &target.display_name,
            account: &account,
            password: temp,
            sign_in_link: &sign_in_link,
            occasion: Occasion::now(now),
        },
        None => Mail::PasswordSetByAdministrator { name: &target.display_name, account: &account, sign_in_link: &sign_in_link, occasion: Occasion::now(now) },
    };
    enqueue(&mut tx, state, Some(staff.account_id()), &target.email, mail).await?;
    let changes = Changes::default().secret("password").field("mode", &"", &mode);
    Actor::staff(staff, now).audit(&mut tx, Action::UserPasswordResetByAdministrator, Record::user(id), changes).await?;
    tx.commit().await?;
    Ok(())
}

fn check_resettable(target: &TargetUser, caller: i64) -> Result<(), AppError> {
    if target.id == caller {
        return Err(AppError::Refused("Change your own password from your profile.".into()));
    }
    if target.status != UserStatus::Active && target.status != UserStatus::Disabled {
        return Err(AppError::Refused("This person has not accepted their invitation yet. Resend it instead.".into()));
    }
    Ok(())
}

/// Disables, enables, removes or deletes a user (SPEC 3.7): never oneself, never the last
/// active Administrator; a disable or a removal ends the user's open links and sessions.
pub async fn change_membership(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, UsersManage>,
    id: i64,
    change: MembershipChange,
) -> Result<(), AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    // Who is an active Administrator changes here: one such change at a time per account.
    locks::lock(&mut *conn, Guarded::Authority, staff.account_id()).await?;
    staff.recheck(&mut *conn).await?;
    let target = manageable_user(&mut *conn, staff, id).await?;
    if target.is_self(staff) && change != MembershipChange::Enable {
        return Err(AppError::Refused("You cannot do this to yourself. Ask another administrator.".into()));
    }
    if target.role_rank == ADMINISTRATOR_RANK && change != MembershipChange::Enable && target.status == UserStatus::Active {
        ensure_another_administrator(&mut *conn, staff.account_id(), id, &target.display_name).await?;
    }
    let (action, allowed_from, becomes): (Action, &[UserStatus], Option<UserStatus>) = match change {
        MembershipChange::Disable => (Action::UserDisabled, &[UserStatus::Active], Some(UserStatus::Disabled)),
        MembershipChange::Enable => (Action::UserEnabled, &[UserStatus::Disabled], Some(UserStatus::Active)),
        MembershipChange::Remove => (Action::UserRemoved, &[UserStatus::Invited, UserStatus::Active, UserStatus::Disabled], Some(UserStatus::Removed)),
        MembershipChange::Delete => (Action::UserDeleted, &[UserStatus::Invited, UserStatus::Active, UserStatus::Disabled], None),
    };
    if !allowed_from.contains(&target.status) {
        let state_word = if change == MembershipChange::Enable { "disabled" } else { "active" };
        return Err(AppError::Refused(format!("{} is not {state_word}.", target.display_name)));
    }
    // Written while the user still exists, so the row knows which company it concerns.
    let changes = serde_json::json!({ "email": target.email, "display_name": target.display_name });
    Actor::staff(staff, now).audit(&mut *conn, action, Record::user(id), changes).await?;
    match becomes {
        Some(status) => {
            sqlx::query!(
                "UPDATE users SET status = $3, updated_at = $4, version = version + 1,
                                  removed_at = CASE WHEN $3 = 'removed' THEN $4 ELSE removed_at END
                  WHERE account_id = $1 AND id = $2",
                staff.account_id(),
                id,
                status.as_str(),
                now
            )
            .execute(&mut *conn)
            .await?;
        }
        None => {
            sqlx::query!("DELETE FROM users WHERE account_id = $1 AND id = $2", staff.account_id(), id).execute(&mut *conn).await?;
        }
    }
    if matches!(change, MembershipChange::Disable | MembershipChange::Remove) {
        // Open links and sessions end with the access they were for.
        links::end_access(conn, id, now).await?;
    }
    Ok(())
}
