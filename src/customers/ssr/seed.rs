//! `roster seed`: realistic demo and benchmark customers, generated inside PostgreSQL in batches
//! of `INSERT … SELECT generate_series`. Names, cities and countries come from small lists with
//! skewed frequencies, so some search terms are common and others rare, like real data. A third
//! of the customers are in one of 50 groups, and one in five sits under a parent two levels deep.
//!
//! For large runs the customer indexes are dropped first and rebuilt at the end, which is many
//! times faster than maintaining them row by row; the seed holds an exclusive lock meanwhile.

use sqlx::{PgPool, Postgres, Transaction};
use std::time::{Duration, Instant};

pub const GROUPS: i64 = 50;
const BATCH: i64 = 1_000_000;
/// Above this many rows the indexes are rebuilt rather than maintained.
const REBUILD_ABOVE: i64 = 200_000;

const FIRST: &[&str] = &[
    "Ada", "Alan", "Amira", "Ben", "Bianca", "Carlos", "Chen", "Clara", "Daniel", "Dara", "Elena", "Emil", "Fatima", "Felix",
    "Grace", "Hannah", "Hugo", "Ines", "Ivan", "Jana", "Jonas", "Julia", "Kai", "Karin", "Lars", "Lea", "Liam", "Lina", "Luca",
    "Maja", "Marco", "Maria", "Mateo", "Mia", "Nadia", "Noah", "Nora", "Olga", "Omar", "Paula", "Pedro", "Rosa", "Ruth",
    "Sara", "Sofia", "Tariq", "Theo", "Uma", "Vera", "Wei", "Yara", "Zoe",
];
const LAST: &[&str] = &[
    "Andersen", "Baker", "Bauer", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ibrahim", "Jensen", "Kowalski",
    "Lambert", "Lopez", "Martin", "Meyer", "Moreau", "Nielsen", "Novak", "Olsen", "Petrov", "Quinn", "Rossi", "Schmidt",
    "Silva", "Smith", "Tanaka", "Vogel", "Weber", "Wong", "Yilmaz", "Zimmermann",
];
const BUSINESS: &[&str] = &[
    "Solar", "Energy", "Power", "Grid", "Sun", "Volt", "Watt", "Roof", "Green", "Light", "Home", "Farm", "Works", "Systems",
];
/// Cities with their country; earlier entries are far more frequent.
const PLACES: &[(&str, &str)] = &[
    ("Berlin", "Germany"), ("Madrid", "Spain"), ("Lyon", "France"), ("Milan", "Italy"), ("Rotterdam", "Netherlands"),
    ("Porto", "Portugal"), ("Munich", "Germany"), ("Seville", "Spain"), ("Toulouse", "France"), ("Turin", "Italy"),
    ("Utrecht", "Netherlands"), ("Lisbon", "Portugal"), ("Hamburg", "Germany"), ("Valencia", "Spain"), ("Nice", "France"),
    ("Bologna", "Italy"), ("Leiden", "Netherlands"), ("Braga", "Portugal"), ("Cologne", "Germany"), ("Bilbao", "Spain"),
    ("Nantes", "France"), ("Genoa", "Italy"), ("Delft", "Netherlands"), ("Faro", "Portugal"), ("Leipzig", "Germany"),
    ("Malaga", "Spain"), ("Lille", "France"), ("Verona", "Italy"), ("Haarlem", "Netherlands"), ("Coimbra", "Portugal"),
    ("Dresden", "Germany"), ("Zaragoza", "Spain"), ("Rennes", "France"), ("Padua", "Italy"), ("Groningen", "Netherlands"),
    ("Aveiro", "Portugal"), ("Freiburg", "Germany"), ("Granada", "Spain"), ("Dijon", "France"), ("Trieste", "Italy"),
    ("Zwolle", "Netherlands"), ("Evora", "Portugal"), ("Quedlinburg", "Germany"), ("Xativa", "Spain"), ("Vezelay", "France"),
];

pub struct SeedReport {
    pub inserted: i64,
    pub insert_time: Duration,
    pub index_time: Duration,
}

fn sql_array(items: impl Iterator<Item = String>) -> String {
    let quoted: Vec<String> = items.map(|s| format!("'{}'", s.replace('\'', "''"))).collect();
    format!("ARRAY[{}]", quoted.join(","))
}

/// The customer indexes of the `customers` migration, by name and definition.
const INDEXES: &[(&str, &str)] = &[
    ("customers_title_key", "CREATE UNIQUE INDEX customers_title_key ON customers (account_id, title_sort) INCLUDE (id, search, group_ids, customer_type_id, owner_company_id, parent_id)"),
    ("customers_by_city", "CREATE INDEX customers_by_city ON customers (account_id, (coalesce(city, '')), title_sort)"),
    ("customers_by_country", "CREATE INDEX customers_by_country ON customers (account_id, (coalesce(country, '')), title_sort)"),
    ("customers_by_email", "CREATE INDEX customers_by_email ON customers (account_id, (coalesce(email_sort, '')), title_sort)"),
    ("customers_by_created", "CREATE INDEX customers_by_created ON customers (account_id, created_at, id)"),
    ("customers_search", "CREATE INDEX customers_search ON customers USING gin (search gin_trgm_ops)"),
    ("customers_groups", "CREATE INDEX customers_groups ON customers USING gin (group_ids)"),
    ("customers_parent", "CREATE INDEX customers_parent ON customers (account_id, parent_id) WHERE parent_id IS NOT NULL"),
    ("customers_owner", "CREATE INDEX customers_owner ON customers (account_id, owner_company_id)"),
    ("customers_type", "CREATE INDEX customers_type ON customers (account_id, customer_type_id)"),
];

/// Adds `count` customers to `account_id`, owned by its root company, typed with its default
/// type, and creates the 50 seed groups if missing.
pub async fn seed(db: &PgPool, account_id: i64, count: i64, progress: impl Fn(&str)) -> Result<SeedReport, sqlx::Error> {
    let rebuild = count > REBUILD_ABOVE;
    let mut tx: Transaction<'_, Postgres> = db.begin().await?;
    sqlx::query("LOCK TABLE customers IN EXCLUSIVE MODE").execute(&mut *tx).await?;
    sqlx::query("SET LOCAL maintenance_work_mem = '1GB'").execute(&mut *tx).await?;
    sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
    let root: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE account_id = $1 AND parent_id IS NULL")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    let customer_type: i64 = sqlx::query_scalar("SELECT id FROM customer_types WHERE account_id = $1 AND is_default")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO customer_groups (account_id, name)
         SELECT $1, 'Seed group ' || lpad(g::text, 2, '0') FROM generate_series(1, $2) g
         ON CONFLICT DO NOTHING",
    )
    .bind(account_id)
    .bind(GROUPS)
    .execute(&mut *tx)
    .await?;
    let groups: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM customer_groups WHERE account_id = $1 AND name LIKE 'Seed group %' ORDER BY name",
    )
    .bind(account_id)
    .fetch_all(&mut *tx)
    .await?;
    let base: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM customers").fetch_one(&mut *tx).await?;

    if rebuild {
        progress("dropping customer indexes for the bulk load");
        for (name, _) in INDEXES {
            sqlx::query(&format!("DROP INDEX IF EXISTS {name}")).execute(&mut *tx).await?;
        }
    }

    let first = sql_array(FIRST.iter().map(|s| s.to_string()));
    let last = sql_array(LAST.iter().map(|s| s.to_string()));
    let business = sql_array(BUSINESS.iter().map(|s| s.to_string()));
    let cities = sql_array(PLACES.iter().map(|p| p.0.to_string()));
    let countries = sql_array(PLACES.iter().map(|p| p.1.to_string()));
    let places = PLACES.len();
    // A skewed pick: squaring a uniform number favours the front of the list.
    let insert = format!(
        "INSERT INTO customers (id, account_id, title, company_name, email, phone, country, state, city, address, zip,
                                description, customer_type_id, owner_company_id, parent_id, group_ids, created_at, updated_at)
         OVERRIDING SYSTEM VALUE
         SELECT $1 + g, $2,
                l || ' ' || b || ' ' || g,
                CASE WHEN g % 3 = 0 THEN l || ' ' || b || ' GmbH' END,
                lower(f) || '.' || lower(l) || g || '@' || lower(b) || '-mail.example',
                '+49' || (1500000000 + g),
                country, NULL, city,
                (1 + g % 180) || ' ' || l || 'straße', lpad((g % 99999)::text, 5, '0'),
                NULL, $3, $4,
                CASE WHEN g % 10 = 5 AND g > 10 THEN $1 + g - 3 WHEN g % 10 = 0 AND g > 10 THEN $1 + g - 5 END,
                CASE WHEN g % 3 = 0 THEN ARRAY[($5::bigint[])[1 + (g / 3) % array_length($5::bigint[], 1)]] ELSE '{{}}'::bigint[] END,
                now() - make_interval(secs => g % 31536000), now()
           FROM generate_series($6::bigint, $7::bigint) AS g,
                LATERAL (SELECT ({first})[1 + (hashint8(g) & 2147483647) % {nf}] AS f,
                                ({last})[1 + (hashint8(g * 7) & 2147483647) % {nl}] AS l,
                                ({business})[1 + (hashint8(g * 13) & 2147483647) % {nb}] AS b,
                                1 + floor(power(((hashint8(g * 31) & 2147483647) % 1000000) / 1000000.0, 2) * {places})::int AS p) AS pick,
                LATERAL (SELECT ({cities})[p] AS city, ({countries})[p] AS country) AS place",
        nf = FIRST.len(),
        nl = LAST.len(),
        nb = BUSINESS.len(),
    );
    let started = Instant::now();
    let mut done = 0;
    while done < count {
        let upto = (done + BATCH).min(count);
        sqlx::query(&insert)
            .bind(base)
            .bind(account_id)
            .bind(customer_type)
            .bind(root)
            .bind(&groups)
            .bind(done + 1)
            .bind(upto)
            .execute(&mut *tx)
            .await?;
        done = upto;
        progress(&format!("inserted {done} of {count} customers ({:.0?})", started.elapsed()));
    }
    let insert_time = started.elapsed();
    sqlx::query("SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))")
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE accounts SET customer_count = (SELECT count(*) FROM customers WHERE account_id = $1) WHERE id = $1")
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE customer_groups g SET member_count = d.n
           FROM (SELECT gid, count(*) AS n FROM customers, unnest(group_ids) AS gid WHERE account_id = $1 GROUP BY gid) d
          WHERE g.account_id = $1 AND g.id = d.gid",
    )
    .bind(account_id)
    .execute(&mut *tx)
    .await?;
    let index_started = Instant::now();
    if rebuild {
        for (name, definition) in INDEXES {
            let at = Instant::now();
            sqlx::query(definition).execute(&mut *tx).await?;
            progress(&format!("built {name} ({:.0?})", at.elapsed()));
        }
    }
    let index_time = index_started.elapsed();
    tx.commit().await?;
    progress("analysing and vacuuming (for index-only scans)");
    sqlx::query("VACUUM (ANALYZE) customers").execute(db).await?;
    Ok(SeedReport { inserted: count, insert_time, index_time })
}
