//! The customer list engine. It is designed for the fast shapes measured in PERF-NOTES:
//!
//! - pages move by keyset (the sort key of the last row), never by a large OFFSET;
//! - in title order the unique index carries the filter columns, so a filtered page is an
//!   index-only walk that stops at 26 matches. The walk is capped (the "probe window"); when a
//!   search term or group is too rare to fill a page inside it, the GIN indexes answer instead
//!   and the few matches are sorted;
//! - totals are exact when a counter knows them (all customers, one group), counted up to
//!   [`COUNT_CAP`] when the matches are few, and otherwise estimated from the probe window, and
//!   the list says which.
//!
//! The SQL is assembled from fixed fragments with bound values; nothing the user types is
//! spliced into it.

use super::super::*;
use crate::{
    error::AppError,
    permissions::{grant::CustomersView, Permission},
    server::capability::{Allowed, Staff},
    ui::PAGE_SIZES,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

/// How many rows of the title order a search first walks: enough for common terms to fill a
/// page, few enough to cost little when the term turns out rare.
pub const PROBE_WINDOW: i64 = 5_000;
/// Estimated totals above this are shown as estimates ("about N") rather than counted.
const ESTIMATE_FROM: i64 = COUNT_CAP / 4;
/// The longest walk for a search whose first window suggested it is merely uncommon.
pub const LONG_WINDOW: i64 = 60_000;
/// Matches in the first window that make the long walk worth it (rarer terms go to the GIN index).
const LONG_WALK_MIN_MATCHES: i64 = 3;
/// A group filter walks the title order when at least this share of customers belongs to it;
/// smaller groups are read through the GIN index and sorted.
const GROUP_WALK_DENSITY: f64 = 0.0005;
/// The longest walk for a group filter.
const GROUP_WINDOW: i64 = 200_000;
/// Search terms shorter than this cannot use the trigram index.
const TRIGRAM_MIN: usize = 3;

/// Where a page starts or ends, in the list's order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Cursor {
    /// Title order: the (unique) lower-cased title.
    Title(String),
    /// City, country or e-mail order: that value (blank when missing), then the title.
    Keyed(String, String),
    /// Creation order.
    Created(DateTime<Utc>, i64),
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// A cursor this server made; anything else (or a crafted one carrying NUL, which no
    /// stored text holds) is none.
    pub fn decode(raw: &str) -> Option<Self> {
        let cursor: Self = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
        let clean = |s: &str| !s.contains('\0');
        match &cursor {
            Cursor::Title(t) if !clean(t) => None,
            Cursor::Keyed(a, b) if !clean(a) || !clean(b) => None,
            _ => Some(cursor),
        }
    }

    fn fits(&self, sort: SortKey) -> bool {
        matches!(
            (self, sort),
            (Cursor::Title(_), SortKey::Title)
                | (Cursor::Created(..), SortKey::Created)
                | (Cursor::Keyed(..), SortKey::City | SortKey::Country | SortKey::Email)
        )
    }
}

/// The conditions of a list request, besides the account.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    /// The caller's companies (None: the whole account).
    pub scope: Option<Vec<i64>>,
    /// The owner filter with the companies below it.
    pub owners: Option<Vec<i64>>,
    pub customer_type: Option<i64>,
    pub group: Option<i64>,
    pub parent: Option<i64>,
    /// `%term%`, escaped for LIKE, lower-cased.
    pub pattern: Option<String>,
    /// Whether the term is long enough for the trigram index.
    pub trigram: bool,
}

impl Filters {
    fn any(&self) -> bool {
        self.scope.is_some()
            || self.owners.is_some()
            || self.customer_type.is_some()
            || self.group.is_some()
            || self.parent.is_some()
            || self.pattern.is_some()
    }

    /// Appends ` AND …` for every condition.
    pub(super) fn push(&self, qb: &mut QueryBuilder<'_, Postgres>) {
        if let Some(scope) = &self.scope {
            qb.push(" AND owner_company_id = ANY(").push_bind(scope.clone()).push(")");
        }
        if let Some(owners) = &self.owners {
            qb.push(" AND owner_company_id = ANY(").push_bind(owners.clone()).push(")");
        }
        if let Some(t) = self.customer_type {
            qb.push(" AND customer_type_id = ").push_bind(t);
        }
        if let Some(g) = self.group {
            qb.push(" AND group_ids @> ARRAY[").push_bind(g).push("::bigint]");
        }
        if let Some(p) = self.parent {
            qb.push(" AND parent_id = ").push_bind(p);
        }
        if let Some(pattern) = &self.pattern {
            qb.push(" AND search LIKE ").push_bind(pattern.clone());
        }
    }
}

pub fn like_pattern(term: &str) -> Option<String> {
    let term = term.trim().to_lowercase();
    if term.is_empty() {
        return None;
    }
    let escaped = term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Some(format!("%{escaped}%"))
}

/// One page request, resolved.
pub(super) struct Page<'a> {
    pub account_id: i64,
    pub sort: SortKey,
    /// The order rows are read in: the list's order, or its reverse for a previous/last page.
    pub ascending: bool,
    pub cursor: Option<&'a Cursor>,
    pub limit: i64,
    pub offset: i64,
}

impl Page<'_> {
    /// The ORDER BY terms. `opaque` wraps the keys in an expression no index provides, which
    /// keeps the planner from walking a sort index (the sparse path wants the GIN indexes).
    fn order(&self, opaque: bool) -> String {
        let dir = if self.ascending { "ASC" } else { "DESC" };
        let key = |k: &str| if opaque { format!("({k} || '')") } else { k.to_owned() };
        match self.sort {
            SortKey::Title => format!("{} {dir}", key("title_sort")),
            SortKey::Created => format!("created_at {dir}, id {dir}"),
            SortKey::City => format!("{} {dir}, title_sort {dir}", key("coalesce(city, '')")),
            SortKey::Country => format!("{} {dir}, title_sort {dir}", key("coalesce(country, '')")),
            SortKey::Email => format!("{} {dir}, title_sort {dir}", key("coalesce(email_sort, '')")),
        }
    }

    pub(super) fn push_keyset(&self, qb: &mut QueryBuilder<'_, Postgres>) {
        let op = if self.ascending { " > " } else { " < " };
        match (self.cursor, self.sort) {
            (Some(Cursor::Title(t)), _) => {
                qb.push(" AND title_sort").push(op).push_bind(t.clone());
            }
            (Some(Cursor::Created(at, id)), _) => {
                qb.push(" AND (created_at, id)").push(op).push("(").push_bind(*at).push(", ").push_bind(*id).push(")");
            }
            (Some(Cursor::Keyed(value, title)), sort) => {
                let column = match sort {
                    SortKey::City => "coalesce(city, '')",
                    SortKey::Country => "coalesce(country, '')",
                    _ => "coalesce(email_sort, '')",
                };
                qb.push(" AND (")
                    .push(column)
                    .push(", title_sort)")
                    .push(op)
                    .push("(")
                    .push_bind(value.clone())
                    .push(", ")
                    .push_bind(title.clone())
                    .push(")");
            }
            (None, _) => {}
        }
    }

    pub(super) fn push_tail(&self, qb: &mut QueryBuilder<'_, Postgres>, opaque: bool) {
        qb.push(" ORDER BY ").push(self.order(opaque)).push(" LIMIT ").push_bind(self.limit);
        if self.offset > 0 {
            qb.push(" OFFSET ").push_bind(self.offset);
        }
    }
}

/// What a page row carries: what the table shows and what a cursor needs.
const ROW_COLUMNS: &str = "c.id, c.title, c.company_name, c.email, c.country, c.city, c.created_at, t.name AS type_name, \
    c.title_sort, coalesce(c.city, '') AS city_key, coalesce(c.country, '') AS country_key, coalesce(c.email_sort, '') AS email_key";
const ROW_JOIN: &str = " JOIN customer_types t ON t.account_id = c.account_id AND t.id = c.customer_type_id";

struct Found {
    row: CustomerRow,
    cursor: Cursor,
}

/// Where the list goes on after row `r` in `sort` order (the row carries the sort keys).
pub(super) fn cursor_of(r: &sqlx::postgres::PgRow, sort: SortKey) -> Result<Cursor, sqlx::Error> {
    let title_sort: String = r.try_get("title_sort")?;
    Ok(match sort {
        SortKey::Title => Cursor::Title(title_sort),
        SortKey::Created => Cursor::Created(r.try_get("created_at")?, r.try_get("id")?),
        SortKey::City => Cursor::Keyed(r.try_get("city_key")?, title_sort),
        SortKey::Country => Cursor::Keyed(r.try_get("country_key")?, title_sort),
        SortKey::Email => Cursor::Keyed(r.try_get("email_key")?, title_sort),
    })
}

fn found(r: &sqlx::postgres::PgRow, sort: SortKey) -> Result<Found, sqlx::Error> {
    let id: i64 = r.try_get("id")?;
    let created_at: DateTime<Utc> = r.try_get("created_at")?;
    let cursor = cursor_of(r, sort)?;
    Ok(Found {
        row: CustomerRow {
            id,
            title: r.try_get("title")?,
            company_name: r.try_get("company_name")?,
            email: r.try_get("email")?,
            country: r.try_get("country")?,
            city: r.try_get("city")?,
            type_name: r.try_get("type_name")?,
            created_at,
        },
        cursor,
    })
}

/// Rows in order by the planner's own choice (`opaque` false: it walks the sort index; true:
/// it must find the matches another way, the GIN indexes for a search or a group, and sort them).
async fn select(conn: &mut PgConnection, page: &Page<'_>, filters: &Filters, opaque: bool) -> Result<Vec<Found>, sqlx::Error> {
    let mut qb = QueryBuilder::new(format!("SELECT {ROW_COLUMNS} FROM customers c{ROW_JOIN} WHERE c.account_id = "));
    qb.push_bind(page.account_id);
    filters.push(&mut qb);
    page.push_keyset(&mut qb);
    page.push_tail(&mut qb, opaque);
    qb.build().fetch_all(&mut *conn).await?.iter().map(|r| found(r, page.sort)).collect()
}

/// A walk of the title order, at most `window` rows, that stops as soon as a page of matches is
/// found. Returns the matches (in order) and the position in the walk of the last one.
async fn walk(conn: &mut PgConnection, page: &Page<'_>, filters: &Filters, window: i64) -> Result<(Vec<Found>, i64), sqlx::Error> {
    let mut qb = QueryBuilder::new(format!(
        "SELECT {ROW_COLUMNS}, p.n FROM (SELECT id, n FROM (SELECT w0.*, row_number() OVER () AS n FROM \
         (SELECT id, title_sort, search, group_ids, customer_type_id, owner_company_id, parent_id FROM customers \
         WHERE account_id = "
    ));
    qb.push_bind(page.account_id);
    page.push_keyset(&mut qb);
    qb.push(" ORDER BY ").push(page.order(false)).push(" LIMIT ").push_bind(window).push(") w0) w WHERE true");
    filters.push(&mut qb);
    qb.push(" LIMIT ").push_bind(page.limit);
    qb.push(format!(") p JOIN customers c ON c.id = p.id{ROW_JOIN}"));
    let rows = qb.build().fetch_all(&mut *conn).await?;
    let mut numbered: Vec<(i64, Found)> =
        rows.iter().map(|r| Ok((r.try_get::<i64, _>("n")?, found(r, page.sort)?))).collect::<Result<_, sqlx::Error>>()?;
    // The walk's order is the title order; the row numbers restore it after the join.
    numbered.sort_by_key(|(n, _)| *n);
    let last = numbered.last().map(|(n, _)| *n).unwrap_or(0);
    Ok((numbered.into_iter().map(|(_, f)| f).collect(), last))
}

/// Whether fewer than `window` rows follow the cursor (a walk of that length saw them all).
async fn fits_in(conn: &mut PgConnection, page: &Page<'_>, window: i64) -> Result<bool, sqlx::Error> {
    let mut qb = QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM customers WHERE account_id = ");
    qb.push_bind(page.account_id);
    page.push_keyset(&mut qb);
    qb.push(" ORDER BY ").push(page.order(false)).push(" LIMIT ").push_bind(window).push(") w");
    Ok(qb.build_query_scalar::<i64>().fetch_one(&mut *conn).await? < window)
}

/// The title key of the row just before `offset` (a typed page number), read from the index
/// alone, so the page itself is an ordinary keyset read.
async fn key_before(conn: &mut PgConnection, page: &Page<'_>, filters: &Filters, offset: i64) -> Result<Option<Cursor>, sqlx::Error> {
    let mut qb = QueryBuilder::new("SELECT title_sort FROM customers WHERE account_id = ");
    qb.push_bind(page.account_id);
    filters.push(&mut qb);
    qb.push(" ORDER BY ").push(page.order(false)).push(" OFFSET ").push_bind(offset - 1).push(" LIMIT 1");
    Ok(qb.build_query_scalar::<String>().fetch_optional(&mut *conn).await?.map(Cursor::Title))
}

/// Counts matches up to the cap, by the cheapest index for the filters.
async fn capped_count(conn: &mut PgConnection, account_id: i64, filters: &Filters) -> Result<Total, sqlx::Error> {
    let mut qb = QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM customers WHERE account_id = ");
    qb.push_bind(account_id);
    filters.push(&mut qb);
    qb.push(" LIMIT ").push_bind(COUNT_CAP + 1).push(") c");
    let n = qb.build_query_scalar::<i64>().fetch_one(&mut *conn).await?;
    Ok(if n > COUNT_CAP { Total::AtLeast(COUNT_CAP) } else { Total::Exact(n) })
}

/// Everything a list request needs before its rows, in one round trip: the remembered page
/// size, the account's customer count, the group's member count, the caller's scope and the
/// owner filter's companies.
pub(super) struct Head {
    page_size: i64,
    account_total: i64,
    group_total: Option<i64>,
    scope: Option<Vec<i64>>,
    owners: Option<Vec<i64>>,
}

pub(super) async fn head(conn: &mut PgConnection, staff: &Staff, query: &CustomerQuery) -> Result<Head, AppError> {
    let scope_top = if staff.is_administrator() { None } else { Some(staff.company_id()) };
    let row = sqlx::query!(
        r#"SELECT u.customer_page_size, a.customer_count,
                  (SELECT member_count FROM customer_groups WHERE account_id = $1 AND id = $3) AS group_total,
                  (SELECT parent_id IS NULL FROM companies WHERE account_id = $1 AND id = $4) AS "whole_account?",
                  CASE WHEN $4::bigint IS NULL THEN NULL ELSE
                      (SELECT array_agg(id) FROM companies WHERE account_id = $1 AND path @> ARRAY[$4::bigint]) END AS scope,
                  CASE WHEN $5::bigint IS NULL THEN NULL ELSE
                      (SELECT array_agg(id) FROM companies WHERE account_id = $1 AND path @> ARRAY[$5::bigint]) END AS owners
             FROM users u JOIN accounts a ON a.id = u.account_id
            WHERE u.account_id = $1 AND u.id = $2"#,
        staff.account_id(),
        staff.user_id(),
        query.group,
        scope_top,
        query.owner
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Head {
        page_size: row.customer_page_size.into(),
        account_total: row.customer_count,
        group_total: query.group.map(|_| row.group_total.unwrap_or(0)),
        // Someone (or a key) at the account's top company sees every customer, as an
        // Administrator does: no company list to test each row against. A scoped caller always
        // has at least their own company.
        scope: match row.whole_account {
            Some(true) => None,
            _ => scope_top.map(|_| row.scope.unwrap_or_default()),
        },
        owners: query.owner.map(|_| row.owners.unwrap_or_default()),
    })
}

/// The conditions of `query` for the caller `head` describes.
pub(super) fn filters_for(head: &Head, query: &CustomerQuery) -> Filters {
    Filters {
        trigram: query.q.trim().chars().count() >= TRIGRAM_MIN,
        scope: head.scope.clone(),
        owners: head.owners.clone(),
        customer_type: query.customer_type,
        group: query.group,
        parent: query.parent,
        pattern: like_pattern(&query.q),
    }
}

pub async fn list(conn: &mut PgConnection, allowed: &Allowed<'_, CustomersView>, query: &CustomerQuery) -> Result<CustomerList, AppError> {
    let staff = allowed.staff();
    let account_id = staff.account_id();
    let head = head(&mut *conn, staff, query).await?;
    // A size in the address is the user's new choice, remembered for next time.
    let size = match query.size {
        Some(size) if PAGE_SIZES.contains(&size) => {
            // An API key's page size is per request, not a choice to remember.
            if size != head.page_size && staff.user().api_key().is_none() {
                sqlx::query!(
                    "UPDATE users SET customer_page_size = $3 WHERE account_id = $1 AND id = $2",
                    account_id,
                    staff.user_id(),
                    size as i32
                )
                .execute(&mut *conn)
                .await?;
            }
            size
        }
        _ => head.page_size,
    };
    let filters = filters_for(&head, query);
    let sort = query.sort;
    let after = query.after.as_deref().and_then(Cursor::decode).filter(|c| c.fits(sort));
    let before = query.before.as_deref().and_then(Cursor::decode).filter(|c| c.fits(sort));
    let last = query.last && after.is_none() && before.is_none();
    let backward = before.is_some() || last;
    let jump = after.is_none() && before.is_none() && !last && query.page > 1;

    // Totals the counters know exactly.
    let only_group = filters.group.is_some()
        && filters.scope.is_none()
        && filters.owners.is_none()
        && filters.customer_type.is_none()
        && filters.parent.is_none()
        && filters.pattern.is_none();
    let known_total = if !filters.any() {
        Some(head.account_total)
    } else if only_group {
        head.group_total
    } else {
        None
    };
    // The last page holds what is left after the full pages; other pages read one row ahead.
    let limit = if last {
        known_total.map(|t| if t % size == 0 { size } else { t % size }).unwrap_or(size)
    } else {
        size + 1
    };
    // A typed page number in title order: find where it starts from the index alone.
    let jump_cursor = if jump && sort == SortKey::Title && !query.desc {
        let probe_page = Page { account_id, sort, ascending: true, cursor: None, limit: 1, offset: 0 };
        key_before(&mut *conn, &probe_page, &filters, (query.page - 1) * size).await?
    } else {
        None
    };
    let jumped = jump_cursor.is_some();
    let page = Page {
        account_id,
        sort,
        ascending: query.desc == backward,
        cursor: after.as_ref().or(before.as_ref()).or(jump_cursor.as_ref()),
        limit,
        offset: if jump && !jumped { (query.page - 1) * size } else { 0 },
    };

    let mut estimate = None;
    let found = if sort == SortKey::Title && filters.parent.is_none() && !(jump && !jumped) && filters.pattern.is_some() {
        // A search: walk a short window; a common term fills the page there.
        let (rows, last) = walk(&mut *conn, &page, &filters, PROBE_WINDOW).await?;
        if rows.len() as i64 >= page.limit {
            estimate = Some(((rows.len() as f64 / last.max(1) as f64) * head.account_total as f64).round() as i64);
            rows
        } else if fits_in(&mut *conn, &page, PROBE_WINDOW).await? {
            rows
        } else if rows.len() as i64 >= LONG_WALK_MIN_MATCHES || (!filters.trigram && filters.group.is_none()) {
            // Uncommon, or too short for the trigram index: walk further.
            let (rows, last) = walk(&mut *conn, &page, &filters, LONG_WINDOW).await?;
            if rows.len() as i64 >= page.limit {
                estimate = Some(((rows.len() as f64 / last.max(1) as f64) * head.account_total as f64).round() as i64);
                rows
            } else if fits_in(&mut *conn, &page, LONG_WINDOW).await? || !filters.trigram {
                rows
            } else {
                select(&mut *conn, &page, &filters, true).await?
            }
        } else {
            // Rare: the trigram index finds the few matches, which are sorted.
            select(&mut *conn, &page, &filters, true).await?
        }
    } else if sort == SortKey::Title && filters.parent.is_none() && !(jump && !jumped) && filters.group.is_some() {
        let density = head.group_total.unwrap_or(0) as f64 / head.account_total.max(1) as f64;
        if density >= GROUP_WALK_DENSITY {
            let window = ((page.limit as f64 / density) * 4.0).min(GROUP_WINDOW as f64) as i64;
            let (rows, _) = walk(&mut *conn, &page, &filters, window).await?;
            if rows.len() as i64 >= page.limit || fits_in(&mut *conn, &page, window).await? {
                rows
            } else {
                select(&mut *conn, &page, &filters, true).await?
            }
        } else {
            select(&mut *conn, &page, &filters, true).await?
        }
    } else {
        select(&mut *conn, &page, &filters, false).await?
    };

    // A first page that is not full holds every match: that is the count.
    let whole_set = page.cursor.is_none() && page.offset == 0 && !backward && (found.len() as i64) < page.limit;
    let total = match (known_total, estimate) {
        (Some(n), _) => Total::Exact(n),
        _ if whole_set => Total::Exact(found.len() as i64),
        // A walk that filled the page already measured the density; counting thousands of
        // matches exactly would cost more than the page itself, so the list says "about".
        (None, Some(n)) if n > ESTIMATE_FROM => Total::About(n),
        _ => capped_count(&mut *conn, account_id, &filters).await?,
    };

    // Trim the look-ahead row and put the page in display order.
    let mut found = found;
    let more = found.len() as i64 > size;
    found.truncate(size as usize);
    if backward {
        found.reverse();
    }
    let first = found.first().map(|f| f.cursor.encode());
    let final_row = found.last().map(|f| f.cursor.encode());
    let (next, previous) = if last {
        let earlier = known_total.map_or(true, |t| t > found.len() as i64);
        (None, first.filter(|_| earlier))
    } else if backward {
        (final_row, first.filter(|_| more))
    } else {
        (final_row.filter(|_| more), first.filter(|_| after.is_some() || jump))
    };
    let page_number = if last {
        total.exact().map(|t| ((t + size - 1) / size).max(1)).unwrap_or(query.page.max(1))
    } else {
        query.page.max(1)
    };
    Ok(CustomerList {
        rows: found.into_iter().map(|f| f.row).collect(),
        total,
        page: page_number,
        page_size: size,
        next,
        previous,
        can_create: staff.holds(Permission::CustomersCreate),
        can_edit: staff.holds(Permission::CustomersEdit),
        can_delete: staff.holds(Permission::CustomersDelete),
        can_view_users: staff.holds(Permission::CustomerUsersView),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_fit_only_their_order() {
        for cursor in [
            Cursor::Title("acme solar".into()),
            Cursor::Keyed("berlin".into(), "acme".into()),
            Cursor::Created(DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().into(), 42),
        ] {
            assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor.clone()));
        }
        assert!(Cursor::Title("a".into()).fits(SortKey::Title));
        assert!(!Cursor::Title("a".into()).fits(SortKey::City));
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode(&Cursor::Title("a\0b".into()).encode()), None, "NUL never reaches PostgreSQL");
    }

    #[test]
    fn search_terms_are_escaped_for_like() {
        assert_eq!(like_pattern("  Ac_me%  ").as_deref(), Some("%ac\\_me\\%%"));
        assert_eq!(like_pattern(" "), None);
    }
}
