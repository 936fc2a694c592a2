//! Customer-list benchmark, driven by `.dev/bench-customers` (read it for the whole procedure).
//!
//! Calls the customer-list server function over HTTP exactly as the browser does (a signed-in
//! session cookie, a form-encoded POST to /api/customers) for each scenario, and prints p50/p95.
//! It also writes, for each scenario, the SQL statement the server runs for the page, with its
//! values filled in, so the script can time the same SQL raw with pgbench.
//!
//! Environment: BENCH_URL (http://127.0.0.1:PORT), BENCH_EMAIL, BENCH_PASSWORD, DATABASE_URL,
//! BENCH_SQL_DIR (where to write the .sql files), BENCH_RUNS (default 200).

use std::{
    env,
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

struct Http {
    stream: TcpStream,
    host: String,
    cookie: Option<String>,
}

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Http {
    async fn connect(url: &str) -> Self {
        let host = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let stream = TcpStream::connect(&host).await.expect("connect to the server");
        stream.set_nodelay(true).unwrap();
        Self { stream, host, cookie: None }
    }

    async fn post(&mut self, path: &str, body: &str) -> Reply {
        let cookie = self.cookie.as_ref().map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n{cookie}\r\n{body}",
            self.host,
            body.len()
        );
        self.exchange(request).await
    }

    /// A REST API request: GET with the API key, no cookie.
    async fn get_with_key(&mut self, path: &str, key: &str) -> Reply {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nAuthorization: Bearer {key}\r\n\r\n",
            self.host
        );
        self.exchange(request).await
    }

    async fn exchange(&mut self, request: String) -> Reply {
        self.stream.write_all(request.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 65536];
        let (header_end, content_length) = loop {
            let n = self.stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..pos]).to_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()))
                    .expect("a content-length (compression is off for these requests)");
                break (pos + 4, length);
            }
        };
        while buf.len() < header_end + content_length {
            let n = self.stream.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
        }
        let headers = String::from_utf8_lossy(&buf[..header_end]).into_owned();
        let status = headers.split_whitespace().nth(1).unwrap().parse().unwrap();
        if let Some(line) = headers.lines().find(|l| l.to_lowercase().starts_with("set-cookie:")) {
            self.cookie = Some(line[11..].trim().split(';').next().unwrap().to_owned());
        }
        Reply { status, headers, body: buf[header_end..header_end + content_length].to_vec() }
    }
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Scenario {
    name: &'static str,
    /// Form fields after `query[`.
    fields: Vec<(&'static str, String)>,
    sql: String,
}

impl Scenario {
    /// The same page through the REST API (`GET /api/v1/customers`), when it has one: the API
    /// pages by cursor only, so a typed page number has none.
    fn rest_query(&self) -> Option<String> {
        let mut params = vec!["limit=25".to_owned()];
        for (k, v) in &self.fields {
            match *k {
                "q" => params.push(format!("q={}", encode(v))),
                "after" => params.push(format!("after={}", encode(v))),
                "group" => params.push(format!("group_id={v}")),
                "sort" => params.push(format!("sort={}", v.to_lowercase())),
                "page" if self.fields.iter().any(|(k, _)| *k == "after") => {}
                _ => return None,
            }
        }
        Some(format!("/api/v1/customers?{}", params.join("&")))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let url = env::var("BENCH_URL").expect("BENCH_URL");
    let email = env::var("BENCH_EMAIL").expect("BENCH_EMAIL");
    let password = env::var("BENCH_PASSWORD").expect("BENCH_PASSWORD");
    let sql_dir = env::var("BENCH_SQL_DIR").unwrap_or_else(|_| "target/bench-sql".into());
    let runs: usize = env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let db = sqlx::PgPool::connect(&env::var("DATABASE_URL").expect("DATABASE_URL")).await.unwrap();

    let account: i64 = sqlx::query_scalar("SELECT account_id FROM users WHERE lower(email) = lower($1)")
        .bind(&email)
        .fetch_one(&db)
        .await
        .unwrap();
    let total: i64 = sqlx::query_scalar("SELECT customer_count FROM accounts WHERE id = $1").bind(account).fetch_one(&db).await.unwrap();
    // Page 10,000 of 25 starts after row 249,975: the cursor the "Next page" links carry there.
    let deep_offset = 9_999 * 25 - 1;
    let deep_key: String = sqlx::query_scalar("SELECT title_sort FROM customers WHERE account_id = $1 ORDER BY title_sort OFFSET $2 LIMIT 1")
        .bind(account)
        .bind(deep_offset.min(total - 1))
        .fetch_one(&db)
        .await
        .unwrap();
    let deep_cursor = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&serde_json::json!({ "Title": deep_key })).unwrap())
    };
    let (group, members): (i64, i64) = sqlx::query_as(
        "SELECT id, member_count FROM customer_groups WHERE account_id = $1 ORDER BY member_count DESC LIMIT 1",
    )
    .bind(account)
    .fetch_one(&db)
    .await
    .unwrap();
    let common = "vezelay";
    // A handful of matches: the start of one customer's e-mail address (first.last + 3 digits).
    let local: String = sqlx::query_scalar(
        "SELECT split_part(email, '@', 1) FROM customers WHERE account_id = $1 ORDER BY id OFFSET 470 LIMIT 1",
    )
    .bind(account)
    .fetch_one(&db)
    .await
    .unwrap();
    let digits = local.find(|c: char| c.is_ascii_digit()).unwrap_or(local.len());
    let rare_term = local[..(digits + 3).min(local.len())].to_owned();
    let rare = rare_term.as_str();
    let count = |term: &str| {
        let db = db.clone();
        let pattern = format!("%{term}%");
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM customers WHERE account_id = $1 AND search LIKE $2")
                .bind(account)
                .bind(pattern)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let (common_hits, rare_hits) = (count(common).await, count(rare).await);
    eprintln!("{total} customers; deep cursor after row {deep_offset}; group {group} has {members} members; \
               '{common}' matches {common_hits}, '{rare}' matches {rare_hits}");

    let columns = "c.id, c.title, c.company_name, c.email, c.country, c.city, c.created_at, t.name AS type_name, c.title_sort, \
                   coalesce(c.city, '') AS city_key, coalesce(c.country, '') AS country_key, coalesce(c.email_sort, '') AS email_key";
    let join = "JOIN customer_types t ON t.account_id = c.account_id AND t.id = c.customer_type_id";
    // The early-stopping walk of the title order (see src/customers/ssr/list.rs, `walk`).
    let walk = |filter: String, window: i64| {
        format!(
            "SELECT {columns}, p.n FROM (SELECT id, n FROM (SELECT w0.*, row_number() OVER () AS n FROM \
             (SELECT id, title_sort, search, group_ids, customer_type_id, owner_company_id, parent_id FROM customers \
             WHERE account_id = {account} ORDER BY title_sort ASC LIMIT {window}) w0) w WHERE true AND {filter} LIMIT 26) p \
             JOIN customers c ON c.id = p.id {join};"
        )
    };
    let sparse = |filter: String| {
        format!(
            "SELECT {columns} FROM customers c {join} WHERE c.account_id = {account} AND {filter} \
             ORDER BY (title_sort || '') ASC LIMIT 26;"
        )
    };
    let deep_sql_key = deep_key.replace('\'', "''");
    let mut scenarios = vec![
        Scenario {
            name: "first page",
            fields: vec![],
            sql: format!("SELECT {columns} FROM customers c {join} WHERE c.account_id = {account} ORDER BY title_sort ASC LIMIT 26;"),
        },
        Scenario {
            name: "page 10,000 (next-page cursor)",
            fields: vec![("after", deep_cursor), ("page", "10000".into())],
            sql: format!(
                "SELECT {columns} FROM customers c {join} WHERE c.account_id = {account} AND title_sort > '{deep_sql_key}' \
                 ORDER BY title_sort ASC LIMIT 26;"
            ),
        },
        Scenario {
            name: "page 10,000 (typed page number)",
            fields: vec![("page", "10000".into())],
            // The server finds the page's start in the index alone, then reads by keyset.
            sql: format!(
                "SELECT {columns} FROM customers c {join} WHERE c.account_id = {account} AND title_sort > \
                 (SELECT title_sort FROM customers WHERE account_id = {account} ORDER BY title_sort OFFSET 249974 LIMIT 1) \
                 ORDER BY title_sort ASC LIMIT 26;"
            ),
        },
        Scenario {
            name: "search, common term",
            fields: vec![("q", common.into())],
            sql: walk(format!("search LIKE '%{common}%'"), 5_000),
        },
        Scenario {
            name: "search, rare term",
            fields: vec![("q", rare.into())],
            sql: sparse(format!("search LIKE '%{rare}%'")),
        },
        Scenario {
            name: "sort by city",
            fields: vec![("sort", "City".into())],
            sql: format!(
                "SELECT {columns} FROM customers c {join} WHERE c.account_id = {account} \
                 ORDER BY coalesce(city, '') ASC, title_sort ASC LIMIT 26;"
            ),
        },
        Scenario {
            name: "filter by group",
            fields: vec![("group", group.to_string())],
            sql: {
                let density = members as f64 / total.max(1) as f64;
                if density >= 0.0005 {
                    walk(format!("group_ids @> ARRAY[{group}::bigint]"), ((26.0 / density) * 4.0).min(200_000.0) as i64)
                } else {
                    sparse(format!("group_ids @> ARRAY[{group}::bigint]"))
                }
            },
        },
    ];

    let mut http = Http::connect(&url).await;
    let reply = http.post("/api/sign_in", &format!("email={}&password={}", encode(&email), encode(&password))).await;
    assert_eq!(reply.status, 200, "sign in: {}", String::from_utf8_lossy(&reply.body));
    std::fs::create_dir_all(&sql_dir).unwrap();
    // An API key of the same Administrator, for the REST API's list (issue 12).
    let company: i64 = sqlx::query_scalar("SELECT company_id FROM users WHERE lower(email) = lower($1)")
        .bind(&email)
        .fetch_one(&db)
        .await
        .unwrap();
    let reply = http
        .post("/api/create_api_key", &format!("name=bench-{}&expires_in_days=30&company_id={company}&permissions[]=customers.view", std::process::id()))
        .await;
    assert_eq!(reply.status, 200, "API key: {}", String::from_utf8_lossy(&reply.body));
    let key = serde_json::from_slice::<serde_json::Value>(&reply.body).unwrap()["secret"].as_str().unwrap().to_owned();
    let mut rest = Http::connect(&url).await;
    println!("| scenario | rows | total shown | HTTP p50 ms | HTTP p95 ms | REST p50 ms | REST p95 ms | REST/HTTP p95 |");
    println!("|---|---|---|---|---|---|---|---|");
    for (i, scenario) in scenarios.iter_mut().enumerate() {
        let mut body: Vec<String> = vec!["query[size]=25".into()];
        for (k, v) in &scenario.fields {
            body.push(format!("query[{k}]={}", encode(v)));
        }
        let body = body.join("&");
        // The server function and the REST list are timed in turns, one request each, so both
        // meet the same moment's conditions (cache, checkpoints, other work on the machine).
        let rest_path = scenario.rest_query();
        let mut times = Vec::with_capacity(runs);
        let mut rest_times = Vec::with_capacity(runs);
        let mut last = None;
        let mut rest_rows = None;
        for run in 0..(runs + 20) {
            let started = Instant::now();
            let reply = http.post("/api/customers", &body).await;
            let elapsed = started.elapsed();
            assert_eq!(reply.status, 200, "{}: {} {}", scenario.name, reply.headers, String::from_utf8_lossy(&reply.body));
            if run >= 20 {
                times.push(elapsed);
            }
            last = Some(reply);
            if let Some(path) = &rest_path {
                let started = Instant::now();
                let reply = rest.get_with_key(path, &key).await;
                let elapsed = started.elapsed();
                assert_eq!(reply.status, 200, "REST {}: {} {}", scenario.name, reply.headers, String::from_utf8_lossy(&reply.body));
                if run >= 20 {
                    rest_times.push(elapsed);
                } else if run == 0 {
                    let page: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
                    rest_rows = Some(page["data"].as_array().map(|r| r.len()).unwrap_or(0));
                }
            }
        }
        times.sort();
        rest_times.sort();
        let last = last.unwrap();
        let list: serde_json::Value = serde_json::from_slice(&last.body).unwrap();
        let rows = list["rows"].as_array().map(|r| r.len()).unwrap_or(0);
        let (rest_p50, rest_p95, ratio) = match rest_rows {
            Some(rest_rows) => {
                assert_eq!(rest_rows, rows, "{}: the REST page has the rows the server function gives", scenario.name);
                let p95 = percentile(&rest_times, 0.95);
                (format!("{:.2}", percentile(&rest_times, 0.50)), format!("{p95:.2}"), format!("{:.2}", p95 / percentile(&times, 0.95)))
            }
            None => ("—".into(), "—".into(), "—".into()),
        };
        println!(
            "| {} | {rows} | {} | {:.2} | {:.2} | {rest_p50} | {rest_p95} | {ratio} |",
            scenario.name,
            list["total"],
            percentile(&times, 0.50),
            percentile(&times, 0.95)
        );
        std::fs::write(format!("{sql_dir}/{i}.sql"), &scenario.sql).unwrap();
        std::fs::write(format!("{sql_dir}/{i}.name"), scenario.name).unwrap();
    }

    // The Billing page's data (SPEC 2.2): the plan and its four usages come from the account's
    // counters and the chart from 30 per-day rows, so it does not grow with the customers.
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for run in 0..(runs + 20) {
        let started = Instant::now();
        let reply = http.post("/api/billing", "").await;
        let elapsed = started.elapsed();
        assert_eq!(reply.status, 200, "billing: {} {}", reply.headers, String::from_utf8_lossy(&reply.body));
        if run >= 20 {
            times.push(elapsed);
        }
        last = Some(reply);
    }
    times.sort();
    let billing: serde_json::Value = serde_json::from_slice(&last.unwrap().body).unwrap();
    println!(
        "| billing page data | {} days | {} customers | {:.2} | {:.2} |",
        billing["days"].as_array().map(|d| d.len()).unwrap_or(0),
        billing["usage"][0]["used"],
        percentile(&times, 0.50),
        percentile(&times, 0.95)
    );
}
