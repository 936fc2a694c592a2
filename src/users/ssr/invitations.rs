//! Invitations (SPEC 3.6): many addresses at once with one role and company; each gets a
//! single-use link valid for the account's number of days; resend replaces the link, revoke
//! withdraws it, and the person accepts by choosing a name and a password.

use super::{
    changes::{insert_staff, NewStaff},
    manageable_user,
};
use crate::{
    auth::ssr::addresses,
    companies::ssr::company_in_scope,
    error::{AppError, FieldErrors, Limit},
    permissions::grant::UsersManage,
    roles::ssr::assignable_role,
    server::{capability::{Allowed, Staff}, session, state::AppState},
    services::{
        audit::{Action, Actor, Record},
        links::{self, Holder, LinkState, Purpose},
        mail::{enqueue, templates::Mail},
        usage::ssr as usage,
    },
    ui::{PASSWORD_CONFIRM_FIELD, PASSWORD_FIELD},
    users::{InvitationView, UserStatus, COMPANY, EMAILS, INVITED_NAME, ROLE},
    validation::{confirm_matches, Email, Password, NAME_MAX_CHARS},
};
use chrono::Duration;
use sqlx::PgConnection;

/// A fresh invitation link for `user_id` (the earlier one stops working) and its e-mail,
/// valid for the account's number of days.
pub async fn send_invitation(conn: &mut PgConnection, state: &AppState, staff: &Staff, user_id: i64, email: &str) -> Result<(), AppError> {
    let account = sqlx::query!("SELECT name, invitation_valid_days FROM accounts WHERE id = $1", staff.account_id())
        .fetch_one(&mut *conn)
        .await?;
    let valid_for = Duration::days(account.invitation_valid_days.into());
    let link = links::issue(
        &mut *conn,
        state,
        Purpose::Invitation,
        Holder::User(user_id),
        Some(staff.account_id()),
        Some(staff.user_id()),
        valid_for,
    )
    .await?;
    let mail = Mail::Invitation { inviter: staff.display_name(), account: &account.name, link: &link, valid_days: account.invitation_valid_days };
    enqueue(conn, state, Some(staff.account_id()), email, mail).await?;
    Ok(())
}

/// Invites every address with one role and one company; all or none. Refuses addresses anybody
/// uses before its own transaction. Returns how many were invited.
pub async fn invite(state: &AppState, allowed: &Allowed<'_, UsersManage>, addresses: &[Email], company_id: i64, role_id: i64) -> Result<usize, AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let listed: Vec<&Email> = addresses.iter().collect();
    addresses::ensure_free(state, staff.user_id(), EMAILS.name, &listed, None).await?;
    let mut tx = state.db.begin().await?;
    let company = company_in_scope(&mut tx, staff, company_id).await.map_err(|e| match e {
        AppError::NotFound => AppError::field(COMPANY.name, "Choose a company you manage."),
        other => other,
    })?;
    let role = assignable_role(&mut tx, staff, role_id).await.map_err(|e| match e {
        AppError::NotFound => AppError::field(ROLE.name, "Choose a role from the list."),
        other => other,
    })?;
    // All or none: say how many would fit before inviting any.
    let adding = addresses.len() as i64;
    usage::ensure_room(&mut tx, staff.account_id(), Limit::StaffUsers, adding, now).await?;
    usage::ensure_room(&mut tx, staff.account_id(), Limit::EmailsPerMonth, adding, now).await?;
    for address in addresses {
        let placeholder: String = address.as_str().split('@').next().unwrap_or("Invited").chars().take(NAME_MAX_CHARS).collect();
        let new = NewStaff {
            email: address.as_str(),
            display_name: &placeholder,
            phone: None,
            region: None,
            description: None,
            company_id: company.id(),
            role_id: role.id,
            status: UserStatus::Invited,
            password_hash: None,
            must_change_password: false,
            password_expires_at: None,
        };
        let id = insert_staff(&mut tx, staff.account_id(), &new, EMAILS.name, now).await?;
        send_invitation(&mut tx, state, staff, id, address.as_str()).await?;
        let changes = serde_json::json!({ "email": address.as_str(), "role": role.name, "company": company.name() });
        Actor::staff(staff, now).audit(&mut tx, Action::UserInvited, Record::user(id), changes).await?;
    }
    tx.commit().await?;
    Ok(addresses.len())
}

/// A new link for an invited user; the old one stops working.
pub async fn resend(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, UsersManage>, id: i64) -> Result<(), AppError> {
    let staff = allowed.staff();
    let target = manageable_user(&mut *conn, staff, id).await?;
    if target.status != UserStatus::Invited {
        return Err(AppError::Refused(format!("{} has already accepted.", target.display_name)));
    }
    send_invitation(&mut *conn, state, staff, id, &target.email).await?;
    Actor::staff(staff, state.clock.now())
        .audit(conn, Action::UserInvitationResent, Record::user(id), serde_json::json!({ "email": target.email }))
        .await
}

/// Withdraws an invitation: the link stops working and the address is free again.
pub async fn revoke(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, UsersManage>, id: i64) -> Result<(), AppError> {
    let staff = allowed.staff();
    let now = state.clock.now();
    let target = manageable_user(&mut *conn, staff, id).await?;
    if target.status != UserStatus::Invited {
        return Err(AppError::Refused(format!("{} has already accepted.", target.display_name)));
    }
    links::revoke(&mut *conn, Purpose::Invitation, Holder::User(id), now).await?;
    sqlx::query!(
        "UPDATE users SET status = 'removed', removed_at = $3, updated_at = $3, version = version + 1
          WHERE account_id = $1 AND id = $2",
        staff.account_id(),
        id,
        now
    )
    .execute(&mut *conn)
    .await?;
    Actor::staff(staff, now)
        .audit(conn, Action::UserInvitationRevoked, Record::user(id), serde_json::json!({ "email": target.email }))
        .await
}

/// What the accept page shows about a link. Whose it is (the address, the account) only while
/// it works; a dead link names only whom to ask for a new one.
pub async fn view(state: &AppState, token: &str) -> Result<InvitationView, AppError> {
    let unknown = InvitationView { state: LinkState::Unknown, email: None, account_name: None, inviter: None, expires_at: None };
    let Some(link) = links::inspect(&state.db, state, Purpose::Invitation, token).await? else {
        return Ok(unknown);
    };
    let (Holder::User(user_id), Some(account_id)) = (link.holder, link.account_id) else {
        return Ok(unknown);
    };
    let row = sqlx::query!(
        r#"SELECT u.email, a.name AS account_name, i.display_name AS "inviter_name?", i.email AS "inviter_email?"
             FROM users u
             JOIN accounts a ON a.id = u.account_id
             LEFT JOIN users i ON i.account_id = u.account_id AND i.id = $3
            WHERE u.account_id = $1 AND u.id = $2"#,
        account_id,
        user_id,
        link.created_by
    )
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else {
        return Ok(unknown);
    };
    if link.state != LinkState::Valid {
        return Ok(InvitationView { state: link.state, email: None, account_name: None, inviter: row.inviter_name, expires_at: None });
    }
    let inviter = match (row.inviter_name, row.inviter_email) {
        (Some(name), Some(email)) => Some(format!("{name} ({email})")),
        _ => None,
    };
    Ok(InvitationView {
        state: LinkState::Valid,
        email: Some(row.email),
        account_name: Some(row.account_name),
        inviter,
        expires_at: Some(link.expires_at),
    })
}

/// Accepts an invitation: sets the name and password, makes the user active and signs them
/// in. A form error leaves the link unused.
pub async fn accept(state: &AppState, token: &str, display_name: &str, password: &str, password_confirm: &str) -> Result<(), AppError> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let accepted = || AppError::Refused("This invitation has already been accepted. Sign in instead.".into());
    let not_valid = || AppError::Refused("This invitation link is not valid.".into());
    let link = match links::redeem(&mut tx, state, Purpose::Invitation, token).await? {
        Ok(link) => link,
        Err(LinkState::Used) => return Err(accepted()),
        Err(LinkState::Revoked) => return Err(AppError::Refused("This invitation was withdrawn. Ask for a new one.".into())),
        Err(LinkState::Expired) => return Err(AppError::Refused("This invitation has expired. Ask for a new one.".into())),
        Err(_) => return Err(not_valid()),
    };
    let (Holder::User(user_id), Some(account_id)) = (link.holder, link.account_id) else {
        return Err(not_valid());
    };
    let user = sqlx::query!("SELECT email, status FROM users WHERE account_id = $1 AND id = $2 FOR NO KEY UPDATE", account_id, user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(not_valid)?;
    if user.status != UserStatus::Invited.as_str() {
        return Err(accepted());
    }
    let mut errors = FieldErrors::default();
    let name = INVITED_NAME.take(&mut errors, display_name);
    let parsed = errors.take(PASSWORD_FIELD, Password::parse(password, Some(&user.email)));
    errors.take(PASSWORD_CONFIRM_FIELD, confirm_matches(password, password_confirm));
    let (Some(name), Some(password), true) = (name, parsed, errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let hash = state.passwords.hash(&password).await?;
    sqlx::query!(
        "UPDATE users SET display_name = $3, password_hash = $4, status = 'active', password_changed_at = $5,
                          last_sign_in_at = $5, updated_at = $5, version = version + 1
          WHERE account_id = $1 AND id = $2",
        account_id,
        user_id,
        name,
        hash,
        now
    )
    .execute(&mut *tx)
    .await?;
    session::end_current(&mut tx, state).await?;
    session::start(&mut tx, state, user_id, Some(account_id)).await?;
    usage::add_sign_in(&mut tx, account_id, now).await?;
    Actor::person(Some(account_id), user_id, &user.email, now)
        .audit(&mut tx, Action::UserInvitationAccepted, Record::user(user_id), serde_json::json!({ "display_name": name }))
        .await?;
    tx.commit().await?;
    Ok(())
}
