//! `gloam run --fuel / --timeout / --max-memory`: running out is a clear message on stderr
//! and a non-zero exit status; within the limits the program runs normally.

use std::process::Command;

const SPIN: &str = r#"(module
  (func (export "spin") (loop br 0))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#;

const BIG: &str = r#"(module (memory 4) (func (export "size") (result i32) memory.size))"#;

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gloam-limits-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn gloam(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gloam"))
        .args(args)
        .output()
        .expect("run gloam");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn fuel_runs_out_with_a_clear_message() {
    let spin = write("spin.wat", SPIN);
    let spin = spin.to_str().unwrap();
    let (code, _, err) = gloam(&["run", spin, "--fuel", "1000", "--invoke", "spin"]);
    assert_ne!(code, 0);
    assert!(err.contains("ran out of fuel (--fuel 1000)"), "{err}");
    assert!(err.contains("all fuel consumed"), "{err}");
    // Enough fuel: runs and prints the result.
    let (code, out, err) = gloam(&["run", spin, "--fuel", "10", "--invoke", "add", "2", "3"]);
    assert_eq!((code, out.trim()), (0, "5"), "{err}");
    let (code, _, err) = gloam(&["run", spin, "--fuel", "lots", "--invoke", "add", "2", "3"]);
    assert_ne!(code, 0);
    assert!(err.contains("bad --fuel"), "{err}");
}

#[test]
fn timeout_interrupts_a_running_loop() {
    let spin = write("spin2.wat", SPIN);
    let spin = spin.to_str().unwrap();
    let start = std::time::Instant::now();
    let (code, _, err) = gloam(&["run", spin, "--timeout", "200ms", "--invoke", "spin"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("ran past its time limit (--timeout 200ms)"),
        "{err}"
    );
    assert!(err.contains("interrupt"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
    let (code, out, err) = gloam(&["run", spin, "--timeout", "10s", "--invoke", "add", "1", "1"]);
    assert_eq!((code, out.trim()), (0, "2"), "{err}");
    let (code, _, err) = gloam(&["run", spin, "--timeout", "5 parsecs", "--invoke", "spin"]);
    assert_ne!(code, 0);
    assert!(err.contains("bad duration"), "{err}");
}

#[test]
fn max_memory_bounds_the_program() {
    let big = write("big.wat", BIG);
    let big = big.to_str().unwrap();
    let (code, _, err) = gloam(&["run", big, "--max-memory", "64K", "--invoke", "size"]);
    assert_ne!(code, 0);
    assert!(err.contains("more memory than --max-memory 65536"), "{err}");
    let (code, out, err) = gloam(&["run", big, "--max-memory", "1M", "--invoke", "size"]);
    assert_eq!((code, out.trim()), (0, "4"), "{err}");
}
