//! The small subset of TOML that `workloads.toml` is written in.

use anyhow::{Context, Result, anyhow, bail};
use std::collections::BTreeMap;

/// A value: a basic string, a decimal integer or an array of basic strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
    StrList(Vec<String>),
}

pub type Table = BTreeMap<String, Value>;

/// Parses `text` into its `[[workload]]` tables, each with the line of its header:
/// comments, `[[workload]]` headers, and one-line `key = value` pairs whose value is a
/// basic string, a decimal integer or an array of basic strings. Anything else is an
/// error, not a guess.
pub fn parse_tables(text: &str) -> Result<Vec<(usize, Table)>> {
    let mut tables: Vec<(usize, Table)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let lineno = index + 1;
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            let header: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            if header != "[[workload]]" {
                bail!("line {lineno}: unsupported table header `{line}`");
            }
            tables.push((lineno, Table::new()));
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| anyhow!("line {lineno}: expected `key = value`"))?;
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            bail!("line {lineno}: unsupported key `{key}`");
        }
        let value = parse_value(value.trim()).with_context(|| format!("line {lineno}"))?;
        let (_, table) = tables
            .last_mut()
            .ok_or_else(|| anyhow!("line {lineno}: `{key}` outside a [[workload]] table"))?;
        if table.insert(key.to_string(), value).is_some() {
            bail!("line {lineno}: duplicate key `{key}`");
        }
    }
    Ok(tables)
}

/// The line up to a `#` that is not inside a string.
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '#' {
            return &line[..i];
        }
    }
    line
}

fn parse_value(s: &str) -> Result<Value> {
    if s.starts_with('"') {
        let (string, rest) = parse_string(s)?;
        if !rest.trim().is_empty() {
            bail!("unexpected `{}` after a string", rest.trim());
        }
        Ok(Value::Str(string))
    } else if let Some(mut rest) = s.strip_prefix('[') {
        let mut items = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix(']') {
                if !after.trim().is_empty() {
                    bail!("unexpected `{}` after an array", after.trim());
                }
                return Ok(Value::StrList(items));
            }
            if rest.is_empty() {
                bail!("unterminated array (arrays must fit on one line)");
            }
            let (item, after) = parse_string(rest)?;
            items.push(item);
            rest = after.trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if !rest.starts_with(']') {
                bail!("expected `,` or `]` in an array");
            }
        }
    } else {
        parse_int(s).map(Value::Int)
    }
}

/// Parses a basic string at the start of `s`; returns it and the rest of `s`.
fn parse_string(s: &str) -> Result<(String, &str)> {
    let body = s
        .strip_prefix('"')
        .ok_or_else(|| anyhow!("expected a string, found `{s}`"))?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &body[i + 1..])),
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                other => bail!("unsupported escape `\\{}`", other.map_or(' ', |(_, c)| c)),
            },
            c => out.push(c),
        }
    }
    bail!("unterminated string")
}

fn parse_int(s: &str) -> Result<i64> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        bail!("unsupported value `{s}` (expected a string, an integer or an array of strings)");
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    // Parse with the sign attached so that i64::MIN is accepted.
    let signed = if negative {
        format!("-{digits}")
    } else {
        digits
    };
    signed
        .parse::<i64>()
        .map_err(|e| anyhow!("integer `{s}`: {e}"))
}
