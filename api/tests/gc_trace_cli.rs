//! `gloam gc-trace --break-on/--step` really stops and waits: the CLI runs under a
//! pseudo-terminal (util-linux `script`, or plain pipes where it is missing), and the test
//! checks that nothing after the paused event appears until it sends Enter.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn spawn(args: &[&str]) -> std::process::Child {
    let exe = env!("CARGO_BIN_EXE_gloam");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/gc.wat");
    let mut argv = vec![exe.to_string(), "gc-trace".into(), example.into()];
    argv.extend(args.iter().map(|s| s.to_string()));
    let have_script = Command::new("script").arg("--version").output().is_ok();
    let mut cmd = if have_script {
        let line = argv
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ");
        let mut c = Command::new("script");
        c.args(["-q", "-e", "-c", &line, "/dev/null"]);
        c
    } else {
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]);
        c
    };
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gloam")
}

fn collect_output(child: &mut std::process::Child) -> Arc<Mutex<String>> {
    let out = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = out.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    out
}

fn wait_for(out: &Arc<Mutex<String>>, needle: &str) -> String {
    let start = Instant::now();
    loop {
        let text = out.lock().unwrap().clone();
        if text.contains(needle) {
            return text;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for `{needle}`:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn break_on_free_pauses_until_enter() {
    let mut child = spawn(&["--invoke", "run", "--break-on", "free"]);
    let out = collect_output(&mut child);
    let text = wait_for(&out, "paused after free");
    assert!(text.contains("free        #2"), "{text}");
    // Paused: the end of the collection must not appear while we wait.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !out.lock().unwrap().contains("gc-end"),
        "did not pause:\n{}",
        out.lock().unwrap()
    );
    child.stdin.as_mut().unwrap().write_all(b"\n").unwrap();
    let text = wait_for(&out, "result: 41");
    assert!(text.contains("gc-end      freed 1, live 2"), "{text}");
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

#[test]
fn step_pauses_after_every_event() {
    let mut child = spawn(&["--invoke", "run", "--step", "--why", "1"]);
    let out = collect_output(&mut child);
    let stdin = child.stdin.as_mut().unwrap();
    wait_for(&out, "[    1] scope-enter");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !out.lock().unwrap().contains("[    2]"),
        "second event before Enter"
    );
    stdin.write_all(b"\n").unwrap();
    wait_for(&out, "[    2] alloc       #1");
    // Keep pressing Enter until the run ends.
    for _ in 0..200 {
        if out.lock().unwrap().contains("result: 41") {
            break;
        }
        let _ = stdin.write_all(b"\n");
        std::thread::sleep(Duration::from_millis(10));
    }
    let text = wait_for(&out, "result: 41");
    assert!(
        text.contains("why #1: alive: wasm frame of func 4"),
        "{text}"
    );
    assert!(text.contains("why #1 after the run: unreachable"), "{text}");
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

#[test]
fn json_lines_and_bad_options() {
    let exe = env!("CARGO_BIN_EXE_gloam");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/gc.wat");
    let out = Command::new(exe)
        .args(["gc-trace", example, "--invoke", "run", "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with(r#"{"seq":"#) && l.contains(r#""event":"free","object":2"#)),
        "{text}"
    );
    let bad = Command::new(exe)
        .args([
            "gc-trace",
            example,
            "--invoke",
            "run",
            "--break-on",
            "everything",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--break-on"));
}
