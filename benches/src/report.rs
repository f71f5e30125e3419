//! The results of a run and how they are shown: text tables (milliseconds, ratios to the
//! baseline with geomean rows per workload group, per-engine details, errors) or JSON.

use crate::json::Json;
use crate::large::Throughput;
use crate::measure::{BenchError, Measurement, Row};
use crate::workload::{Group, Size};
use std::fmt::Write as _;
use std::time::Duration;

/// Everything one `gloam-bench` run measured.
#[derive(Clone, Debug)]
pub struct Report {
    pub size: Size,
    /// Timed calls per cell after the warm-up.
    pub runs: usize,
    /// The engines with results, in column order.
    pub engines: Vec<&'static str>,
    /// Index into `engines` of the baseline of the ratio table.
    pub baseline: usize,
    /// Engines that were asked for but are not in this build, with the reason.
    pub unavailable: Vec<(&'static str, String)>,
    pub rows: Vec<Row>,
    pub large: Option<LargeReport>,
}

/// The large-module section.
#[derive(Clone, Debug)]
pub struct LargeReport {
    /// Where the module came from (generated, or a file).
    pub source: String,
    pub module_bytes: usize,
    /// Bytes of function bodies and function count, when known (generated modules).
    pub code_bytes: Option<usize>,
    pub functions: Option<usize>,
    /// Whether time to first call was measured (an import-free `run(i32) -> i64`).
    pub callable: bool,
    /// The `n` passed to `run` and the result it must give (when known).
    pub run_n: i32,
    pub expected: Option<i64>,
    /// Compiles per engine.
    pub runs: usize,
    /// One entry per engine of [`Report::engines`].
    pub results: Vec<Result<Throughput, BenchError>>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn kib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

impl Report {
    /// Whether every cell (and every large-module measurement) succeeded.
    pub fn all_ok(&self) -> bool {
        self.rows
            .iter()
            .all(|r| r.results.iter().all(Result::is_ok))
            && self
                .large
                .as_ref()
                .is_none_or(|l| l.results.iter().all(Result::is_ok))
    }

    /// Every error, as `(workload, engine, error)`.
    pub fn errors(&self) -> Vec<(String, &'static str, &BenchError)> {
        let mut out = Vec::new();
        for row in &self.rows {
            for (engine, r) in self.engines.iter().zip(&row.results) {
                if let Err(e) = r {
                    out.push((row.workload.name.clone(), *engine, e));
                }
            }
        }
        if let Some(large) = &self.large {
            for (engine, r) in self.engines.iter().zip(&large.results) {
                if let Err(e) = r {
                    out.push(("large module".to_string(), *engine, e));
                }
            }
        }
        out
    }

    /// Median run time of engine `e` over the baseline's, when both succeeded.
    pub fn ratio(&self, row: &Row, e: usize) -> Option<f64> {
        let (Some(Ok(a)), Some(Ok(b))) = (row.results.get(e), row.results.get(self.baseline))
        else {
            return None;
        };
        let base = b.median().as_secs_f64();
        (base > 0.0).then(|| a.median().as_secs_f64() / base)
    }

    /// The geometric mean of engine `e`'s ratios over the workloads of `group` that have
    /// one, with how many had one and how many workloads the group has in this run.
    pub fn geomean(&self, group: Group, e: usize) -> (Option<f64>, usize, usize) {
        let rows: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| r.workload.group == group)
            .collect();
        let ratios: Vec<f64> = rows.iter().filter_map(|r| self.ratio(r, e)).collect();
        let mean = (!ratios.is_empty())
            .then(|| (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp());
        (mean, ratios.len(), rows.len())
    }

    fn groups(&self) -> Vec<Group> {
        Group::ALL
            .into_iter()
            .filter(|g| self.rows.iter().any(|r| r.workload.group == *g))
            .collect()
    }

    /// The text report.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let names = &self.engines;
        let col = names.iter().map(|n| n.len()).max().unwrap_or(0).max(10) + 2;
        // Wide enough for every workload name and the longest geomean label.
        let first = self
            .rows
            .iter()
            .map(|r| r.workload.name.len())
            .chain(Group::ALL.map(|g| format!("geomean {} (00)", g.label()).len()))
            .max()
            .unwrap_or(0);
        let header = |out: &mut String, title: &str, with_n: bool| {
            let _ = writeln!(out, "{title}");
            let _ = write!(out, "{:<first$}", "workload");
            if with_n {
                let _ = write!(out, " {:>10}", "n");
            }
            for name in names {
                let _ = write!(out, "{name:>col$}");
            }
            let _ = writeln!(out);
        };
        let n_width = 11;

        if !self.rows.is_empty() {
            // Median run times.
            header(
                &mut out,
                &format!(
                    "median run time, ms ({}; warm-up + {} timed runs; every result checked)",
                    self.size.label(),
                    self.runs
                ),
                true,
            );
            for row in &self.rows {
                let _ = write!(out, "{:<first$} {:>10}", row.workload.name, row.n);
                for r in &row.results {
                    let cell = match r {
                        Ok(m) => format!("{:.2}", ms(m.median())),
                        Err(e) => format!("ERROR {}", e.stage.label()),
                    };
                    let _ = write!(out, "{cell:>col$}");
                }
                let _ = writeln!(out);
            }

            // Ratios.
            let _ = writeln!(out);
            header(
                &mut out,
                &format!(
                    "run time / {} (median; below 1 is faster than {})",
                    names[self.baseline], names[self.baseline]
                ),
                false,
            );
            for row in &self.rows {
                let _ = write!(out, "{:<first$}", row.workload.name);
                for (e, r) in row.results.iter().enumerate() {
                    let cell = match (r, self.ratio(row, e)) {
                        (Err(err), _) => format!("ERROR {}", err.stage.label()),
                        (Ok(_), Some(x)) => format!("{x:.2}"),
                        (Ok(_), None) => "-".to_string(),
                    };
                    let _ = write!(out, "{cell:>col$}");
                }
                let _ = writeln!(out);
            }
            let _ = writeln!(out, "{}", "-".repeat(first + col * names.len()));
            for group in self.groups() {
                let total = self.geomean(group, 0).2;
                let _ = write!(
                    out,
                    "{:<first$}",
                    format!("geomean {} ({total})", group.label())
                );
                for e in 0..names.len() {
                    let (mean, counted, total) = self.geomean(group, e);
                    let cell = match mean {
                        Some(m) if counted == total => format!("{m:.2}"),
                        Some(m) => format!("{m:.2} ({counted}/{total})"),
                        None => "-".to_string(),
                    };
                    let _ = write!(out, "{cell:>col$}");
                }
                let _ = writeln!(out);
            }

            // Per-engine details.
            for (e, name) in names.iter().enumerate() {
                let _ = writeln!(out);
                let _ = writeln!(
                    out,
                    "{:<first$} {:>n_width$} {:>n_width$} {:>n_width$} {:>17} {:>14}",
                    format!("{name}:"),
                    "compile ms",
                    "inst ms",
                    "1st call ms",
                    "runs min-max ms",
                    "peak heap KiB"
                );
                for row in &self.rows {
                    let label = format!("  {}", row.workload.name);
                    let _ = write!(out, "{label:<first$}");
                    match &row.results[e] {
                        Ok(m) => {
                            let _ = writeln!(
                                out,
                                " {:>n_width$.3} {:>n_width$.3} {:>n_width$.2} {:>17} {:>14}",
                                ms(m.compile),
                                ms(m.instantiate),
                                ms(m.first_call),
                                format!("{:.2}-{:.2}", ms(m.min()), ms(m.max())),
                                m.peak_heap
                                    .map_or_else(|| "-".to_string(), |b| format!("{:.0}", kib(b)))
                            );
                        }
                        Err(err) => {
                            let _ = writeln!(out, " ERROR {}", err.stage.label());
                        }
                    }
                }
            }
        }

        if let Some(large) = &self.large {
            let _ = writeln!(out);
            let _ = writeln!(out, "{}", large.describe());
            let _ = writeln!(
                out,
                "{:<20} {:>12} {:>10} {:>22} {:>14}",
                "engine", "compile ms", "MB/s", "time to first call ms", "peak heap KiB"
            );
            for (name, r) in names.iter().zip(&large.results) {
                match r {
                    Ok(t) => {
                        let _ = writeln!(
                            out,
                            "{name:<20} {:>12.2} {:>10.1} {:>22} {:>14}",
                            ms(t.compile()),
                            t.mb_per_s(large.module_bytes),
                            t.first_call
                                .map_or_else(|| "-".to_string(), |(d, _)| format!("{:.2}", ms(d))),
                            t.peak_heap
                                .map_or_else(|| "-".to_string(), |b| format!("{:.0}", kib(b)))
                        );
                    }
                    Err(e) => {
                        let _ = writeln!(out, "{name:<20} ERROR {}", e.stage.label());
                    }
                }
            }
        }

        if !self.unavailable.is_empty() {
            let _ = writeln!(out);
            for (name, reason) in &self.unavailable {
                let _ = writeln!(out, "{name}: unavailable: {reason}");
            }
        }

        let errors = self.errors();
        if !errors.is_empty() {
            let _ = writeln!(out, "\nerrors ({}):", errors.len());
            for (workload, engine, e) in errors {
                let _ = writeln!(out, "  {workload} / {engine}: {e}");
            }
        }
        out
    }

    /// The JSON report (one object; times in milliseconds, heap in bytes).
    pub fn to_json(&self) -> Json {
        let measurement = |m: &Measurement| {
            vec![
                ("ok", Json::Bool(true)),
                ("compile_ms", Json::ms(m.compile)),
                ("instantiate_ms", Json::ms(m.instantiate)),
                ("first_call_ms", Json::ms(m.first_call)),
                ("median_ms", Json::ms(m.median())),
                ("min_ms", Json::ms(m.min())),
                ("max_ms", Json::ms(m.max())),
                (
                    "runs_ms",
                    Json::Arr(m.runs.iter().map(|d| Json::ms(*d)).collect()),
                ),
                (
                    "peak_heap_bytes",
                    m.peak_heap.map_or(Json::Null, |b| Json::Int(b as i64)),
                ),
            ]
        };
        let error = |e: &BenchError| {
            vec![
                ("ok", Json::Bool(false)),
                ("stage", Json::str(e.stage.label())),
                ("error", Json::str(&e.message)),
            ]
        };
        let mut results = Vec::new();
        for row in &self.rows {
            for (e, r) in row.results.iter().enumerate() {
                let mut fields = vec![
                    ("workload", Json::str(&row.workload.name)),
                    ("group", Json::str(row.workload.group.key())),
                    ("engine", Json::str(self.engines[e])),
                    ("n", Json::Int(i64::from(row.n))),
                    ("expected", Json::Int(row.expected)),
                ];
                match r {
                    Ok(m) => {
                        fields.extend(measurement(m));
                        fields.push(("ratio_to_baseline", Json::opt_num(self.ratio(row, e))));
                    }
                    Err(err) => fields.extend(error(err)),
                }
                results.push(Json::Obj(fields));
            }
        }
        let mut geomeans = Vec::new();
        for group in self.groups() {
            for (e, name) in self.engines.iter().enumerate() {
                let (mean, counted, total) = self.geomean(group, e);
                geomeans.push(Json::Obj(vec![
                    ("group", Json::str(group.key())),
                    ("engine", Json::str(*name)),
                    ("ratio", Json::opt_num(mean)),
                    ("counted", Json::Int(counted as i64)),
                    ("workloads", Json::Int(total as i64)),
                ]));
            }
        }
        let large = self.large.as_ref().map_or(Json::Null, |l| {
            let per_engine = self
                .engines
                .iter()
                .zip(&l.results)
                .map(|(name, r)| {
                    let mut fields = vec![("engine", Json::str(*name))];
                    match r {
                        Ok(t) => fields.extend([
                            ("ok", Json::Bool(true)),
                            ("compile_ms", Json::ms(t.compile())),
                            (
                                "compiles_ms",
                                Json::Arr(t.compiles.iter().map(|d| Json::ms(*d)).collect()),
                            ),
                            ("mb_per_s", Json::Num(t.mb_per_s(l.module_bytes))),
                            (
                                "time_to_first_call_ms",
                                t.first_call.map_or(Json::Null, |(d, _)| Json::ms(d)),
                            ),
                            (
                                "result",
                                t.first_call.map_or(Json::Null, |(_, r)| Json::Int(r)),
                            ),
                            (
                                "peak_heap_bytes",
                                t.peak_heap.map_or(Json::Null, |b| Json::Int(b as i64)),
                            ),
                        ]),
                        Err(e) => fields.extend(error(e)),
                    }
                    Json::Obj(fields)
                })
                .collect();
            Json::Obj(vec![
                ("source", Json::str(&l.source)),
                ("module_bytes", Json::Int(l.module_bytes as i64)),
                (
                    "code_bytes",
                    l.code_bytes.map_or(Json::Null, |b| Json::Int(b as i64)),
                ),
                (
                    "functions",
                    l.functions.map_or(Json::Null, |b| Json::Int(b as i64)),
                ),
                ("callable", Json::Bool(l.callable)),
                ("run_n", Json::Int(i64::from(l.run_n))),
                ("expected", l.expected.map_or(Json::Null, Json::Int)),
                ("compiles", Json::Int(l.runs as i64)),
                ("engines", Json::Arr(per_engine)),
            ])
        });
        Json::Obj(vec![
            ("size", Json::str(self.size.label())),
            ("runs", Json::Int(self.runs as i64)),
            ("baseline", Json::str(self.engines[self.baseline])),
            (
                "engines",
                Json::Arr(self.engines.iter().map(|n| Json::str(*n)).collect()),
            ),
            (
                "unavailable",
                Json::Arr(
                    self.unavailable
                        .iter()
                        .map(|(n, why)| {
                            Json::Obj(vec![("engine", Json::str(*n)), ("reason", Json::str(why))])
                        })
                        .collect(),
                ),
            ),
            ("results", Json::Arr(results)),
            ("geomeans", Json::Arr(geomeans)),
            ("large_module", large),
            ("ok", Json::Bool(self.all_ok())),
        ])
    }
}

impl LargeReport {
    /// One line saying what was measured.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "large module: {}, {:.2} MB",
            self.source,
            self.module_bytes as f64 / 1e6
        );
        if let (Some(code), Some(funcs)) = (self.code_bytes, self.functions) {
            let _ = write!(
                s,
                " ({:.2} MB of code in {funcs} functions)",
                code as f64 / 1e6
            );
        }
        let _ = write!(
            s,
            "; compile = median of {} in fresh engines after a warm-up compile",
            self.runs
        );
        if self.callable {
            let _ = write!(
                s,
                "; time to first call = compile + instantiate + run({})",
                self.run_n
            );
        } else {
            s.push_str("; compile only (the module has imports or no run(i32) -> i64)");
        }
        if let Some(expected) = self.expected {
            let _ = write!(s, " (expected {expected})");
        }
        s
    }
}
