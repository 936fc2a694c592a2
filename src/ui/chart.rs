//! Small charts drawn as SVG on the server (no chart library in the Wasm): a usage bar, and
//! bars per day for a few series. Each has a text equivalent for screen readers.

use leptos::prelude::*;

/// How full something is: a bar with `label`, `summary` ("412 of 500") and, when limited, the
/// share used. Without a share it reads "unlimited" and draws no bar.
#[component]
pub fn UsageBar(label: String, summary: String, percent: Option<u32>) -> impl IntoView {
    let level = match percent {
        Some(p) if p >= 100 => "usage-full",
        Some(p) if p >= 80 => "usage-high",
        _ => "usage-normal",
    };
    view! {
        <div class="usage">
            <div class="usage-head">
                <span class="usage-label">{label.clone()}</span>
                <span class="usage-summary">{summary.clone()}</span>
            </div>
            {match percent {
                Some(p) => view! {
                    <div class=format!("usage-track {level}") role="meter" aria-label=label aria-valuemin="0" aria-valuemax="100"
                        aria-valuenow=p.to_string() aria-valuetext=format!("{summary}, {p}%")>
                        <div class="usage-fill" style=format!("width:{p}%")></div>
                    </div>
                }.into_any(),
                None => view! { <p class="usage-unlimited">"Unlimited"</p> }.into_any(),
            }}
        </div>
    }
}

/// One series of a [`DailyBars`] chart: its name, its CSS class and a value per day.
#[derive(Clone)]
pub struct Series {
    pub name: &'static str,
    pub class: &'static str,
    pub values: Vec<i64>,
}

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 140.0;

/// Bars per day, one group per label, one bar per series; a table with the same figures for
/// screen readers.
#[component]
pub fn DailyBars(title: &'static str, labels: Vec<String>, series: Vec<Series>) -> impl IntoView {
    let top = series.iter().flat_map(|s| s.values.iter().copied()).max().unwrap_or(0).max(1) as f64;
    let days = labels.len().max(1) as f64;
    let group = WIDTH / days;
    let bar = (group * 0.8) / series.len().max(1) as f64;
    let rects: Vec<_> = series
        .iter()
        .enumerate()
        .flat_map(|(s, serie)| {
            serie.values.iter().enumerate().map(move |(d, value)| {
                let h = (*value as f64 / top) * (HEIGHT - 4.0);
                let x = d as f64 * group + group * 0.1 + s as f64 * bar;
                view! {
                    <rect class=serie.class x=format!("{x:.1}") y=format!("{:.1}", HEIGHT - h) width=format!("{:.1}", (bar - 1.0).max(1.0))
                        height=format!("{h:.1}")/>
                }
            })
        })
        .collect();
    let legend: Vec<_> = series
        .iter()
        .map(|s| view! { <li><span class=format!("legend-swatch {}", s.class)></span>{s.name}": "{s.values.iter().sum::<i64>()}</li> })
        .collect();
    let first = labels.first().cloned().unwrap_or_default();
    let last = labels.last().cloned().unwrap_or_default();
    let rows: Vec<_> = labels
        .iter()
        .enumerate()
        .map(|(d, label)| {
            let cells: Vec<_> = series.iter().map(|s| view! { <td>{s.values.get(d).copied().unwrap_or(0)}</td> }).collect();
            view! { <tr><th scope="row">{label.clone()}</th>{cells}</tr> }
        })
        .collect();
    let heads: Vec<_> = series.iter().map(|s| view! { <th scope="col">{s.name}</th> }).collect();
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") preserveAspectRatio="none" aria-hidden="true" focusable="false">
                <line class="chart-axis" x1="0" y1=HEIGHT.to_string() x2=WIDTH.to_string() y2=HEIGHT.to_string()/>
                {rects}
            </svg>
            <div class="chart-range"><span>{first}</span><span>{last}</span></div>
            <ul class="chart-legend">{legend}</ul>
            <table class="visually-hidden">
                <caption>{title}</caption>
                <thead><tr><th scope="col">"Day"</th>{heads}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </figure>
    }
}
