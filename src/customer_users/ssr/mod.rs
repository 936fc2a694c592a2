//! Every query of customer users. Here: the staff's (a customer user of a customer in the
//! caller's scope), the one insert, activation links and the activation itself; the portal's
//! own management of colleagues is in `portal`.

pub mod portal;

use super::{
    ActivationMethod, ActivationView, CustomerUserFields, CustomerUserRow, CustomerUserStatus, CustomerUsers, Issued, EMAIL,
};
use crate::{
    auth::ssr::addresses,
    companies::ssr::scope_companies,
    customers::ssr::customer_in_scope,
    error::{AppError, FieldErrors},
    permissions::{
        grant::{CustomerUsersManage, CustomerUsersView},
        Permission,
    },
    server::{
        capability::{Allowed, Staff},
        csv::CsvWriter,
        download::{Sink, Stopped},
        errors::db_error,
        session,
        state::AppState,
    },
    services::{
        audit::{Action, Actor, Changes, Record},
        links::{self, Holder, LinkState, Purpose},
        mail::{
            enqueue,
            templates::{Mail, Occasion},
        },
    },
    ui::{PASSWORD_CONFIRM_FIELD, PASSWORD_FIELD},
    validation::{confirm_matches, Email, Password},
};
use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};

/// A customer user whose customer is in the caller's scope, locked: only [`target`] makes one.
pub struct Target {
    id: i64,
    email: String,
    display_name: String,
    status: String,
    activated: bool,
    customer_title: String,
}

/// The customer user `id` of the caller's account whose customer is in the caller's scope,
/// locked; "not found" for anyone else.
async fn target(conn: &mut PgConnection, staff: &Staff, id: i64) -> Result<Target, AppError> {
    let row = sqlx::query!(
        r#"SELECT id, email, display_name, status, password_hash IS NOT NULL AS "activated!", customer_id AS "customer_id!"
             FROM users WHERE account_id = $1 AND id = $2 AND kind = 'customer'
             FOR NO KEY UPDATE"#,
        staff.account_id(),
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(AppError::NotFound)?;
    let customer = customer_in_scope(conn, staff, row.customer_id).await?;
    Ok(Target {
        id: row.id,
        email: row.email,
        display_name: row.display_name,
        status: row.status,
        activated: row.activated,
        customer_title: customer.title().to_owned(),
    })
}

/// First and last name; people added by account (SPEC 4.4) have a single display name.
fn names(first: Option<String>, last: Option<String>, display_name: &str) -> (String, String) {
    match (first, last) {
        (Some(f), Some(l)) => (f, l),
        _ => match display_name.split_once(' ') {
            Some((f, l)) => (f.to_owned(), l.to_owned()),
            None => (display_name.to_owned(), String::new()),
        },
    }
}

fn activation_word(method: ActivationMethod) -> &'static str {
    if method == ActivationMethod::Email { "e-mailed" } else { "link shown" }
}

/// The customer users of one customer in the caller's scope.
pub async fn list(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, CustomerUsersView>, customer_id: i64) -> Result<CustomerUsers, AppError> {
    let staff = allowed.staff();
    customer_in_scope(&mut *conn, staff, customer_id).await?;
    let rows = sqlx::query!(
        r#"SELECT u.id, u.email, u.display_name, u.first_name, u.last_name, u.phone, u.description, u.status,
                  u.password_hash IS NOT NULL AS "activated!", u.last_sign_in_at, u.version,
                  (SELECT max(t.expires_at) FROM one_time_tokens t
                    WHERE t.account_id = u.account_id AND t.user_id = u.id AND t.purpose = 'activation'
                      AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $3) AS link_expires_at
             FROM users u
            WHERE u.account_id = $1 AND u.customer_id = $2 AND u.kind = 'customer'
            ORDER BY lower(u.display_name), u.id"#,
        staff.account_id(),
        customer_id,
        state.clock.now()
    )
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|r| {
            let (first, last) = names(r.first_name, r.last_name, &r.display_name);
            CustomerUserRow {
                id: r.id,
                email: r.email,
                first_name: first,
                last_name: last,
                phone: r.phone,
                description: r.description,
                status: CustomerUserStatus::of(&r.status, r.activated),
                activation_expires_at: r.link_expires_at,
                last_sign_in_at: r.last_sign_in_at,
                version: r.version,
            }
        })
        .collect();
    Ok(CustomerUsers { rows, can_manage: staff.holds(Permission::CustomerUsersManage) })
}

/// Before the transaction: an address anybody uses is refused with the one message, and
/// counted against `actor_id` (see [`addresses::ensure_free`]).
pub async fn ensure_address_free(state: &AppState, actor_id: i64, fields: &CustomerUserFields, except: Option<i64>) -> Result<(), AppError> {
    let email = Email::parse(&fields.email).map_err(crate::error::internal)?;
    addresses::ensure_free(state, actor_id, EMAIL.name, &[&email], except).await
}

/// The one insert of a customer user, awaiting activation (after [`ensure_address_free`]).
/// `None` when the address was taken in between (the unique index decides).
async fn insert(conn: &mut PgConnection, state: &AppState, account_id: i64, customer_id: i64, fields: &CustomerUserFields) -> Result<Option<i64>, AppError> {
    let now = state.clock.now();
    Ok(sqlx::query_scalar!(
        "INSERT INTO users (account_id, kind, email, display_name, first_name, last_name, phone, description,
                            customer_id, status, created_at, updated_at)
         VALUES ($1, 'customer', $2, $3, $4, $5, $6, $7, $8, 'invited', $9, $9)
         ON CONFLICT (lower(email)) WHERE status <> 'removed' DO NOTHING
         RETURNING id",
        account_id,
        fields.email,
        fields.display_name(),
        fields.first_name,
        fields.last_name,
        fields.phone,
        fields.description,
        customer_id,
        now
    )
    .fetch_optional(conn)
    .await?)
}

/// Who gets a new activation link, and who sent it.
struct Activation<'a> {
    account_id: i64,
    created_by: i64,
    user_id: i64,
    email: &'a str,
    name: &'a str,
    customer_title: &'a str,
}

/// A new activation link (the earlier one stops working), valid for the account's number of
/// days, e-mailed or handed back to be shown.
async fn issue_activation(conn: &mut PgConnection, state: &AppState, to: &Activation<'_>, method: ActivationMethod) -> Result<Issued, AppError> {
    let account = sqlx::query!("SELECT name, invitation_valid_days FROM accounts WHERE id = $1", to.account_id)
        .fetch_one(&mut *conn)
        .await?;
    let valid_for = Duration::days(account.invitation_valid_days.into());
    let link =
        links::issue(&mut *conn, state, Purpose::Activation, Holder::User(to.user_id), Some(to.account_id), Some(to.created_by), valid_for).await?;
    match method {
        ActivationMethod::Email => {
            let mail = Mail::Activation {
                name: to.name,
                account: &account.name,
                customer: to.customer_title,
                link: &link,
                valid_days: account.invitation_valid_days,
            };
            enqueue(conn, state, Some(to.account_id), to.email, mail).await?;
            Ok(Issued { email: to.email.to_owned(), link: None })
        }
        ActivationMethod::ShowLink => Ok(Issued { email: to.email.to_owned(), link: Some(link) }),
    }
}

/// Adds a customer user to a customer in the caller's scope and issues their first link.
/// Refuses an address anybody uses before its own transaction.
pub async fn create(
    state: &AppState,
    allowed: &Allowed<'_, CustomerUsersManage>,
    customer_id: i64,
    fields: &CustomerUserFields,
    method: ActivationMethod,
) -> Result<Issued, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    ensure_address_free(state, staff.user_id(), fields, None).await?;
    let mut tx = state.db.begin().await?;
    let customer = customer_in_scope(&mut tx, staff, customer_id).await?;
    let id = insert(&mut tx, state, staff.account_id(), customer.id(), fields)
        .await?
        .ok_or_else(|| AppError::field(EMAIL.name, addresses::CANNOT_USE))?;
    let name = fields.display_name();
    let to = Activation {
        account_id: staff.account_id(),
        created_by: staff.user_id(),
        user_id: id,
        email: &fields.email,
        name: &name,
        customer_title: customer.title(),
    };
    let issued = issue_activation(&mut tx, state, &to, method).await?;
    let changes = serde_json::json!({
        "email": fields.email, "name": name, "customer": customer.title(), "activation": activation_word(method),
    });
    Actor::staff(staff, now).audit(&mut tx, Action::CustomerUserCreated, Record::user(id), changes).await?;
    tx.commit().await?;
    Ok(issued)
}

/// A new activation link for a user who has not activated yet; the previous link stops working.
pub async fn resend(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, CustomerUsersManage>, id: i64, method: ActivationMethod) -> Result<Issued, AppError> {
    let staff = allowed.staff();
    let target = target(&mut *conn, staff, id).await?;
    if target.activated {
        return Err(AppError::Refused("This user has already activated their account.".into()));
    }
    if target.status == "disabled" {
        return Err(AppError::Refused("Enable this user before sending a new activation link.".into()));
    }
    let to = Activation {
        account_id: staff.account_id(),
        created_by: staff.user_id(),
        user_id: id,
        email: &target.email,
        name: &target.display_name,
        customer_title: &target.customer_title,
    };
    let issued = issue_activation(&mut *conn, state, &to, method).await?;
    Actor::staff(staff, state.clock.now())
        .audit(conn, Action::CustomerUserActivationResent, Record::user(id), serde_json::json!({ "activation": activation_word(method) }))
        .await?;
    Ok(issued)
}

/// Saves a customer user's details. A new address ends their open links and sessions; an
/// activated user is told at both addresses.
pub async fn update(state: &AppState, allowed: &Allowed<'_, CustomerUsersManage>, id: i64, version: i32, fields: &CustomerUserFields) -> Result<i32, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    // The user's own address is theirs to keep; any other one must be free.
    ensure_address_free(state, staff.user_id(), fields, Some(id)).await?;
    let mut tx = state.db.begin().await?;
    let target = target(&mut tx, staff, id).await?;
    let before = sqlx::query!(
        "SELECT email, first_name, last_name, phone, description, version FROM users WHERE account_id = $1 AND id = $2",
        staff.account_id(),
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    if before.version != version {
        return Err(AppError::Conflict);
    }
    let email_changed = before.email.to_lowercase() != fields.email.to_lowercase();
    let new_version = sqlx::query_scalar!(
        "UPDATE users SET email = $3, display_name = $4, first_name = $5, last_name = $6, phone = $7, description = $8,
                          updated_at = $9, version = version + 1
          WHERE account_id = $1 AND id = $2
          RETURNING version",
        staff.account_id(),
        id,
        fields.email,
        fields.display_name(),
        fields.first_name,
        fields.last_name,
        fields.phone,
        fields.description,
        now
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| db_error(e, &[addresses::taken(EMAIL.name)]))?;
    if email_changed {
        // The activation link and the sessions belonged to the old address: they end with it.
        links::end_access(&mut tx, id, now).await?;
        if target.activated {
            let name = fields.display_name();
            let sign_in_link = format!("{}/sign-in", state.config.base_url());
            let away = Mail::EmailChangedAway { name: &name, occasion: Occasion::now(now) };
            enqueue(&mut tx, state, Some(staff.account_id()), &before.email, away).await?;
            let here = Mail::EmailChangedHere { name: &name, sign_in_link: &sign_in_link, occasion: Occasion::now(now) };
            enqueue(&mut tx, state, Some(staff.account_id()), &fields.email, here).await?;
        }
    }
    let changes = Changes::default()
        .field("email", &before.email, &fields.email)
        .field("first_name", &before.first_name, &Some(fields.first_name.clone()))
        .field("last_name", &before.last_name, &Some(fields.last_name.clone()))
        .field("phone", &before.phone, &fields.phone)
        .field("description", &before.description, &fields.description);
    Actor::staff(staff, now).audit(&mut tx, Action::CustomerUserUpdated, Record::user(id), changes).await?;
    tx.commit().await?;
    Ok(new_version)
}

/// Disables a customer user (ending their open links and sessions) or enables them again,
/// back to active or, without a password yet, to awaiting activation. Returns the new status.
async fn set_status(conn: &mut PgConnection, account_id: i64, id: i64, enabled: bool, activated: bool, now: DateTime<Utc>) -> Result<&'static str, AppError> {
    let status = match (enabled, activated) {
        (false, _) => "disabled",
        (true, true) => "active",
        (true, false) => "invited",
    };
    sqlx::query!(
        "UPDATE users SET status = $3, updated_at = $4, version = version + 1 WHERE account_id = $1 AND id = $2",
        account_id,
        id,
        status,
        now
    )
    .execute(&mut *conn)
    .await?;
    if !enabled {
        links::end_access(conn, id, now).await?;
    }
    Ok(status)
}

/// Disables a user (their sessions end at once) or enables them again.
pub async fn set_enabled(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, CustomerUsersManage>, id: i64, enabled: bool) -> Result<(), AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let target = target(&mut *conn, staff, id).await?;
    let status = set_status(&mut *conn, staff.account_id(), id, enabled, target.activated, now).await?;
    let action = if enabled { Action::CustomerUserEnabled } else { Action::CustomerUserDisabled };
    Actor::staff(staff, now)
        .audit(conn, action, Record::user(id), serde_json::json!({ "status": { "from": target.status, "to": status } }))
        .await
}

pub async fn delete(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, CustomerUsersManage>, id: i64) -> Result<(), AppError> {
    let staff = allowed.staff();
    let target = target(&mut *conn, staff, id).await?;
    let changes = serde_json::json!({ "email": target.email, "customer": target.customer_title });
    Actor::staff(staff, state.clock.now()).audit(&mut *conn, Action::CustomerUserDeleted, Record::user(target.id), changes).await?;
    sqlx::query!("DELETE FROM users WHERE account_id = $1 AND id = $2", staff.account_id(), id).execute(conn).await?;
    Ok(())
}

/// What the activation page shows about a link.
pub async fn activation_view(state: &AppState, token: &str) -> Result<ActivationView, AppError> {
    let unknown = ActivationView { state: LinkState::Unknown, email: None, name: None, customer: None, account_name: None, expires_at: None };
    let Some(link) = links::inspect(&state.db, state, Purpose::Activation, token).await? else {
        return Ok(unknown);
    };
    let (Holder::User(user_id), Some(account_id)) = (link.holder, link.account_id) else {
        return Ok(unknown);
    };
    let row = sqlx::query!(
        r#"SELECT u.email, u.display_name, u.status, c.title AS customer, a.name AS account_name
             FROM users u
             JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
             JOIN accounts a ON a.id = u.account_id
            WHERE u.account_id = $1 AND u.id = $2"#,
        account_id,
        user_id
    )
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else {
        return Ok(unknown);
    };
    let link_state = if link.state == LinkState::Valid && row.status == "disabled" { LinkState::Revoked } else { link.state };
    if link_state != LinkState::Valid {
        return Ok(ActivationView { state: link_state, account_name: Some(row.account_name), ..unknown });
    }
    Ok(ActivationView {
        state: LinkState::Valid,
        email: Some(row.email),
        name: Some(row.display_name),
        customer: Some(row.customer),
        account_name: Some(row.account_name),
        expires_at: Some(link.expires_at),
    })
}

/// Sets the password, makes the user active, uses up the link and signs them in. A form error
/// leaves the link unused.
pub async fn activate(state: &AppState, token: &str, password: &str, password_confirm: &str) -> Result<(), AppError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let not_valid = || AppError::Refused("This activation link is not valid.".into());
    let no_longer = || AppError::Refused("This activation link no longer works. Ask for a new one.".into());
    let link = match links::redeem(&mut tx, state, Purpose::Activation, token).await? {
        Ok(link) => link,
        Err(LinkState::Used) => return Err(AppError::Refused("This account has already been activated. Sign in instead.".into())),
        Err(LinkState::Revoked) => return Err(no_longer()),
        Err(LinkState::Expired) => return Err(AppError::Refused("This activation link has expired. Ask for a new one.".into())),
        Err(_) => return Err(not_valid()),
    };
    let (Holder::User(user_id), Some(account_id)) = (link.holder, link.account_id) else {
        return Err(not_valid());
    };
    let user = sqlx::query!(
        "SELECT email, status FROM users WHERE account_id = $1 AND id = $2 AND kind = 'customer' FOR NO KEY UPDATE",
        account_id,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(not_valid)?;
    if user.status == "disabled" {
        return Err(no_longer());
    }
    let mut errors = FieldErrors::default();
    let parsed = errors.take(PASSWORD_FIELD, Password::parse(password, Some(&user.email)));
    errors.take(PASSWORD_CONFIRM_FIELD, confirm_matches(password, password_confirm));
    let Some(password) = parsed.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let hash = state.passwords.hash(&password).await?;
    sqlx::query!(
        "UPDATE users SET password_hash = $3, status = 'active', password_changed_at = $4, last_sign_in_at = $4,
                          updated_at = $4, version = version + 1
          WHERE account_id = $1 AND id = $2",
        account_id,
        user_id,
        hash,
        now
    )
    .execute(&mut *tx)
    .await?;
    session::end_current(&mut tx, state).await?;
    session::start(&mut tx, state, user_id, Some(account_id)).await?;
    crate::services::usage::ssr::add_sign_in(&mut tx, account_id, now).await?;
    Actor::person(Some(account_id), user_id, &user.email, now)
        .audit(&mut tx, Action::CustomerUserActivated, Record::user(user_id), serde_json::json!({}))
        .await?;
    tx.commit().await?;
    Ok(())
}

// ---- For an import -----------------------------------------------------------------------

/// A customer user of the caller's account whose customer is in the caller's scope, found by
/// address for an import.
#[derive(Clone, Debug)]
pub struct Known {
    pub id: i64,
    pub customer_id: i64,
    pub customer_title: String,
    pub fields: CustomerUserFields,
}

/// Of the addresses `folded` (as `lower()` folds them), the ones customer users the caller
/// manages have (locked for the transaction), and the ones anybody else uses: another
/// account's people, this account's staff, customer users out of the caller's scope. Who has
/// those is not told.
pub async fn by_addresses(conn: &mut PgConnection, staff: &Staff, folded: &[String]) -> Result<(HashMap<String, Known>, HashSet<String>), AppError> {
    let scope = scope_companies(&mut *conn, staff).await?;
    let mut known = HashMap::new();
    let mut elsewhere = HashSet::new();
    for chunk in folded.chunks(5_000) {
        let mine = sqlx::query!(
            r#"SELECT u.id, lower(u.email) AS "folded!", u.email, u.display_name, u.first_name, u.last_name, u.phone, u.description,
                      c.id AS customer_id, c.title AS customer_title
                 FROM users u
                 JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
                WHERE u.account_id = $1 AND u.kind = 'customer' AND u.status <> 'removed' AND lower(u.email) = ANY($2)
                  AND ($3::bigint[] IS NULL OR c.owner_company_id = ANY($3))
                  FOR NO KEY UPDATE OF u"#,
            staff.account_id(),
            chunk,
            scope.as_deref()
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in mine {
            let (first_name, last_name) = names(r.first_name, r.last_name, &r.display_name);
            let fields = CustomerUserFields { email: r.email, first_name, last_name, phone: r.phone, description: r.description };
            known.insert(r.folded, Known { id: r.id, customer_id: r.customer_id, customer_title: r.customer_title, fields });
        }
        let others = sqlx::query_scalar!(
            r#"SELECT DISTINCT lower(email) AS "folded!" FROM users WHERE lower(email) = ANY($1) AND status <> 'removed'"#,
            chunk
        )
        .fetch_all(&mut *conn)
        .await?;
        elsewhere.extend(others.into_iter().filter(|f| !known.contains_key(f)));
    }
    Ok((known, elsewhere))
}

/// Adds a customer user of an import to `customer` (in the caller's scope, checked by the
/// import) with its audit row, and e-mails the activation link when `send`; without it the
/// user waits for a link sent from their customer's Users tab. `None` when the address was
/// taken since the import decided.
pub async fn create_imported(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomerUsersManage>,
    customer: (i64, &str),
    fields: &CustomerUserFields,
    send: bool,
    job_id: i64,
) -> Result<Option<i64>, AppError> {
    let staff = allowed.staff();
    let Some(id) = insert(&mut *conn, state, staff.account_id(), customer.0, fields).await? else {
        return Ok(None);
    };
    let name = fields.display_name();
    if send {
        let to = Activation {
            account_id: staff.account_id(),
            created_by: staff.user_id(),
            user_id: id,
            email: &fields.email,
            name: &name,
            customer_title: customer.1,
        };
        issue_activation(&mut *conn, state, &to, ActivationMethod::Email).await?;
    }
    let changes = serde_json::json!({
        "email": fields.email, "name": name, "customer": customer.1,
        "activation": if send { "e-mailed" } else { "not sent" }, "import": job_id,
    });
    Actor::staff(staff, state.clock.now()).audit(conn, Action::CustomerUserCreated, Record::user(id), changes).await?;
    Ok(Some(id))
}

/// Saves the details an import changes of a customer user it found by address (not the
/// address: the sessions and links stay), with its audit row.
pub async fn update_imported(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, CustomerUsersManage>,
    known: &Known,
    fields: &CustomerUserFields,
    job_id: i64,
) -> Result<(), AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    sqlx::query!(
        "UPDATE users SET display_name = $3, first_name = $4, last_name = $5, phone = $6, description = $7, updated_at = $8,
                          version = version + 1
          WHERE account_id = $1 AND id = $2 AND kind = 'customer'",
        staff.account_id(),
        known.id,
        fields.display_name(),
        fields.first_name,
        fields.last_name,
        fields.phone,
        fields.description,
        now
    )
    .execute(&mut *conn)
    .await?;
    let mut changes: serde_json::Value = imported_changes(&known.fields, fields).into();
    changes["import"] = serde_json::json!(job_id);
    Actor::staff(staff, now).audit(conn, Action::CustomerUserUpdated, Record::user(known.id), changes).await
}

/// What an import would change of a customer user's details.
pub fn imported_changes(before: &CustomerUserFields, after: &CustomerUserFields) -> Changes {
    Changes::default()
        .field("first_name", &before.first_name, &after.first_name)
        .field("last_name", &before.last_name, &after.last_name)
        .field("phone", &before.phone, &after.phone)
        .field("description", &before.description, &after.description)
}

/// How many more customer users, and e-mails this month, the account's plan has room for
/// (`None`: no limit); `lock` holds the account row for the import's transaction.
pub async fn room(conn: &mut PgConnection, account_id: i64, now: DateTime<Utc>, lock: bool) -> Result<(Option<i64>, Option<i64>), AppError> {
    let month = crate::services::usage::ssr::month_of(now);
    let row = if lock {
        sqlx::query!(
            r#"SELECT customer_user_count, customer_user_limit, email_month_limit,
                      CASE WHEN email_month = $2 THEN email_month_count ELSE 0 END AS "emails!"
                 FROM accounts WHERE id = $1 FOR UPDATE"#,
            account_id,
            month
        )
        .fetch_one(conn)
        .await
        .map(|r| (r.customer_user_count, r.customer_user_limit, r.emails, r.email_month_limit))?
    } else {
        sqlx::query!(
            r#"SELECT customer_user_count, customer_user_limit, email_month_limit,
                      CASE WHEN email_month = $2 THEN email_month_count ELSE 0 END AS "emails!"
                 FROM accounts WHERE id = $1"#,
            account_id,
            month
        )
        .fetch_one(conn)
        .await
        .map(|r| (r.customer_user_count, r.customer_user_limit, r.emails, r.email_month_limit))?
    };
    let (users, user_limit, emails, email_limit) = row;
    Ok((user_limit.map(|l| (l - users).max(0)), email_limit.map(|l| (l - i64::from(emails)).max(0))))
}

/// The customer-user export's columns.
pub const EXPORT_COLUMNS: [&str; 8] = ["Customer", "First name", "Last name", "E-mail", "Phone", "Description", "Status", "Last sign-in"];

const EXPORT_BATCH: i64 = 2_000;

/// Writes the customer users of `customer` (or of every customer in the caller's scope) into
/// `sink`, by customer and name, read by keyset in one snapshot; returns how many.
pub async fn export(db: &sqlx::PgPool, allowed: &Allowed<'_, CustomerUsersView>, customer: Option<i64>, sink: &mut Sink) -> Result<u64, Stopped> {
    let staff = allowed.staff();
    let mut tx = crate::server::download::snapshot(db).await?;
    // A customer outside the scope has no rows here (the download refuses it first, as 404).
    let scope = scope_companies(&mut tx, staff).await?;
    let mut csv = CsvWriter::new();
    csv.row(EXPORT_COLUMNS);
    let mut after: Option<(String, String, i64)> = None;
    let mut written = 0;
    loop {
        let rows = sqlx::query!(
            r#"SELECT u.id, u.email, u.display_name, u.first_name, u.last_name, u.phone, u.description, u.status,
                      u.password_hash IS NOT NULL AS "activated!", u.last_sign_in_at,
                      c.title, c.title_sort AS "title_sort!", lower(u.display_name) AS "name_key!"
                 FROM users u JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
                WHERE u.account_id = $1 AND u.kind = 'customer'
                  AND ($2::bigint IS NULL OR u.customer_id = $2)
                  AND ($3::bigint[] IS NULL OR c.owner_company_id = ANY($3))
                  AND ($4::text IS NULL OR (c.title_sort, lower(u.display_name), u.id) > ($4, $5, $6))
                ORDER BY c.title_sort, lower(u.display_name), u.id
                LIMIT $7"#,
            staff.account_id(),
            customer,
            scope.as_deref(),
            after.as_ref().map(|a| a.0.clone()),
            after.as_ref().map(|a| a.1.clone()),
            after.as_ref().map(|a| a.2),
            EXPORT_BATCH,
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in &rows {
            let (first, last) = names(r.first_name.clone(), r.last_name.clone(), &r.display_name);
            let status = match CustomerUserStatus::of(&r.status, r.activated) {
                CustomerUserStatus::Active => "Active",
                CustomerUserStatus::Disabled => "Disabled",
                CustomerUserStatus::AwaitingActivation => "Awaiting activation",
            };
            csv.text(&r.title)
                .text(&first)
                .text(&last)
                .text(&r.email)
                .phone(r.phone.as_deref())
                .opt(r.description.as_deref())
                .text(status)
                .opt(r.last_sign_in_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).as_deref());
            csv.end_row();
            written += 1;
        }
        sink.send(csv.take()).await?;
        match rows.last() {
            Some(last) if rows.len() as i64 == EXPORT_BATCH => after = Some((last.title_sort.clone(), last.name_key.clone(), last.id)),
            _ => break,
        }
    }
    tx.commit().await?;
    Ok(written)
}

/// `GET /export/customer-users.csv?customer=ID`: that customer's users (every customer in the
/// caller's scope without `customer`).
pub async fn download(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use crate::server::{capability::require_staff, download};
    download::answer(state, req, |state, parts| async move {
        let staff = require_staff().await?;
        let customer = match download::query_value(&parts, "customer") {
            Some(raw) => Some(raw.parse::<i64>().map_err(|_| AppError::NotFound)?),
            None => None,
        };
        {
            // Refused here, before the file starts: no permission, or a customer out of reach.
            let allowed = staff.allow::<CustomerUsersView>()?;
            if let Some(id) = customer {
                let mut conn = state.db.acquire().await?;
                customer_in_scope(&mut conn, allowed.staff(), id).await?;
            }
        }
        Ok(download::csv_file("customer-users.csv", "customer users", |mut writer| async move {
            let allowed = staff.allow::<CustomerUsersView>()?;
            export(&state.db, &allowed, customer, &mut writer).await
        }))
    })
    .await
}
