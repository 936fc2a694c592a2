//! The overview's queries. Staff see figures of the companies they look after, each only with
//! the permission to view it; customer users see their own customer instead.

use super::{Overview, PortalCustomer, SignInEvent};
use crate::{
    companies::ssr::scope_root,
    error::AppError,
    permissions::{CustomerFeature, Permission, UserKind},
    server::{capability::Staff, session::SignedIn},
};
use sqlx::PgConnection;

pub async fn overview(conn: &mut PgConnection, user: SignedIn, now: chrono::DateTime<chrono::Utc>) -> Result<Overview, AppError> {
    let (user, figures) = match Staff::of(user) {
        Ok(staff) => {
            let figures = staff_figures(&mut *conn, &staff).await?;
            (staff.into_user(), Some(figures))
        }
        Err(user) => (user, None),
    };
    let recent_sign_ins = sqlx::query!(
        "SELECT occurred_at, action, client_ip FROM audit_events
          WHERE account_id IS NOT DISTINCT FROM $1 AND record_type = 'user' AND record_id = $2
            AND action IN ('session.signed_in', 'session.sign_in_failed', 'customer_user.activated', 'user.invitation_accepted')
          ORDER BY occurred_at DESC, id DESC LIMIT 5",
        user.account_id(),
        user.user_id().to_string()
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| SignInEvent { at: r.occurred_at, succeeded: r.action != "session.sign_in_failed", client_ip: r.client_ip })
    .collect();
    let portal = match (user.kind(), user.account_id()) {
        (UserKind::Customer, Some(account_id)) => Some(portal_customer(&mut *conn, account_id, user.user_id()).await?),
        _ => None,
    };
    let figures = figures.unwrap_or_default();
    let activity = match (figures.customers, user.account_id()) {
        (Some(_), Some(account_id)) => Some(crate::billing::ssr::days(&mut *conn, account_id, now.date_naive()).await?),
        _ => None,
    };
    Ok(Overview {
        customer_count: figures.customers,
        activity,
        portal,
        display_name: user.display_name().to_owned(),
        account_name: user.account_name().map(str::to_owned),
        role_name: user.role().map(|r| r.name().to_owned()),
        company_count: figures.companies.unwrap_or(0),
        staff_count: figures.staff.unwrap_or(0),
        shows_companies: figures.companies.is_some(),
        shows_staff: figures.staff.is_some(),
        queued_mail: figures.queued_mail,
        recent_sign_ins,
    })
}

#[derive(Default)]
struct Figures {
    companies: Option<i64>,
    staff: Option<i64>,
    queued_mail: Option<i64>,
    customers: Option<i64>,
}

/// The companies and staff users of the caller's scope, each only with its view permission;
/// the queued mail and the account's customers only for Administrators (the whole account is
/// theirs).
async fn staff_figures(conn: &mut PgConnection, staff: &Staff) -> Result<Figures, AppError> {
    let top = scope_root(&mut *conn, staff).await?;
    let counts = sqlx::query!(
        r#"SELECT (SELECT count(*) FROM companies WHERE account_id = $1 AND path @> ARRAY[$2::bigint]) AS "companies!",
                  (SELECT count(*) FROM users u JOIN companies c ON c.account_id = u.account_id AND c.id = u.company_id
                    WHERE u.account_id = $1 AND u.kind = 'staff' AND c.path @> ARRAY[$2::bigint]) AS "staff!",
                  (SELECT count(*) FROM outbox WHERE account_id = $1 AND status = 'queued') AS "queued!",
                  (SELECT customer_count FROM accounts WHERE id = $1) AS "customers!""#,
        staff.account_id(),
        top
    )
    .fetch_one(conn)
    .await?;
    Ok(Figures {
        companies: staff.holds(Permission::CompaniesView).then_some(counts.companies),
        staff: staff.holds(Permission::UsersView).then_some(counts.staff),
        queued_mail: staff.is_administrator().then_some(counts.queued),
        customers: staff.is_administrator().then_some(counts.customers),
    })
}

async fn portal_customer(conn: &mut PgConnection, account_id: i64, user_id: i64) -> Result<PortalCustomer, AppError> {
    let c = sqlx::query!(
        "SELECT c.title, c.company_name, c.email, c.phone, c.address, c.address2, c.zip, c.city, c.state, c.country,
                t.name AS type_name, t.features
           FROM users u
           JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
           JOIN customer_types t ON t.account_id = c.account_id AND t.id = c.customer_type_id
          WHERE u.account_id = $1 AND u.id = $2",
        account_id,
        user_id
    )
    .fetch_one(conn)
    .await?;
    let city_line = [c.zip, c.city, c.state].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    let address = [c.address, c.address2, Some(city_line), c.country].into_iter().flatten().filter(|s| !s.is_empty()).collect();
    let features =
        CustomerFeature::ALL.into_iter().filter(|f| c.features.iter().any(|k| k == f.key())).map(|f| f.label().to_owned()).collect();
    Ok(PortalCustomer {
        title: c.title,
        company_name: c.company_name,
        email: c.email,
        phone: c.phone,
        address,
        type_name: c.type_name,
        features,
    })
}
