//! Prints `bench/run.sh`'s table from its results file.
//!
//! `bench_report RESULTS.tsv`
//!
//! Each line of the results file is `scenario<TAB>side<TAB>round<TAB>name<TAB>value`:
//! * `side` is `seine` or an anchor's name (`tokio_raw`, `nginx`, ...);
//! * `name` is a metric (`frames/s`, `p99 us`, ...), or `@cpu:UNIT` (server CPU per unit
//!   of work, e.g. `@cpu:us/frame`), `@srv%` / `@load%` (server / load tool CPU, % of one
//!   core), `@usr%` (the share of the server's CPU spent in user space, %), or `@note`
//!   (a text shown instead of figures, side `-`).
//!
//! For every scenario, anchor and metric one row: the seine median, the anchor median,
//! and the median of the per-round ratios seine / anchor (rounds where both ran).

use std::collections::BTreeMap;

/// A side whose load tool used at least this much of its core, and more than the server
/// used of its own, measured the load tool rather than the server.
const LOAD_BOUND_PCT: f64 = 90.0;

#[derive(Default)]
struct Scenario {
    sides: Vec<String>,
    metrics: Vec<String>,
    notes: Vec<String>,
    /// (side, name) -> round -> value
    values: BTreeMap<(String, String), BTreeMap<u32, f64>>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn fmt_num(v: Option<f64>) -> String {
    match v {
        None => "-".to_string(),
        Some(x) if x.abs() >= 1e7 => format!("{:.2}M", x / 1e6),
        Some(x) if x.abs() >= 1e5 => format!("{:.0}k", x / 1e3),
        Some(x) if x.abs() >= 100.0 => format!("{x:.0}"),
        Some(x) if x.abs() >= 10.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.3}"),
    }
}

fn fmt_ratio(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into())
}

impl Scenario {
    fn series(&self, side: &str, name: &str) -> Option<&BTreeMap<u32, f64>> {
        self.values.get(&(side.to_string(), name.to_string()))
    }
    fn med(&self, side: &str, name: &str) -> Option<f64> {
        median(self.series(side, name)?.values().copied().collect())
    }
    fn ratio(&self, anchor: &str, name: &str) -> Option<f64> {
        let s = self.series("seine", name)?;
        let a = self.series(anchor, name)?;
        median(
            s.iter()
                .filter_map(|(r, sv)| a.get(r).map(|av| sv / av))
                .collect(),
        )
    }
    fn rounds(&self, side: &str) -> usize {
        self.metrics
            .first()
            .and_then(|m| self.series(side, m))
            .map_or(0, |s| s.len())
    }
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "bench-results.tsv".into());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("bench_report: {path}: {e}");
        std::process::exit(1)
    });
    let mut order: Vec<String> = Vec::new();
    let mut scen: BTreeMap<String, Scenario> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.splitn(5, '\t').collect();
        if f.len() != 5 {
            continue;
        }
        let (name, side, round, metric, value) = (f[0], f[1], f[2], f[3], f[4]);
        if !scen.contains_key(name) {
            order.push(name.to_string());
        }
        let s = scen.entry(name.to_string()).or_default();
        if metric == "@note" {
            if !s.notes.iter().any(|n| n == value) {
                s.notes.push(value.to_string());
            }
            continue;
        }
        let Ok(v) = value.trim().parse::<f64>() else {
            continue;
        };
        if !s.sides.iter().any(|x| x == side) {
            s.sides.push(side.to_string());
        }
        if !s.metrics.iter().any(|x| x == metric) {
            s.metrics.push(metric.to_string());
        }
        s.values
            .entry((side.to_string(), metric.to_string()))
            .or_default()
            .insert(round.parse().unwrap_or(0), v);
    }

    let head = [
        "scenario",
        "metric",
        "seine",
        "anchor",
        "anchor val",
        "ratio",
        "CPU/unit",
        "seine",
        "anchor",
        "ratio",
        "srv% s/a",
        "usr% s/a",
        "load% s/a",
        "n",
    ];
    let mut rows: Vec<Vec<String>> = vec![head.iter().map(|s| s.to_string()).collect()];
    let mut flagged = false;
    for name in &order {
        let s = &scen[name];
        let anchors: Vec<&String> = s.sides.iter().filter(|x| *x != "seine").collect();
        if anchors.is_empty() || s.metrics.iter().all(|m| m.starts_with('@')) {
            let note = if s.notes.is_empty() {
                "no results".to_string()
            } else {
                s.notes.join("; ")
            };
            rows.push(vec![name.clone(), note]);
            continue;
        }
        let cpu_metric = s.metrics.iter().find(|m| m.starts_with("@cpu:"));
        for anchor in anchors {
            let mut first = true;
            for m in s.metrics.iter().filter(|m| !m.starts_with('@')) {
                let mut row = vec![
                    if first { name.clone() } else { String::new() },
                    m.clone(),
                    fmt_num(s.med("seine", m)),
                    anchor.clone(),
                    fmt_num(s.med(anchor, m)),
                    fmt_ratio(s.ratio(anchor, m)),
                ];
                match (first, cpu_metric) {
                    (true, Some(c)) => row.extend([
                        c.trim_start_matches("@cpu:").to_string(),
                        fmt_num(s.med("seine", c)),
                        fmt_num(s.med(anchor, c)),
                        fmt_ratio(s.ratio(anchor, c)),
                    ]),
                    _ => row.extend(["", "", "", ""].map(String::from)),
                }
                if first {
                    let pct = |side: &str, k: &str| {
                        s.med(side, k)
                            .map(|v| format!("{v:.0}"))
                            .unwrap_or_else(|| "-".into())
                    };
                    for k in ["@srv%", "@usr%"] {
                        row.push(format!("{}/{}", pct("seine", k), pct(anchor, k)));
                    }
                    // `!`: the load tool, not the server, was the bottleneck of that side.
                    let mut load = |side: &str| {
                        let bound = matches!(
                            (s.med(side, "@load%"), s.med(side, "@srv%")),
                            (Some(l), Some(v)) if l >= LOAD_BOUND_PCT && l >= v
                        );
                        flagged |= bound;
                        format!("{}{}", pct(side, "@load%"), if bound { "!" } else { "" })
                    };
                    let (ls, la) = (load("seine"), load(anchor));
                    row.push(format!("{ls}/{la}"));
                    row.push(format!("{}", s.rounds("seine").min(s.rounds(anchor))));
                } else {
                    row.extend(["", "", "", ""].map(String::from));
                }
                rows.push(row);
                first = false;
            }
        }
        for n in &s.notes {
            rows.push(vec![String::new(), format!("note: {n}")]);
        }
    }
    // Column widths over the full rows (short note rows span the line).
    let ncol = head.len();
    let mut w = vec![0usize; ncol];
    for r in rows.iter().filter(|r| r.len() == ncol) {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    for (k, r) in rows.iter().enumerate() {
        let mut line = String::new();
        if r.len() == ncol {
            for (i, c) in r.iter().enumerate() {
                let pad = w[i] - c.chars().count();
                if i < 2 || i == 3 || i == 6 {
                    line.push_str(c);
                    line.push_str(&" ".repeat(pad));
                } else {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(c);
                }
                line.push_str("  ");
            }
        } else {
            line = r.join("  ");
        }
        println!("{}", line.trim_end());
        if k == 0 {
            println!("{}", "-".repeat(w.iter().map(|x| x + 2).sum::<usize>()));
        }
    }
    if flagged {
        println!(
            "\n! the load tool used >= {LOAD_BOUND_PCT:.0}% of its core and more CPU than the server: \
             that side's rate is the load tool's limit, not the server's (its CPU/unit still holds)"
        );
    }
}
