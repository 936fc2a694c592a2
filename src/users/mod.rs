//! Staff users (SPEC 3.2–3.7): the list, add (with the three ways to set a first password),
//! edit, role, password reset, disable / enable / remove / delete, and invitations. Every
//! function checks permission, scope (the target's company is within the caller's), authority
//! (the target's rank is at or below the caller's) and account.

mod add;
mod detail;
mod invitations;
mod list;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use add::AddUserPage;
pub use detail::UserPage;
pub use invitations::{
    accept_invitation, check_invitation, invite_users, resend_invitation, revoke_invitation, AcceptInvitation,
    AcceptInvitationPage, InvitationView, InviteUsers, ResendInvitation, RevokeInvitation,
};
pub use list::UsersPage;

#[cfg(feature = "ssr")]
use crate::permissions::Permission;
use crate::{
    error::{AppError, FieldErrors},
    validation::{
        confirm_matches, optional_long_text, optional_phone, optional_region, required_text, Email, Password,
        DESCRIPTION_MAX_CHARS, NAME_MAX_CHARS,
    },
};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserStatus {
    Invited,
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [UserStatus::Invited, UserStatus::Active, UserStatus::Disabled].into_iter().find(|s| s.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            UserStatus::Invited => "Invited",
            UserStatus::Active => "Active",
            UserStatus::Disabled => "Disabled",
        }
    }
}

/// How a new user gets their first password (SPEC 3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PasswordSetup {
    /// An invitation link; they choose their own password (the default).
    Invite,
    /// A generated temporary password, e-mailed, valid 24 hours, changed at first sign-in.
    Generate,
    /// Typed by the administrator, changed at first sign-in.
    Custom,
}

impl PasswordSetup {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "invite" => Some(Self::Invite),
            "generate" => Some(Self::Generate),
            "custom" => Some(Self::Custom),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::Generate => "generate",
            Self::Custom => "custom",
        }
    }
}

/// How long a generated temporary password works.
pub const TEMPORARY_PASSWORD_HOURS: i64 = 24;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserListItem {
    pub id: i64,
    pub display_name: String,
    pub email: String,
    pub role_name: String,
    pub company_name: String,
    pub region: Option<String>,
    pub status: UserStatus,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub invitation_expires_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserListItem>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    pub can_manage: bool,
    /// Choices for the filters: the account's roles and the companies in the caller's scope.
    pub roles: Vec<(i64, String)>,
    pub companies: Vec<(i64, String)>,
}

/// The list's state, as it appears in the page's query string.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Search in name and e-mail.
    pub q: String,
    /// "" (active and invited), "active", "invited" or "disabled".
    pub status: String,
    pub role: Option<i64>,
    /// That company and the companies below it.
    pub company: Option<i64>,
    /// name, email, role, company, status or last_sign_in.
    pub sort: String,
    pub desc: bool,
    pub page: i64,
    pub size: i64,
}

pub const PAGE_SIZES: [i64; 4] = [10, 25, 50, 100];

impl UserQuery {
    pub fn page_size(&self) -> i64 {
        if PAGE_SIZES.contains(&self.size) { self.size } else { 25 }
    }

    pub fn sort_key(&self) -> &str {
        match self.sort.as_str() {
            key @ ("email" | "role" | "company" | "status" | "last_sign_in") => key,
            _ => "name",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserDetail {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub region: Option<String>,
    pub description: Option<String>,
    pub company_id: i64,
    pub company_name: String,
    pub role_id: i64,
    pub role_name: String,
    pub status: UserStatus,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub invitation_expires_at: Option<DateTime<Utc>>,
    pub must_change_password: bool,
    pub version: i32,
    /// The caller may change this user (permission, scope and authority).
    pub can_manage: bool,
    pub is_self: bool,
    /// The caller may read the audit log (the Audit tab).
    pub can_view_audit: bool,
}

/// The companies and roles the caller may choose from in the user forms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserChoices {
    /// `(id, name indented by depth)`.
    pub companies: Vec<(i64, String)>,
    /// Roles the caller may assign (SPEC 2.3), most authority first.
    pub roles: Vec<(i64, String)>,
}

/// The validated basic information of a user.
#[derive(Debug)]
pub struct BasicInput {
    pub display_name: String,
    pub email: Email,
    pub phone: Option<String>,
    pub region: Option<String>,
    pub description: Option<String>,
}

pub fn validate_basic(
    errors: &mut FieldErrors,
    display_name: &str,
    email: &str,
    phone: &str,
    region: &str,
    description: &str,
) -> Option<BasicInput> {
    let display_name = errors.take("display_name", required_text(display_name, "a username", NAME_MAX_CHARS));
    let email = errors.take("email", Email::parse(email));
    let phone = errors.take("phone", optional_phone(phone));
    let region = errors.take("region", optional_region(region));
    let description = errors.take("description", optional_long_text(description, DESCRIPTION_MAX_CHARS));
    Some(BasicInput { display_name: display_name?, email: email?, phone: phone?, region: region?, description: description? })
}

/// The first password of a new user, as chosen in the form.
#[derive(Debug)]
pub enum FirstPassword {
    Invite,
    Generate,
    Custom(Password),
}

pub fn validate_password_setup(
    errors: &mut FieldErrors,
    setup: &str,
    password: &str,
    password_confirm: &str,
    email: &str,
) -> Option<FirstPassword> {
    match PasswordSetup::parse(setup) {
        Some(PasswordSetup::Invite) => Some(FirstPassword::Invite),
        Some(PasswordSetup::Generate) => Some(FirstPassword::Generate),
        Some(PasswordSetup::Custom) => {
            let parsed = errors.take("password", Password::parse(password, Some(email)));
            let confirmed = errors.take("password_confirm", confirm_matches(password, password_confirm));
            Some(FirstPassword::Custom(parsed?)).filter(|_| confirmed.is_some())
        }
        None => {
            errors.add("password_setup", "Choose how the user gets a password.");
            None
        }
    }
}

/// Splits what was typed into the invitation box (commas, spaces, semicolons or new lines) into
/// distinct addresses, in order, reporting the malformed ones.
pub fn parse_invitation_addresses(raw: &str) -> Result<Vec<Email>, String> {
    let mut addresses: Vec<Email> = Vec::new();
    let mut bad = Vec::new();
    for piece in raw.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|p| !p.is_empty()) {
        match Email::parse(piece) {
            Ok(email) if !addresses.iter().any(|a| a.normalized() == email.normalized()) => addresses.push(email),
            Ok(_) => {}
            Err(_) => bad.push(piece.to_owned()),
        }
    }
    if !bad.is_empty() {
        return Err(format!("Not valid e-mail addresses: {}.", bad.join(", ")));
    }
    if addresses.is_empty() {
        return Err("Enter at least one e-mail address.".into());
    }
    if addresses.len() > MAX_INVITATIONS {
        return Err(format!("Invite at most {MAX_INVITATIONS} people at once."));
    }
    Ok(addresses)
}

pub const MAX_INVITATIONS: usize = 50;

#[cfg(feature = "ssr")]
fn parse_id(raw: &str, field: &str, what: &str, errors: &mut FieldErrors) -> Option<i64> {
    errors.take(field, raw.trim().parse::<i64>().map_err(|_| format!("Choose {what}.")))
}

// ---------------------------------------------------------------------------------------------
// Server functions
// ---------------------------------------------------------------------------------------------

#[server(prefix = "/api", endpoint = "users")]
pub async fn list_users(query: UserQuery) -> Result<UserList, AppError> {
    use crate::{auth::ssr::sessions::require_staff, companies::ssr::scope_root, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersView)?;
    let page_size = query.page_size();
    let page = query.page.clamp(1, crate::outbox::MAX_PAGE);
    let mut conn = state.db.acquire().await?;
    let top = scope_root(&mut conn, &staff).await?;
    let status = match query.status.as_str() {
        "invited" | "active" | "disabled" => Some(query.status.clone()),
        _ => None,
    };
    let search = Some(query.q.trim().to_lowercase())
        .filter(|q| !q.is_empty())
        .map(|q| format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let company = query.company.unwrap_or(top);
    let rows = sqlx::query!(
        r#"SELECT u.id, u.display_name, u.email, u.region, u.status, u.last_sign_in_at,
                  r.name AS role_name, c.name AS company_name,
                  (SELECT max(t.expires_at) FROM one_time_tokens t
                    WHERE t.user_id = u.id AND t.purpose = 'invitation' AND t.used_at IS NULL
                      AND t.revoked_at IS NULL) AS invitation_expires_at,
                  count(*) OVER () AS "total!"
             FROM users u
             JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
             JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
            WHERE u.account_id = $1 AND u.kind = 'staff'
              AND c.path @> ARRAY[$2::bigint] AND c.path @> ARRAY[$3::bigint]
              AND CASE WHEN $4::text IS NULL THEN u.status IN ('active', 'invited') ELSE u.status = $4 END
              AND ($5::bigint IS NULL OR u.role_id = $5)
              AND ($6::text IS NULL OR lower(u.display_name) LIKE $6 OR lower(u.email) LIKE $6)
            ORDER BY
              CASE WHEN NOT $7 AND $8 = 'name' THEN lower(u.display_name) END ASC,
              CASE WHEN $7 AND $8 = 'name' THEN lower(u.display_name) END DESC,
              CASE WHEN NOT $7 AND $8 = 'email' THEN lower(u.email) END ASC,
              CASE WHEN $7 AND $8 = 'email' THEN lower(u.email) END DESC,
              CASE WHEN NOT $7 AND $8 = 'role' THEN r.rank END ASC,
              CASE WHEN $7 AND $8 = 'role' THEN r.rank END DESC,
              CASE WHEN NOT $7 AND $8 = 'company' THEN lower(c.name) END ASC,
              CASE WHEN $7 AND $8 = 'company' THEN lower(c.name) END DESC,
              CASE WHEN NOT $7 AND $8 = 'status' THEN u.status END ASC,
              CASE WHEN $7 AND $8 = 'status' THEN u.status END DESC,
              CASE WHEN NOT $7 AND $8 = 'last_sign_in' THEN u.last_sign_in_at END ASC NULLS FIRST,
              CASE WHEN $7 AND $8 = 'last_sign_in' THEN u.last_sign_in_at END DESC NULLS LAST,
              lower(u.display_name), u.id
            LIMIT $9 OFFSET $10"#,
        staff.account_id,
        top,
        company,
        status,
        query.role,
        search,
        query.desc,
        query.sort_key(),
        page_size,
        (page - 1) * page_size
    )
    .fetch_all(&mut *conn)
    .await?;
    let total = rows.first().map(|r| r.total).unwrap_or(0);
    let users = rows
        .into_iter()
        .map(|r| UserListItem {
            id: r.id,
            display_name: r.display_name,
            email: r.email,
            role_name: r.role_name,
            company_name: r.company_name,
            region: r.region,
            status: UserStatus::parse(&r.status).unwrap_or(UserStatus::Disabled),
            last_sign_in_at: r.last_sign_in_at,
            invitation_expires_at: r.invitation_expires_at,
        })
        .collect();
    let roles = sqlx::query!("SELECT id, name FROM roles WHERE account_id = $1 ORDER BY rank, lower(name)", staff.account_id)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let companies = sqlx::query!(
        "SELECT id, name, cardinality(path) AS \"depth!\" FROM companies
          WHERE account_id = $1 AND path @> ARRAY[$2::bigint] ORDER BY path",
        staff.account_id,
        top
    )
    .fetch_all(&mut *conn)
    .await?;
    let base_depth = companies.first().map(|c| c.depth).unwrap_or(1);
    let companies = companies
        .into_iter()
        .map(|c| (c.id, format!("{}{}", "— ".repeat((c.depth - base_depth).max(0) as usize), c.name)))
        .collect();
    Ok(UserList {
        users,
        total,
        page,
        page_size,
        can_manage: staff.user.permissions.contains(&Permission::UsersManage),
        roles,
        companies,
    })
}

#[server(prefix = "/api", endpoint = "user")]
pub async fn get_user(id: i64) -> Result<UserDetail, AppError> {
    use crate::{auth::ssr::sessions::require_staff, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersView)?;
    let mut tx = state.db.begin().await?;
    let target = ssr::visible_user(&mut tx, &staff, id).await?;
    let row = sqlx::query!(
        r#"SELECT u.phone, u.description, u.created_at, u.last_sign_in_at, u.must_change_password,
                  c.name AS company_name, r.name AS role_name,
                  (SELECT max(t.expires_at) FROM one_time_tokens t
                    WHERE t.user_id = u.id AND t.purpose = 'invitation' AND t.used_at IS NULL
                      AND t.revoked_at IS NULL) AS invitation_expires_at
             FROM users u
             JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
             JOIN roles r ON r.account_id = u.account_id AND r.id = u.role_id
            WHERE u.account_id = $1 AND u.id = $2"#,
        staff.account_id,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(UserDetail {
        id,
        can_manage: staff.user.permissions.contains(&Permission::UsersManage) && ssr::may_manage(&staff, &target.authority),
        can_view_audit: staff.user.permissions.contains(&Permission::AuditView),
        is_self: id == staff.user.user_id,
        email: target.email,
        display_name: target.display_name,
        phone: row.phone,
        region: target.region,
        description: row.description,
        company_id: target.company_id,
        company_name: row.company_name,
        role_id: target.role_id,
        role_name: row.role_name,
        status: target.status,
        last_sign_in_at: row.last_sign_in_at,
        created_at: row.created_at,
        invitation_expires_at: row.invitation_expires_at,
        must_change_password: row.must_change_password,
        version: target.version,
    })
}

#[server(prefix = "/api", endpoint = "user_form_options")]
pub async fn user_form_options() -> Result<UserChoices, AppError> {
    use crate::{auth::ssr::sessions::require_staff, companies::list_companies, server::state::app_state};
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersManage)?;
    let companies = match list_companies().await {
        Ok(tree) => tree.nodes.into_iter().map(|n| (n.id, format!("{}{}", "— ".repeat(n.depth), n.name))).collect(),
        // Without Companies (view), the user's own company is the only choice.
        Err(AppError::Forbidden) => {
            let name = sqlx::query_scalar!(
                "SELECT name FROM companies WHERE account_id = $1 AND id = $2",
                staff.account_id,
                staff.company_id
            )
            .fetch_one(&state.db)
            .await?;
            vec![(staff.company_id, name)]
        }
        Err(e) => return Err(e),
    };
    // Only roles the caller may give: rank at or below theirs, no permission they lack.
    let own = staff.authority();
    let roles = sqlx::query!(
        r#"SELECT r.id, r.name, r.rank,
                  COALESCE((SELECT array_agg(p.permission) FROM role_permissions p
                             WHERE p.account_id = r.account_id AND p.role_id = r.id), '{}') AS "permissions!"
             FROM roles r WHERE r.account_id = $1 AND r.rank >= $2 ORDER BY r.rank, lower(r.name)"#,
        staff.account_id,
        staff.role.rank
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .filter(|r| own.covers(&crate::permissions::Authority::from_keys(r.rank, &r.permissions)))
    .map(|r| (r.id, r.name))
    .collect();
    Ok(UserChoices { companies, roles })
}

#[server(prefix = "/api", endpoint = "create_user")]
#[allow(clippy::too_many_arguments)]
pub async fn create_user(
    display_name: String,
    email: String,
    phone: String,
    region: String,
    description: String,
    company_id: String,
    password_setup: String,
    #[server(default)] password: String,
    #[server(default)] password_confirm: String,
    role_id: String,
) -> Result<i64, AppError> {
    use crate::{
        audit::ssr as audit,
        auth::ssr::{addresses, passwords::generate_temporary, sessions::require_staff},
        companies::ssr::company_in_scope,
        outbox::ssr::{enqueue, templates::{Mail, Occasion}},
        roles::ssr::assignable_role,
        server::{errors::db_error, state::app_state},
        validation::Password,
    };
    use chrono::Duration;
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersManage)?;
    let mut errors = FieldErrors::default();
    let basic = validate_basic(&mut errors, &display_name, &email, &phone, &region, &description);
    let first = validate_password_setup(&mut errors, &password_setup, &password, &password_confirm, &email);
    let company_id = parse_id(&company_id, "company_id", "a company", &mut errors);
    let role_id = parse_id(&role_id, "role_id", "a role", &mut errors);
    let (Some(basic), Some(first), Some(company_id), Some(role_id)) = (basic, first, company_id, role_id) else {
        return Err(AppError::Validation(errors));
    };
    let now = state.clock.now();
    let temporary = matches!(first, FirstPassword::Generate).then(generate_temporary);
    let hash = match (&first, &temporary) {
        (FirstPassword::Custom(password), _) => Some(state.passwords.hash(password).await?),
        (FirstPassword::Generate, Some(temp)) => {
            Some(state.passwords.hash(&Password::parse(temp, None).map_err(crate::server::errors::internal)?).await?)
        }
        _ => None,
    };
    addresses::ensure_free(&state, staff.user.user_id, "email", &[&basic.email], None).await?;
    let mut tx = state.db.begin().await?;
    let company = company_in_scope(&mut tx, &staff, company_id).await.map_err(|e| match e {
        AppError::NotFound => AppError::field("company_id", "Choose a company you manage."),
        other => other,
    })?;
    let role = assignable_role(&mut tx, &staff, role_id).await.map_err(|e| match e {
        AppError::NotFound => AppError::field("role_id", "Choose a role from the list."),
        other => other,
    })?;
    let invited = matches!(first, FirstPassword::Invite);
    let id = sqlx::query_scalar!(
        "INSERT INTO users (account_id, kind, email, display_name, phone, region, description, company_id, role_id,
                            status, password_hash, must_change_password, password_expires_at, password_changed_at,
                            created_at, updated_at)
         VALUES ($1, 'staff', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $13)
         RETURNING id",
        staff.account_id,
        basic.email.as_str(),
        basic.display_name,
        basic.phone,
        basic.region,
        basic.description,
        company.id,
        role.id,
        if invited { "invited" } else { "active" },
        hash,
        !invited,
        temporary.as_ref().map(|_| now + Duration::hours(TEMPORARY_PASSWORD_HOURS)),
        now
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| db_error(e, &[addresses::taken("email")]))?;
    let account = ssr::account_name(&mut tx, staff.account_id).await?;
    let sign_in_link = format!("{}/sign-in", state.config.base_url());
    match (&first, &temporary) {
        (FirstPassword::Invite, _) => {
            invitations::ssr::send_invitation(&mut tx, &state, &staff, id, basic.email.as_str()).await?;
        }
        (FirstPassword::Generate, Some(temp)) => {
            enqueue(
                &mut tx,
                &state,
                Some(staff.account_id),
                basic.email.as_str(),
                Mail::TemporaryPassword {
                    name: &basic.display_name,
                    account: &account,
                    password: temp,
                    sign_in_link: &sign_in_link,
                    occasion: Occasion::now(now),
                },
            )
            .await?;
        }
        _ => {
            enqueue(
                &mut tx,
                &state,
                Some(staff.account_id),
                basic.email.as_str(),
                Mail::AccountCreated { name: &basic.display_name, account: &account, inviter: &staff.user.display_name, sign_in_link: &sign_in_link },
            )
            .await?;
        }
    }
    let setup = match first {
        FirstPassword::Invite => PasswordSetup::Invite,
        FirstPassword::Generate => PasswordSetup::Generate,
        FirstPassword::Custom(_) => PasswordSetup::Custom,
    };
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "user.created",
            record_type: "user",
            record_id: Some(id),
            changes: serde_json::json!({
                "email": basic.email.as_str(),
                "display_name": basic.display_name,
                "company": company.name,
                "role": role.name,
                "password_setup": setup.as_str(),
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[server(prefix = "/api", endpoint = "update_user")]
#[allow(clippy::too_many_arguments)]
pub async fn update_user(
    id: i64,
    display_name: String,
    email: String,
    phone: String,
    region: String,
    description: String,
    company_id: String,
    version: i32,
) -> Result<(), AppError> {
    use crate::{
        audit::ssr::{self as audit, Changes},
        auth::ssr::{addresses, sessions::require_staff},
        companies::ssr::company_in_scope,
        outbox::ssr::{enqueue, templates::{Mail, Occasion}},
        server::{errors::db_error, state::app_state},
    };
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersManage)?;
    let mut errors = FieldErrors::default();
    let basic = validate_basic(&mut errors, &display_name, &email, &phone, &region, &description);
    let company_id = parse_id(&company_id, "company_id", "a company", &mut errors);
    let (Some(basic), Some(company_id)) = (basic, company_id) else {
        return Err(AppError::Validation(errors));
    };
    let now = state.clock.now();
    // The user's own address is theirs to keep; any other one must be free.
    addresses::ensure_free(&state, staff.user.user_id, "email", &[&basic.email], Some(id)).await?;
    let mut tx = state.db.begin().await?;
    let target = ssr::manageable_user(&mut tx, &staff, id).await?;
    if target.version != version {
        return Err(AppError::Conflict);
    }
    let company = company_in_scope(&mut tx, &staff, company_id).await.map_err(|e| match e {
        AppError::NotFound => AppError::field("company_id", "Choose a company you manage."),
        other => other,
    })?;
    let email_changed = target.email.to_lowercase() != basic.email.normalized();
    let before = sqlx::query!(
        "SELECT u.phone, u.description, c.name AS company_name FROM users u
           JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
          WHERE u.account_id = $1 AND u.id = $2",
        staff.account_id,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE users SET display_name = $3, email = $4, phone = $5, region = $6, description = $7, company_id = $8,
                          updated_at = $9, version = version + 1
          WHERE account_id = $1 AND id = $2",
        staff.account_id,
        id,
        basic.display_name,
        basic.email.as_str(),
        basic.phone,
        basic.region,
        basic.description,
        company.id,
        now
    )
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error(e, &[addresses::taken("email")]))?;
    if email_changed {
        // Links and sessions belonged to the old address: they end with it.
        ssr::end_access(&mut tx, id, now).await?;
        if target.status == UserStatus::Invited {
            invitations::ssr::send_invitation(&mut tx, &state, &staff, id, basic.email.as_str()).await?;
        } else {
            let sign_in_link = format!("{}/sign-in", state.config.base_url());
            let name = basic.display_name.as_str();
            enqueue(&mut tx, &state, Some(staff.account_id), &target.email, Mail::EmailChangedAway { name, occasion: Occasion::now(now) })
                .await?;
            let here = Mail::EmailChangedHere { name, sign_in_link: &sign_in_link, occasion: Occasion::now(now) };
            enqueue(&mut tx, &state, Some(staff.account_id), basic.email.as_str(), here).await?;
        }
    }
    let changes = Changes::default()
        .field("display_name", &target.display_name, &basic.display_name)
        .field("email", &target.email, &basic.email.as_str().to_owned())
        .field("phone", &before.phone, &basic.phone)
        .field("region", &target.region, &basic.region)
        .field("description", &before.description, &basic.description)
        .field("company", &before.company_name, &company.name);
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "user.updated",
            record_type: "user",
            record_id: Some(id),
            changes: changes.into_value(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "set_user_role")]
pub async fn set_user_role(id: i64, role_id: String, version: i32) -> Result<(), AppError> {
    use crate::{
        audit::ssr::{self as audit, Changes},
        auth::ssr::sessions::require_staff,
        permissions::ADMINISTRATOR_RANK,
        roles::ssr::assignable_role,
        server::{locks, state::app_state},
    };
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersManage)?;
    let role_id: i64 = role_id.trim().parse().map_err(|_| AppError::field("role_id", "Choose a role."))?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    // One change of who holds what at a time per account, and the caller's own authority read
    // again under that lock: two Administrators demoting each other cannot both succeed.
    locks::lock(&mut tx, locks::Guarded::Authority, staff.account_id).await?;
    staff.recheck(&mut tx).await?;
    let target = ssr::manageable_user(&mut tx, &staff, id).await?;
    if target.is_self(&staff) {
        return Err(AppError::Refused("You cannot change your own role. Ask another administrator.".into()));
    }
    if target.version != version {
        return Err(AppError::Conflict);
    }
    let role = assignable_role(&mut tx, &staff, role_id).await.map_err(|e| match e {
        AppError::NotFound => AppError::field("role_id", "Choose a role from the list."),
        other => other,
    })?;
    if target.role_rank == ADMINISTRATOR_RANK && role.rank != ADMINISTRATOR_RANK {
        ssr::ensure_another_administrator(&mut tx, staff.account_id, id, &target.display_name).await?;
    }
    let old_role = sqlx::query_scalar!("SELECT name FROM roles WHERE account_id = $1 AND id = $2", staff.account_id, target.role_id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query!(
        "UPDATE users SET role_id = $3, updated_at = $4, version = version + 1 WHERE account_id = $1 AND id = $2",
        staff.account_id,
        id,
        role.id,
        now
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "user.role_changed",
            record_type: "user",
            record_id: Some(id),
            changes: Changes::default().field("role", &old_role, &role.name).into_value(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Resets a user's password (SPEC 3.5): `mode` "generate" e-mails a temporary password, "manual"
/// sets the one typed twice. Either way the user's sessions end and they choose their own
/// password at the next sign-in.
#[server(prefix = "/api", endpoint = "reset_user_password")]
pub async fn reset_user_password(
    id: i64,
    mode: String,
    #[server(default)] password: String,
    #[server(default)] password_confirm: String,
) -> Result<(), AppError> {
    use crate::{
        audit::ssr::{self as audit, Changes},
        auth::ssr::{passwords::generate_temporary, sessions::{end_all, require_staff}},
        outbox::ssr::{enqueue, templates::{Mail, Occasion}},
        server::state::app_state,
        validation::Password,
    };
    use chrono::Duration;
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersManage)?;
    let now = state.clock.now();
    let mut conn = state.db.acquire().await?;
    let target = ssr::manageable_user(&mut conn, &staff, id).await?;
    drop(conn);
    if target.is_self(&staff) {
        return Err(AppError::Refused("Change your own password from your profile.".into()));
    }
    if target.status != UserStatus::Active && target.status != UserStatus::Disabled {
        return Err(AppError::Refused("This person has not accepted their invitation yet. Resend it instead.".into()));
    }
    let (temporary, password) = match mode.as_str() {
        "generate" => {
            let temp = generate_temporary();
            let parsed = Password::parse(&temp, None).map_err(crate::server::errors::internal)?;
            (Some(temp), parsed)
        }
        "manual" => {
            let mut errors = FieldErrors::default();
            let parsed = errors.take("password", Password::parse(&password, Some(&target.email)));
            errors.take("password_confirm", confirm_matches(&password, &password_confirm));
            match parsed {
                Some(p) if errors.is_empty() => (None, p),
                _ => return Err(AppError::Validation(errors)),
            }
        }
        _ => return Err(AppError::field("mode", "Choose how to reset the password.")),
    };
    let hash = state.passwords.hash(&password).await?;
    let mut tx = state.db.begin().await?;
    let target = ssr::manageable_user(&mut tx, &staff, id).await?;
    sqlx::query!(
        "UPDATE users SET password_hash = $3, must_change_password = true, password_expires_at = $4,
                          password_changed_at = $5, updated_at = $5
          WHERE account_id = $1 AND id = $2",
        staff.account_id,
        id,
        hash,
        temporary.as_ref().map(|_| now + Duration::hours(TEMPORARY_PASSWORD_HOURS)),
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE one_time_tokens SET revoked_at = $2
          WHERE user_id = $1 AND purpose = 'password_reset' AND used_at IS NULL AND revoked_at IS NULL",
        id,
        now
    )
    .execute(&mut *tx)
    .await?;
    end_all(&mut tx, id).await?;
    let account = ssr::account_name(&mut tx, staff.account_id).await?;
    let sign_in_link = format!("{}/sign-in", state.config.base_url());
    let mail = match &temporary {
        Some(temp) => Mail::TemporaryPassword {
            name: &target.display_name,
            account: &account,
            password: temp,
            sign_in_link: &sign_in_link,
            occasion: Occasion::now(now),
        },
        None => Mail::PasswordSetByAdministrator {
            name: &target.display_name,
            account: &account,
            sign_in_link: &sign_in_link,
            occasion: Occasion::now(now),
        },
    };
    enqueue(&mut tx, &state, Some(staff.account_id), &target.email, mail).await?;
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action: "user.password_reset_by_administrator",
            record_type: "user",
            record_id: Some(id),
            changes: Changes::default().secret("password").field("mode", &"", &mode.as_str()).into_value(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What can be done to a user's membership (SPEC 3.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MembershipChange {
    Disable,
    Enable,
    /// Out of the account; history kept; may be invited again.
    Remove,
    /// Erased.
    Delete,
}

impl MembershipChange {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "disable" => Some(Self::Disable),
            "enable" => Some(Self::Enable),
            "remove" => Some(Self::Remove),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Enable => "enable",
            Self::Remove => "remove",
            Self::Delete => "delete",
        }
    }
}

#[server(prefix = "/api", endpoint = "change_membership")]
pub async fn change_membership(id: i64, change: String) -> Result<(), AppError> {
    use crate::{
        audit::ssr as audit,
        auth::ssr::sessions::require_staff,
        permissions::ADMINISTRATOR_RANK,
        server::{locks, state::app_state},
    };
    let state = app_state()?;
    let staff = require_staff().await?;
    staff.require(Permission::UsersManage)?;
    let change = MembershipChange::parse(&change).ok_or_else(|| AppError::BadRequest("unknown change".into()))?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    // Who is an active Administrator changes here: one such change at a time per account.
    locks::lock(&mut tx, locks::Guarded::Authority, staff.account_id).await?;
    staff.recheck(&mut tx).await?;
    let target = ssr::manageable_user(&mut tx, &staff, id).await?;
    if target.is_self(&staff) && change != MembershipChange::Enable {
        return Err(AppError::Refused("You cannot do this to yourself. Ask another administrator.".into()));
    }
    if target.role_rank == ADMINISTRATOR_RANK && change != MembershipChange::Enable && target.status == UserStatus::Active {
        ssr::ensure_another_administrator(&mut tx, staff.account_id, id, &target.display_name).await?;
    }
    let (action, allowed_from): (&str, &[UserStatus]) = match change {
        MembershipChange::Disable => ("user.disabled", &[UserStatus::Active]),
        MembershipChange::Enable => ("user.enabled", &[UserStatus::Disabled]),
        MembershipChange::Remove => ("user.removed", &[UserStatus::Invited, UserStatus::Active, UserStatus::Disabled]),
        MembershipChange::Delete => ("user.deleted", &[UserStatus::Invited, UserStatus::Active, UserStatus::Disabled]),
    };
    if !allowed_from.contains(&target.status) {
        let state_word = if change == MembershipChange::Enable { "disabled" } else { "active" };
        return Err(AppError::Refused(format!("{} is not {state_word}.", target.display_name)));
    }
    // Written while the user still exists, so the row knows which company it concerns.
    audit::record(
        &mut tx,
        now,
        audit::Event {
            account_id: Some(staff.account_id),
            actor_id: Some(staff.user.user_id),
            actor_label: &staff.user.email,
            action,
            record_type: "user",
            record_id: Some(id),
            changes: serde_json::json!({ "email": target.email, "display_name": target.display_name }),
        },
    )
    .await?;
    match change {
        MembershipChange::Disable | MembershipChange::Enable => {
            let status = if change == MembershipChange::Disable { "disabled" } else { "active" };
            sqlx::query!(
                "UPDATE users SET status = $3, updated_at = $4, version = version + 1 WHERE account_id = $1 AND id = $2",
                staff.account_id,
                id,
                status,
                now
            )
            .execute(&mut *tx)
            .await?;
        }
        MembershipChange::Remove => {
            sqlx::query!(
                "UPDATE users SET status = 'removed', removed_at = $3, updated_at = $3, version = version + 1
                  WHERE account_id = $1 AND id = $2",
                staff.account_id,
                id,
                now
            )
            .execute(&mut *tx)
            .await?;
        }
        MembershipChange::Delete => {
            sqlx::query!("DELETE FROM users WHERE account_id = $1 AND id = $2", staff.account_id, id)
                .execute(&mut *tx)
                .await?;
        }
    }
    if matches!(change, MembershipChange::Disable | MembershipChange::Remove) {
        // Open links and sessions end with the access they were for.
        ssr::end_access(&mut tx, id, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_addresses_split_on_commas_spaces_and_lines() {
        let list = parse_invitation_addresses("a@x.test, b@x.test\nc@x.test;d@x.test  A@X.test").unwrap();
        let emails: Vec<&str> = list.iter().map(Email::as_str).collect();
        assert_eq!(emails, ["a@x.test", "b@x.test", "c@x.test", "d@x.test"]);
        assert_eq!(parse_invitation_addresses(" , ").unwrap_err(), "Enter at least one e-mail address.");
        assert_eq!(parse_invitation_addresses("a@x.test, nope").unwrap_err(), "Not valid e-mail addresses: nope.");
        let many: String = (0..51).map(|i| format!("u{i}@x.test ")).collect();
        assert!(parse_invitation_addresses(&many).is_err());
    }

    #[test]
    fn a_custom_first_password_follows_the_policy_and_is_typed_twice() {
        let mut errors = FieldErrors::default();
        assert!(matches!(validate_password_setup(&mut errors, "invite", "", "", "a@x.test"), Some(FirstPassword::Invite)));
        assert!(validate_password_setup(&mut errors, "custom", "violet-kettle-onward", "violet-kettle-onwarD", "a@x.test").is_none());
        assert!(errors.get("password_confirm").is_some());
        let mut errors = FieldErrors::default();
        assert!(validate_password_setup(&mut errors, "custom", "qwerty123456", "qwerty123456", "a@x.test").is_none());
        assert!(errors.get("password").is_some());
        let mut errors = FieldErrors::default();
        assert!(validate_password_setup(&mut errors, "guess", "", "", "a@x.test").is_none());
        assert!(errors.get("password_setup").is_some());
    }

    #[test]
    fn the_list_falls_back_to_safe_sorting_and_page_sizes() {
        let query = UserQuery { sort: "password_hash".into(), size: 7, ..Default::default() };
        assert_eq!(query.sort_key(), "name");
        assert_eq!(query.page_size(), 25);
        assert_eq!(UserQuery { size: 100, ..Default::default() }.page_size(), 100);
    }
}
