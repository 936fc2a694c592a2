//! The counters' queries. Every one updates the account row, which serialises concurrent
//! additions: of ten requests for the last free place, one gets it.

use crate::error::{AppError, Limit, PlanLimit};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sqlx::PgConnection;

/// The first day of the calendar month (UTC) that `now` falls in.
pub fn month_of(now: DateTime<Utc>) -> NaiveDate {
    let day = now.date_naive();
    NaiveDate::from_ymd_opt(day.year(), day.month(), 1).expect("the first of a month exists")
}

fn refuse_past(limit: Limit, allowed: Option<i64>, now: i64, adding: i64) -> Result<(), AppError> {
    match allowed {
        Some(allowed) if now > allowed => Err(AppError::PlanLimit(PlanLimit { limit, allowed, used: now - adding, adding })),
        _ => Ok(()),
    }
}

/// Counts a new customer, refused when the plan's customers are all taken.
pub async fn add_customer(conn: &mut PgConnection, account_id: i64, now: DateTime<Utc>) -> Result<(), AppError> {
    let row = sqlx::query!(
        "UPDATE accounts SET customer_count = customer_count + 1 WHERE id = $1 RETURNING customer_count, customer_limit",
        account_id
    )
    .fetch_one(&mut *conn)
    .await?;
    refuse_past(Limit::Customers, row.customer_limit, row.customer_count, 1)?;
    sqlx::query!(
        "INSERT INTO account_daily_usage (account_id, day, customers_created) VALUES ($1, $2, 1)
         ON CONFLICT (account_id, day) DO UPDATE SET customers_created = account_daily_usage.customers_created + 1",
        account_id,
        now.date_naive()
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts `n` new customers at once (an import), refused as a whole when they do not all fit.
pub async fn add_customers(conn: &mut PgConnection, account_id: i64, n: i64, now: DateTime<Utc>) -> Result<(), AppError> {
    let row = sqlx::query!(
        "UPDATE accounts SET customer_count = customer_count + $2 WHERE id = $1 RETURNING customer_count, customer_limit",
        account_id,
        n
    )
    .fetch_one(&mut *conn)
    .await?;
    refuse_past(Limit::Customers, row.customer_limit, row.customer_count, n)?;
    sqlx::query!(
        "INSERT INTO account_daily_usage (account_id, day, customers_created) VALUES ($1, $2, $3)
         ON CONFLICT (account_id, day) DO UPDATE SET customers_created = account_daily_usage.customers_created + $3",
        account_id,
        now.date_naive(),
        n as i32
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts an e-mail queued for the account this month. `security` mail (a password reset, a
/// password or address change notice, the usage warnings themselves) is counted but never
/// refused: nobody may be kept from securing their account by a plan.
pub async fn add_email(conn: &mut PgConnection, account_id: i64, now: DateTime<Utc>, security: bool) -> Result<(), AppError> {
    let row = sqlx::query!(
        "UPDATE accounts
            SET email_month_count = CASE WHEN email_month = $2 THEN email_month_count + 1 ELSE 1 END,
                email_month = $2
          WHERE id = $1
         RETURNING email_month_count, email_month_limit",
        account_id,
        month_of(now)
    )
    .fetch_one(&mut *conn)
    .await?;
    if !security {
        refuse_past(Limit::EmailsPerMonth, row.email_month_limit, row.email_month_count, 1)?;
    }
    sqlx::query!(
        "INSERT INTO account_daily_usage (account_id, day, emails) VALUES ($1, $2, 1)
         ON CONFLICT (account_id, day) DO UPDATE SET emails = account_daily_usage.emails + 1",
        account_id,
        now.date_naive()
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts a sign-in of the account's staff or customer users, for the Overview's chart.
pub async fn add_sign_in(conn: &mut PgConnection, account_id: i64, now: DateTime<Utc>) -> Result<(), AppError> {
    sqlx::query!(
        "INSERT INTO account_daily_usage (account_id, day, sign_ins) VALUES ($1, $2, 1)
         ON CONFLICT (account_id, day) DO UPDATE SET sign_ins = account_daily_usage.sign_ins + 1",
        account_id,
        now.date_naive()
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Refuses, before anything is written, a change that adds `adding` of `limit` when they do not
/// all fit: "2 of these 5 would fit". The counters still guard each addition against a race.
pub async fn ensure_room(conn: &mut PgConnection, account_id: i64, limit: Limit, adding: i64, now: DateTime<Utc>) -> Result<(), AppError> {
    let row = sqlx::query!(
        "SELECT customer_count, customer_limit, staff_user_count, staff_user_limit, customer_user_count,
                customer_user_limit, CASE WHEN email_month = $2 THEN email_month_count ELSE 0 END AS \"emails!\",
                email_month_limit
           FROM accounts WHERE id = $1",
        account_id,
        month_of(now)
    )
    .fetch_one(conn)
    .await?;
    let (used, allowed) = match limit {
        Limit::Customers => (row.customer_count, row.customer_limit),
        Limit::StaffUsers => (row.staff_user_count, row.staff_user_limit),
        Limit::CustomerUsers => (row.customer_user_count, row.customer_user_limit),
        Limit::EmailsPerMonth => (row.emails, row.email_month_limit),
    };
    refuse_past(limit, allowed, used + adding, adding)
}
