//! Every query of Billing: the page, the contact and warnings, the usage warnings job, and the
//! operator's plan and limits (the command line).

use super::{warning_level, Billing, BillingInput, DayUsage, LimitUsage, CHART_DAYS};
use crate::{
    error::{AppError, Limit},
    permissions::grant::{BillingManage, BillingView},
    server::{capability::Allowed, state::AppState},
    services::{
        audit::{Action, Actor, Changes, Record},
        mail::{enqueue, templates::Mail},
        usage::ssr::month_of,
    },
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgConnection;

/// An account's plan and usage, as one row.
struct PlanRow {
    plan_name: String,
    customer_count: i64,
    customer_limit: Option<i64>,
    staff_user_count: i64,
    staff_user_limit: Option<i64>,
    customer_user_count: i64,
    customer_user_limit: Option<i64>,
    emails: i64,
    email_month_limit: Option<i64>,
}

impl PlanRow {
    fn usage(&self) -> Vec<LimitUsage> {
        Limit::ALL
            .into_iter()
            .map(|limit| {
                let (used, allowed) = match limit {
                    Limit::Customers => (self.customer_count, self.customer_limit),
                    Limit::StaffUsers => (self.staff_user_count, self.staff_user_limit),
                    Limit::CustomerUsers => (self.customer_user_count, self.customer_user_limit),
                    Limit::EmailsPerMonth => (self.emails, self.email_month_limit),
                };
                LimitUsage { limit, used, allowed }
            })
            .collect()
    }
}

async fn plan_row(conn: &mut PgConnection, account_id: i64, now: DateTime<Utc>) -> Result<PlanRow, AppError> {
    Ok(sqlx::query_as!(
        PlanRow,
        r#"SELECT plan_name, customer_count, customer_limit, staff_user_count, staff_user_limit,
                  customer_user_count, customer_user_limit,
                  CASE WHEN email_month = $2 THEN email_month_count ELSE 0 END AS "emails!", email_month_limit
             FROM accounts WHERE id = $1"#,
        account_id,
        month_of(now)
    )
    .fetch_one(conn)
    .await?)
}

/// The last [`CHART_DAYS`] days up to `today`, oldest first, days without a row as zeros.
pub async fn days(conn: &mut PgConnection, account_id: i64, today: NaiveDate) -> Result<Vec<DayUsage>, AppError> {
    let first = today - Duration::days(CHART_DAYS - 1);
    let rows = sqlx::query!(
        "SELECT day, emails, customers_created, sign_ins FROM account_daily_usage
          WHERE account_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day",
        account_id,
        first,
        today
    )
    .fetch_all(conn)
    .await?;
    Ok((0..CHART_DAYS)
        .map(|offset| {
            let day = first + Duration::days(offset);
            match rows.iter().find(|r| r.day == day) {
                Some(r) => DayUsage { day, emails: r.emails.into(), customers_created: r.customers_created.into(), sign_ins: r.sign_ins.into() },
                None => DayUsage { day, emails: 0, customers_created: 0, sign_ins: 0 },
            }
        })
        .collect())
}

pub async fn billing(conn: &mut PgConnection, state: &AppState, allowed: &Allowed<'_, BillingView>) -> Result<Billing, AppError> {
    let account_id = allowed.account_id();
    let now = state.clock.now();
    let plan = plan_row(&mut *conn, account_id, now).await?;
    let contact = sqlx::query!("SELECT billing_contact_email, usage_warnings, billing_version FROM accounts WHERE id = $1", account_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Billing {
        usage: plan.usage(),
        plan_name: plan.plan_name,
        days: days(conn, account_id, now.date_naive()).await?,
        contact_email: contact.billing_contact_email,
        usage_warnings: contact.usage_warnings,
        can_manage: allowed.staff().holds(crate::permissions::Permission::BillingManage),
        version: contact.billing_version,
    })
}

/// Saves the billing contact and warnings when nobody saved them since `version`; the new version.
pub async fn update(
    conn: &mut PgConnection,
    state: &AppState,
    allowed: &Allowed<'_, BillingManage>,
    input: &BillingInput,
    version: i32,
) -> Result<i32, AppError> {
    let account_id = allowed.account_id();
    let before = sqlx::query!(
        "SELECT billing_contact_email, usage_warnings, billing_version FROM accounts WHERE id = $1 FOR NO KEY UPDATE",
        account_id
    )
    .fetch_one(&mut *conn)
    .await?;
    if before.billing_version != version {
        return Err(AppError::Conflict);
    }
    let contact = input.contact_email.as_ref().map(|e| e.as_str().to_owned());
    sqlx::query!(
        "UPDATE accounts SET billing_contact_email = $2, usage_warnings = $3, billing_version = billing_version + 1 WHERE id = $1",
        account_id,
        contact,
        input.usage_warnings
    )
    .execute(&mut *conn)
    .await?;
    let changes = Changes::default()
        .field("billing_contact_email", &before.billing_contact_email, &contact)
        .field("usage_warnings", &before.usage_warnings, &input.usage_warnings);
    Actor::staff(allowed.staff(), state.clock.now())
        .audit(conn, Action::AccountBillingUpdated, Record::account(account_id), changes)
        .await?;
    Ok(version + 1)
}

/// Mails the billing contact of every account that reached 80% or 100% of a limit, once per
/// limit, level and month. Returns how many warnings were sent.
pub async fn send_usage_warnings(state: &AppState) -> Result<usize, AppError> {
    let now = state.clock.now();
    let month = month_of(now);
    let mut tx = state.db.begin().await?;
    let accounts = sqlx::query!(
        r#"SELECT id, name, billing_contact_email AS "contact!" FROM accounts
            WHERE billing_contact_email IS NOT NULL AND usage_warnings
              AND (customer_count * 5 >= customer_limit * 4 OR staff_user_count * 5 >= staff_user_limit * 4
                   OR customer_user_count * 5 >= customer_user_limit * 4
                   OR (email_month = $1 AND email_month_count * 5 >= email_month_limit * 4))
            ORDER BY id"#,
        month
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut sent = 0;
    for account in accounts {
        let plan = plan_row(&mut tx, account.id, now).await?;
        for usage in plan.usage() {
            let Some(percent) = warning_level(usage.used, usage.allowed) else { continue };
            let fresh = sqlx::query!(
                "INSERT INTO usage_warnings_sent (account_id, limit_name, percent, month, sent_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT DO NOTHING",
                account.id,
                usage.limit.key(),
                percent,
                month,
                now
            )
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !fresh {
                continue;
            }
            let text = format!("{} of the {} its plan allows", usage.limit.count_of(usage.used), usage.allowed.unwrap_or_default());
            let link = format!("{}/billing", state.config.base_url());
            let mail = Mail::UsageWarning { account: &account.name, plan: &plan.plan_name, usage: &text, percent, billing_link: &link };
            enqueue(&mut tx, state, Some(account.id), &account.contact, mail).await?;
            sent += 1;
        }
    }
    tx.commit().await?;
    Ok(sent)
}

/// An account as the operator lists it.
pub struct OperatorAccount {
    pub id: i64,
    pub name: String,
    pub plan_name: String,
    pub usage: Vec<LimitUsage>,
}

pub async fn accounts(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Vec<OperatorAccount>, AppError> {
    let ids = sqlx::query!("SELECT id, name FROM accounts ORDER BY id").fetch_all(&mut *conn).await?;
    let mut listed = Vec::with_capacity(ids.len());
    for account in ids {
        let plan = plan_row(&mut *conn, account.id, now).await?;
        listed.push(OperatorAccount { id: account.id, name: account.name, usage: plan.usage(), plan_name: plan.plan_name });
    }
    Ok(listed)
}

/// The account `key` names: its id, or its name where no other account has it.
pub async fn find_account(conn: &mut PgConnection, key: &str) -> Result<Result<i64, String>, AppError> {
    if let Ok(id) = key.trim().parse::<i64>() {
        let found = sqlx::query_scalar!("SELECT id FROM accounts WHERE id = $1", id).fetch_optional(&mut *conn).await?;
        if let Some(id) = found {
            return Ok(Ok(id));
        }
    }
    let named = sqlx::query_scalar!("SELECT id FROM accounts WHERE lower(name) = lower($1) ORDER BY id", key.trim())
        .fetch_all(conn)
        .await?;
    Ok(match named.as_slice() {
        [id] => Ok(*id),
        [] => Err(format!("No account has the id or name {key:?}. `roster accounts` lists them.")),
        many => Err(format!(
            "More than one account is named {key:?} (ids {}); give the id instead.",
            many.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        )),
    })
}

/// What the operator changes: each limit left alone (`None`), set or made unlimited.
#[derive(Debug, Default)]
pub struct LimitsChange {
    pub plan_name: Option<String>,
    pub limits: Vec<(Limit, Option<i64>)>,
}

/// Sets the plan name and limits of `account_id`, audited as the operator's.
pub async fn set_limits(conn: &mut PgConnection, account_id: i64, change: &LimitsChange, now: DateTime<Utc>) -> Result<(), AppError> {
    let before = plan_row(&mut *conn, account_id, now).await?;
    let mut after_usage = before.usage();
    for (limit, value) in &change.limits {
        if let Some(entry) = after_usage.iter_mut().find(|u| u.limit == *limit) {
            entry.allowed = *value;
        }
    }
    let allowed = |limit: Limit| after_usage.iter().find(|u| u.limit == limit).and_then(|u| u.allowed);
    let plan_name = change.plan_name.clone().unwrap_or_else(|| before.plan_name.clone());
    sqlx::query!(
        "UPDATE accounts SET plan_name = $2, customer_limit = $3, staff_user_limit = $4, customer_user_limit = $5,
                             email_month_limit = $6
          WHERE id = $1",
        account_id,
        plan_name,
        allowed(Limit::Customers),
        allowed(Limit::StaffUsers),
        allowed(Limit::CustomerUsers),
        allowed(Limit::EmailsPerMonth)
    )
    .execute(&mut *conn)
    .await?;
    let mut changes = Changes::default().field("plan_name", &before.plan_name, &plan_name);
    for (was, now_is) in before.usage().iter().zip(&after_usage) {
        changes = changes.field(was.limit.key(), &was.allowed, &now_is.allowed);
    }
    Actor::anonymous(Some(account_id), "operator (command line)", now)
        .audit(conn, Action::AccountPlanChanged, Record::account(account_id), changes)
        .await?;
    Ok(())
}
