//! The WebAssembly spec suite (core 2.0, and Wasm 3.0 as far as it is built) in
//! interpreter, JIT and tiered mode.
//!
//! Every `.wast` file of `shared/spec-testsuite/core-2.0` runs through `gloam::wast`. A
//! file fails if any of its directives fails. `tests/known-failures/{interp,jit}.txt` list the
//! files allowed to fail, one `file.wast: reason` per line (`interp-3.0.txt` for the
//! Wasm 3.0 suite). The test fails when a file off
//! the list fails, and when a listed file passes (so the list can only shrink).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

fn suite_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec-testsuite")
}

/// The `.wast` files directly in `dir`, by name.
fn wast_files(dir: &Path) -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wast"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().to_string(), p))
        .collect()
}

/// The core 2.0 suite, by file name.
fn core_2_0() -> BTreeMap<String, PathBuf> {
    let files = wast_files(&suite_root().join("core-2.0"));
    assert!(
        files.len() > 100,
        "spec suite looks incomplete: {} files",
        files.len()
    );
    files
}

/// The Wasm 3.0 suite as the suite's README defines it: the core 2.0 files overlaid with
/// `proposals/wasm-3.0` (a file there replaces the 2.0 one of the same name; files in
/// its subfolders are named `folder/file.wast`).
fn wasm_3_0() -> BTreeMap<String, PathBuf> {
    let dir = suite_root().join("proposals/wasm-3.0");
    let mut files = core_2_0();
    files.extend(wast_files(&dir));
    for entry in std::fs::read_dir(&dir).unwrap() {
        let sub = entry.unwrap().path();
        if sub.is_dir() {
            let folder = sub.file_name().unwrap().to_string_lossy().to_string();
            for (name, path) in wast_files(&sub) {
                files.insert(format!("{folder}/{name}"), path);
            }
        }
    }
    files
}

fn known_failures(mode: &str) -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("known-failures/{mode}.txt"));
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (file, reason) = l.split_once(':').unwrap_or((l, ""));
            assert!(
                !reason.trim().is_empty(),
                "{}: `{file}` has no reason",
                path.display()
            );
            (file.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

#[test]
fn spec_core_2_0_interp() {
    run_suite(&gloam::Config::new(), "interp");
}

/// The same suite with a collection at every call: stack maps and roots must be right.
/// Uses the interpreter's known-failure list.
#[test]
fn spec_core_2_0_interp_gc_stress() {
    let mut config = gloam::Config::new();
    config.gc_stress(true);
    run_suite(&config, "interp");
}

/// Every function compiled to native code before its first call. Functions the backend cannot compile
/// stay interpreted, so the list is `jit.txt`, which should stay empty.
#[test]
fn spec_core_2_0_jit() {
    if !jit_or_skip() {
        return;
    }
    let mut config = gloam::Config::new();
    config.jit_threshold(Some(0));
    run_suite(&config, "jit");
}

/// Tiering: functions compile after two calls, so interpreted and native activations of
/// the same function mix on the stack (a return into an interpreted activation of a
/// compiled function resumes it natively).
#[test]
fn spec_core_2_0_tiered() {
    if !jit_or_skip() {
        return;
    }
    let mut config = gloam::Config::new();
    config.jit_threshold(Some(2));
    run_suite(&config, "jit");
}

/// The JIT with a collection at every call: native frames must be walked like
/// interpreted ones.
#[test]
fn spec_core_2_0_jit_gc_stress() {
    if !jit_or_skip() {
        return;
    }
    let mut config = gloam::Config::new();
    config.jit_threshold(Some(0)).gc_stress(true);
    run_suite(&config, "jit");
}

/// Whether this build has a JIT; the JIT-mode runs would only repeat the interpreter's
/// elsewhere (e.g. under qemu in `.ci/cross`), so they are skipped there.
fn jit_or_skip() -> bool {
    let ok = gloam::Config::jit_available();
    if !ok {
        println!("no JIT in this build: skipped");
    }
    ok
}

/// The same suite with fuel and epoch checks compiled in (and never running out): the
/// instrumented translation must compute the same. Uses the interpreter's list.
#[test]
fn spec_core_2_0_interp_fuel_and_epochs() {
    let mut config = gloam::Config::new();
    config.consume_fuel(true).epoch_interruption(true);
    run_suite(&config, "interp");
}

/// Wasm 3.0 in the interpreter. `known-failures/interp-3.0.txt` names the files of the
/// proposals not built yet.
#[test]
fn spec_wasm_3_0_interp() {
    run_files(&gloam::Config::new(), wasm_3_0(), "interp-3.0", "wasm-3.0");
}

/// Wasm 3.0 with every function compiled before its first call (functions using
/// instructions the JIT does not compile, tail calls for one, stay interpreted).
#[test]
fn spec_wasm_3_0_jit() {
    if !jit_or_skip() {
        return;
    }
    let mut config = gloam::Config::new();
    config.jit_threshold(Some(0));
    run_files(&config, wasm_3_0(), "interp-3.0", "wasm-3.0");
}

/// The JIT twin of [`spec_core_2_0_interp_fuel_and_epochs`]: every function compiled
/// before its first call, with the fuel and epoch checks in native code. A function the
/// JIT cannot compile runs interpreted, so the list is `jit.txt`, which should stay empty.
#[test]
fn spec_core_2_0_jit_fuel_and_epochs() {
    if !jit_or_skip() {
        return;
    }
    let mut config = gloam::Config::new();
    config
        .jit_threshold(Some(0))
        .consume_fuel(true)
        .epoch_interruption(true);
    run_suite(&config, "jit");
}

/// What makes [`spec_core_2_0_jit_fuel_and_epochs`] test native checks: a function the
/// JIT cannot compile would pass it interpreted. For every module of the suite, the JIT
/// must compile the same functions (and refuse the others, e.g. SIMD ones, for the same
/// reason) with fuel and epoch checks compiled in as without them.
#[test]
fn spec_modules_compile_alike_with_fuel_and_epochs() {
    if !jit_or_skip() {
        return;
    }
    let engine = |limits: bool| {
        let mut config = gloam::Config::new();
        config
            .jit_threshold(Some(0))
            .consume_fuel(limits)
            .epoch_interruption(limits);
        gloam::Engine::new(&config).unwrap()
    };
    let (plain, limited) = (engine(false), engine(true));
    let (mut modules, mut native, mut skipped) = (0, 0, 0);
    let files: Vec<PathBuf> = core_2_0().into_values().collect();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // Files the `wast` crate cannot parse whole (the runner parses them form by
        // form) are left out; the count below checks that most are in.
        let Ok(buf) = wast::parser::ParseBuffer::new(&text) else {
            skipped += 1;
            continue;
        };
        let Ok(script) = wast::parser::parse::<wast::Wast<'_>>(&buf) else {
            skipped += 1;
            continue;
        };
        for directive in script.directives {
            let (wast::WastDirective::Module(mut m) | wast::WastDirective::ModuleDefinition(mut m)) =
                directive
            else {
                continue;
            };
            let Ok(bytes) = m.encode() else { continue };
            let (Ok(a), Ok(b)) = (
                gloam::Module::new(&plain, &bytes),
                gloam::Module::new(&limited, &bytes),
            ) else {
                continue;
            };
            let (a, b) = (a.jit_compile_all().unwrap(), b.jit_compile_all().unwrap());
            assert_eq!(a.len(), b.len());
            for (a, b) in a.iter().zip(&b) {
                assert_eq!(
                    a.result.as_ref().err(),
                    b.result.as_ref().err(),
                    "{}: function {}",
                    file.display(),
                    a.func_index
                );
                native += b.result.is_ok() as usize;
            }
            modules += 1;
        }
    }
    println!(
        "{modules} modules, {native} functions native with fuel and epochs; \
         {skipped} of {} files not parsed whole",
        files.len()
    );
    assert!(
        modules > 1000 && native > 3000 && skipped * 10 < files.len(),
        "{modules} modules, {native} native, {skipped} files skipped"
    );
}

/// The core 2.0 suite runs with 2.0's validation rules where 3.0 changed them: typed
/// function references (3.0 accepts `global.get` of any earlier immutable global in
/// constant expressions, which 2.0 tests refuse).
fn run_suite(config: &gloam::Config, list: &str) {
    let mut config = config.clone();
    config.wasm_function_references(false);
    run_files(&config, core_2_0(), list, "core-2.0");
}

fn run_files(config: &gloam::Config, files: BTreeMap<String, PathBuf>, list: &str, suite: &str) {
    let files: Vec<(String, PathBuf)> = files.into_iter().collect();

    let results = Mutex::new(Vec::new());
    let next = Mutex::new(0usize);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        *n += 1;
                        *n - 1
                    };
                    let Some((name, file)) = files.get(i) else {
                        break;
                    };
                    let outcome = gloam::wast::run_wast_file(file, config);
                    results.lock().unwrap().push((name.clone(), outcome));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));

    let known = known_failures(list);
    let (mut passed, mut failed) = (0, 0);
    let mut unexpected = Vec::new();
    let mut failing = Vec::new();
    for (name, outcome) in &results {
        let (p, f, first) = match outcome {
            Ok(stats) => (stats.passed, stats.failed, stats.failures.first().cloned()),
            Err(e) => (0, 1, Some(format!("{e:#}"))),
        };
        passed += p;
        failed += f;
        if f > 0 {
            failing.push(name.clone());
            if !known.contains_key(name) {
                unexpected.push(format!(
                    "{name}: {f} failed, first: {}",
                    first.unwrap_or_default()
                ));
            }
        }
    }
    let fixed: Vec<_> = known
        .keys()
        .filter(|k| !failing.contains(k))
        .cloned()
        .collect();
    println!("spec {suite} ({list}): {passed} passed, {failed} failed");
    assert!(
        unexpected.is_empty(),
        "unexpected failures:\n{}",
        unexpected.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "these files pass now; remove them from tests/known-failures/{list}.txt:\n{}",
        fixed.join("\n")
    );
}
