//! Workloads: the `[[workload]]` tables of `shared/bench/workloads.toml` and of
//! `benches/workloads/workloads.toml`.

use crate::toml::{Table, Value, parse_tables};
use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};

/// `workloads.toml` in the shared benchmark directory.
pub const WORKLOADS_TOML: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/bench/workloads.toml"
);

/// gloam's own workloads (same format); their files are relative to this file's directory.
pub const LOCAL_WORKLOADS_TOML: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/workloads.toml");

/// The directory that holds `workloads.toml`; shared workload files are relative to it.
pub fn bench_dir() -> PathBuf {
    Path::new(WORKLOADS_TOML)
        .parent()
        .expect("WORKLOADS_TOML has a parent directory")
        .to_path_buf()
}

/// A parameter type of a workload's export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// Receives `n`.
    I32,
    /// Receives a non-null host reference.
    ExternRef,
}

/// The export signatures the harness can call (results are always `i64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signature {
    /// `run(n: i32) -> i64`
    I32,
    /// `run(r: externref, n: i32) -> i64`
    ExternRefI32,
}

/// Which geomean row a workload's ratio counts towards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// A compiled C kernel of the shared set (`.wasm` file).
    CKernel,
    /// A hand-written WAT micro benchmark of the shared set.
    WatMicro,
    /// One of gloam's own workloads in `benches/workloads/` (the SIMD pair).
    Extra,
}

impl Group {
    pub const ALL: [Group; 3] = [Group::CKernel, Group::WatMicro, Group::Extra];

    pub fn label(self) -> &'static str {
        match self {
            Group::CKernel => "C kernels",
            Group::WatMicro => "WAT micros",
            Group::Extra => "extras (benches/workloads)",
        }
    }

    /// The name used in JSON output.
    pub fn key(self) -> &'static str {
        match self {
            Group::CKernel => "c_kernels",
            Group::WatMicro => "wat_micros",
            Group::Extra => "extras",
        }
    }
}

/// Problem size: `n_quick` or the full `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Quick,
    Full,
}

impl Size {
    pub fn label(self) -> &'static str {
        match self {
            Size::Quick => "n_quick",
            Size::Full => "n",
        }
    }
}

/// One `[[workload]]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    pub name: String,
    /// Relative to [`bench_dir`] for the shared set; absolute for the local ones.
    pub file: String,
    pub export: String,
    pub params: Vec<Param>,
    pub n: i32,
    pub checksum: i64,
    pub n_quick: i32,
    pub checksum_quick: i64,
    pub group: Group,
}

impl Workload {
    pub fn path(&self) -> PathBuf {
        bench_dir().join(&self.file)
    }

    pub fn signature(&self) -> Result<Signature> {
        match self.params.as_slice() {
            [Param::I32] => Ok(Signature::I32),
            [Param::ExternRef, Param::I32] => Ok(Signature::ExternRefI32),
            other => bail!(
                "workload `{}`: unsupported parameter list {other:?}",
                self.name
            ),
        }
    }

    pub fn n_for(&self, size: Size) -> i32 {
        match size {
            Size::Quick => self.n_quick,
            Size::Full => self.n,
        }
    }

    pub fn checksum_for(&self, size: Size) -> i64 {
        match size {
            Size::Quick => self.checksum_quick,
            Size::Full => self.checksum,
        }
    }

    /// The module in the binary format (`.wat` files are converted with the `wat` crate).
    pub fn wasm_bytes(&self) -> Result<Vec<u8>> {
        let path = self.path();
        if self.file.ends_with(".wat") {
            wat::parse_file(&path).with_context(|| format!("converting {}", path.display()))
        } else {
            std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
        }
    }
}

/// Reads and parses [`WORKLOADS_TOML`], then [`LOCAL_WORKLOADS_TOML`] (whose file paths
/// become absolute and whose workloads form the [`Group::Extra`] group).
pub fn load_workloads() -> Result<Vec<Workload>> {
    let text = std::fs::read_to_string(WORKLOADS_TOML)
        .with_context(|| format!("reading {WORKLOADS_TOML}"))?;
    let mut all =
        parse_workloads(&text, false).with_context(|| format!("parsing {WORKLOADS_TOML}"))?;
    let local = std::fs::read_to_string(LOCAL_WORKLOADS_TOML)
        .with_context(|| format!("reading {LOCAL_WORKLOADS_TOML}"))?;
    let dir = Path::new(LOCAL_WORKLOADS_TOML)
        .parent()
        .expect("has a parent");
    for mut w in
        parse_workloads(&local, true).with_context(|| format!("parsing {LOCAL_WORKLOADS_TOML}"))?
    {
        w.file = dir.join(&w.file).to_string_lossy().into_owned();
        all.push(w);
    }
    Ok(all)
}

/// Parses a `workloads.toml`. The shared set's `.wasm` files are C kernels and its `.wat`
/// files WAT micros; every workload of a `local` file is an extra.
pub fn parse_workloads(text: &str, local: bool) -> Result<Vec<Workload>> {
    parse_tables(text)?
        .into_iter()
        .map(|(lineno, table)| {
            workload_from_table(table, local)
                .with_context(|| format!("in the [[workload]] table at line {lineno}"))
        })
        .collect()
}

fn workload_from_table(mut t: Table, local: bool) -> Result<Workload> {
    fn take(t: &mut Table, key: &str) -> Result<Value> {
        t.remove(key)
            .ok_or_else(|| anyhow!("missing required key `{key}`"))
    }
    fn string(t: &mut Table, key: &str) -> Result<String> {
        match take(t, key)? {
            Value::Str(s) => Ok(s),
            other => bail!("`{key}` must be a string, found {other:?}"),
        }
    }
    fn int(t: &mut Table, key: &str) -> Result<i64> {
        match take(t, key)? {
            Value::Int(i) => Ok(i),
            other => bail!("`{key}` must be an integer, found {other:?}"),
        }
    }
    fn size(t: &mut Table, key: &str) -> Result<i32> {
        let v = int(t, key)?;
        i32::try_from(v).map_err(|_| anyhow!("`{key}` = {v} does not fit an i32 parameter"))
    }

    let name = string(&mut t, "name")?;
    let file = string(&mut t, "file")?;
    if !(file.ends_with(".wasm") || file.ends_with(".wat")) {
        bail!("`file` = {file:?} must end in .wasm or .wat");
    }
    let export = string(&mut t, "export")?;
    let params = match take(&mut t, "params")? {
        Value::StrList(list) => list
            .iter()
            .map(|p| match p.as_str() {
                "i32" => Ok(Param::I32),
                "externref" => Ok(Param::ExternRef),
                other => bail!("unsupported parameter type {other:?}"),
            })
            .collect::<Result<Vec<_>>>()?,
        other => bail!("`params` must be an array of strings, found {other:?}"),
    };
    // The harness reads every result as an i64; refuse anything else rather than
    // misreading it.
    if let Some(result) = t.remove("result")
        && result != Value::Str("i64".into())
    {
        bail!("workload `{name}`: unsupported result type {result:?}");
    }
    let workload = Workload {
        n: size(&mut t, "n")?,
        checksum: int(&mut t, "checksum")?,
        n_quick: size(&mut t, "n_quick")?,
        checksum_quick: int(&mut t, "checksum_quick")?,
        group: if local {
            Group::Extra
        } else if file.ends_with(".wasm") {
            Group::CKernel
        } else {
            Group::WatMicro
        },
        name,
        file,
        export,
        params,
    };
    workload.signature()?;
    // Other keys (`source`, `stresses`) are documentation only.
    Ok(workload)
}
