//! WASI preview 1: the C programs in `tests/wasi/` (built by `tests/wasi/build.sh`) run
//! through the `gloam` CLI and through the embedding API; outputs, files and exit codes
//! are checked. Outputs that are the same on every run are compared with
//! `tests/wasi/expected/*.txt`; `BLESS=1 cargo test` rewrites those files.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/wasi")
}

fn wasm(name: &str) -> PathBuf {
    root().join("wasm").join(format!("{name}.wasm"))
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("gloam-wasi-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        // Canonical, so paths compare equal to what the runtime reports.
        Scratch(std::fs::canonicalize(&p).unwrap())
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn gloam(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gloam"));
    c.arg("run").args(args).env_remove("GLOAM_WASI_TRACE");
    c
}

fn run(args: &[&str]) -> Output {
    gloam(args).stdin(Stdio::null()).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn status(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Compares `actual` with `tests/wasi/expected/NAME.txt` (or rewrites it with BLESS=1).
fn expect(name: &str, actual: &str) {
    let path = root().join("expected").join(format!("{name}.txt"));
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with BLESS=1 to create it)", path.display()));
    assert_eq!(
        actual,
        want,
        "output differs from {} (BLESS=1 rewrites it)",
        path.display()
    );
}

#[test]
fn args_env_and_exit_status() {
    let file = wasm("args_env");
    let out = run(&[
        file.to_str().unwrap(),
        "--env",
        "GREETING=hello world",
        "--env",
        "EXIT_CODE=7",
        "--",
        "one",
        "two words",
        "--dir",
        "",
    ]);
    assert_eq!(status(&out), 7, "{out:?}");
    assert_eq!(
        stdout(&out),
        "argc=5\nargv[1]=one\nargv[2]=two words\nargv[3]=--dir\nargv[4]=\n\
         env EXIT_CODE=7\nenv GREETING=hello world\n"
    );
    // Arguments that are not gloam options need no `--`; the host environment does
    // not leak in.
    let out = gloam(&[file.to_str().unwrap(), "a", "b"])
        .env("SECRET_HOST_VAR", "x")
        .output()
        .unwrap();
    assert_eq!(status(&out), 0);
    assert_eq!(stdout(&out), "argc=3\nargv[1]=a\nargv[2]=b\n");
}

#[test]
fn proc_exit_unwinds_and_sets_the_status() {
    let file = wasm("exit");
    let f = file.to_str().unwrap();
    for (code, expected) in [("0", 0), ("3", 3), ("125", 125)] {
        let out = run(&[f, code]);
        assert_eq!(status(&out), expected);
        assert_eq!(
            stdout(&out),
            format!("exiting with {code}\natexit handler ran\n")
        );
    }
    let out = run(&[f, "42", "direct"]);
    assert_eq!(status(&out), 42);
    assert_eq!(stdout(&out), "exiting with 42 (direct)\n");
    // A status above 255 shows as its low byte, as exit(2) on Unix does.
    let out = run(&[f, "300", "direct"]);
    assert_eq!(status(&out), 300 & 0xff);
}

#[test]
fn copy_a_file_inside_a_preopen() {
    let s = Scratch::new("copy");
    let data: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(s.path("src.bin"), &data).unwrap();
    let dir = format!("{}::/data", s.0.display());
    let out = run(&[
        "--dir",
        &dir,
        wasm("copy").to_str().unwrap(),
        "/data/src.bin",
        "/data/dst.bin",
    ]);
    assert_eq!(status(&out), 0, "{out:?}");
    assert_eq!(
        stdout(&out),
        "copied 100000 bytes, /data/dst.bin is 100000 bytes\n"
    );
    assert_eq!(std::fs::read(s.path("dst.bin")).unwrap(), data);
    // Outside any preopen, nothing can be opened.
    let out = run(&[wasm("copy").to_str().unwrap(), "/data/src.bin", "/data/x"]);
    assert_eq!(status(&out), 1);
    assert!(!s.path("x").exists());
}

#[test]
fn directory_listing() {
    let s = Scratch::new("listdir");
    std::fs::create_dir_all(s.path("a/b")).unwrap();
    std::fs::write(s.path("a/f"), "hi").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("f", s.path("a/l")).unwrap();
    let dir = format!("{}::.", s.0.display());
    let out = run(&["--dir", &dir, wasm("listdir").to_str().unwrap(), "a"]);
    assert_eq!(status(&out), 0, "{out:?}");
    let mut want = ". dir\n.. dir\nb dir\nf file\n".to_string();
    if cfg!(unix) {
        want.push_str("l link\n");
    }
    assert_eq!(stdout(&out), want);
    // Many entries: readdir needs several fd_readdir calls and cookies.
    let out = run(&[
        "--dir",
        &dir,
        wasm("listdir").to_str().unwrap(),
        "--many",
        "m",
        "300",
    ]);
    assert_eq!(
        stdout(&out),
        "created 300, listed 300 entries (+2 dot entries)\n"
    );
    assert_eq!(std::fs::read_dir(s.path("m")).unwrap().count(), 300);
}

#[test]
fn filesystem_calls_and_errnos() {
    let s = Scratch::new("fsops");
    let dir = format!("{}::.", s.0.display());
    let out = run(&["--dir", &dir, wasm("fsops").to_str().unwrap()]);
    assert_eq!(status(&out), 0, "{out:?}");
    expect("fsops", &stdout(&out));
    // The program cleans up after itself.
    assert_eq!(std::fs::read_dir(&s.0).unwrap().count(), 0);
}

#[test]
fn clocks_and_randomness() {
    let out = run(&[wasm("clock_random").to_str().unwrap()]);
    assert_eq!(status(&out), 0, "{out:?}");
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 11, "{text}");
    for line in text.lines() {
        assert!(
            line.ends_with(": yes") || line == "unknown clock id: errno 28",
            "{line}"
        );
    }
}

/// The sandbox boundary: `..`, absolute paths and symbolic links out of the preopen are
/// refused with `EPERM` (as wasmtime does), a final link opened without following is
/// `ELOOP`, a directory descriptor whose directory was moved and replaced by a link out
/// stops working (`ENOENT`), and nothing outside is read, listed, created, changed or
/// removed.
#[cfg(unix)]
#[test]
fn escapes_from_the_preopen_are_refused() {
    use std::os::unix::fs::symlink;
    let s = Scratch::new("escape");
    std::fs::create_dir_all(s.path("box/sub")).unwrap();
    std::fs::write(s.path("outside.txt"), "secret\n").unwrap();
    std::fs::write(s.path("box/inside.txt"), "inside\n").unwrap();
    symlink("../outside.txt", s.path("box/link_out")).unwrap();
    symlink(s.path("outside.txt"), s.path("box/link_abs")).unwrap();
    symlink("..", s.path("box/dir_out")).unwrap();
    let dir = format!("{}::.", s.path("box").display());
    let out = run(&["--dir", &dir, wasm("escape").to_str().unwrap()]);
    assert_eq!(status(&out), 0, "{out:?}");
    let text = stdout(&out);
    assert!(!text.contains("secret"), "outside content leaked:\n{text}");
    assert!(
        !text.contains("LISTED"),
        "outside directory listed:\n{text}"
    );
    expect("escape", &text);
    // Nothing outside the box changed.
    let mut names: Vec<String> = std::fs::read_dir(&s.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["box", "outside.txt"]);
    assert_eq!(
        std::fs::read_to_string(s.path("outside.txt")).unwrap(),
        "secret\n"
    );
    // Inside, the relative links the guest made are there (as links, never followed).
    assert_eq!(
        std::fs::read_link(s.path("box/rel_out")).unwrap(),
        Path::new("../outside.txt")
    );
    assert!(!s.path("box/abs2").exists());
    assert!(!s.path("box/hard.txt").exists());
}

#[test]
fn hostile_pointers_are_efault_not_crashes() {
    let s = Scratch::new("badptr");
    let dir = format!("{}::.", s.0.display());
    let out = run(&["--dir", &dir, wasm("badptr").to_str().unwrap()]);
    assert_eq!(status(&out), 0, "{out:?}");
    expect("badptr", &stdout(&out));
}

#[test]
fn stdin_is_read_to_the_end() {
    let mut child = gloam(&[wasm("stdin").to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(b"hello\nworld\nno newline").unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "HELLO\nWORLD\nNO NEWLINEbytes=22 lines=2\n");
}

#[test]
fn poll_oneoff_waits_on_stdin_with_a_timeout() {
    let mut child = gloam(&[wasm("stdin").to_str().unwrap(), "poll"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut output = child.stdout.take().unwrap();
    // Nothing written yet: the 100 ms poll times out (the program flushes that line).
    let mut first = [0u8; 20];
    output.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"first poll: timeout\n");
    input.write_all(b"typed late\n").unwrap();
    input.write_all(&vec![b'a'; 3_000_000]).unwrap();
    drop(input);
    let mut rest = String::new();
    output.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        rest,
        "second poll: ready\nline: typed late\nthen 3000000 more bytes\n"
    );
}

#[test]
fn library_modules_still_run_with_invoke() {
    let fib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fib.wat");
    let out = run(&[fib.to_str().unwrap(), "--invoke", "fib", "20"]);
    assert_eq!(status(&out), 0, "{out:?}");
    assert_eq!(stdout(&out), "6765\n");
    let hello = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hello.wat");
    let out = run(&[hello.to_str().unwrap()]);
    assert_eq!(status(&out), 0, "{out:?}");
}

/// A library-style ("reactor") WASI module: `--invoke` runs `_initialize` first, the
/// function's WASI calls work, and its result is printed.
#[test]
fn invoke_a_reactor_function() {
    let s = Scratch::new("reactor");
    let wat = s.path("reactor.wat");
    std::fs::write(
        &wat,
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write"
              (func $fd_write (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "ready\n")
            (global $n (mut i32) (i32.const 0))
            (func (export "_initialize") (global.set $n (i32.const 40)))
            (func (export "greet") (param i32) (result i32)
              (i32.store (i32.const 0) (i32.const 16))
              (i32.store (i32.const 4) (i32.const 6))
              (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
              (i32.add (global.get $n) (local.get 0))))"#,
    )
    .unwrap();
    let out = run(&[wat.to_str().unwrap(), "--invoke", "greet", "2"]);
    assert_eq!(status(&out), 0, "{out:?}");
    assert_eq!(stdout(&out), "ready\n42\n");
}

// ---- the embedding API ----

mod api {
    use super::*;
    use gloam::wasi::{
        DirPerms, Errno, FilePerms, I32Exit, MemoryInputPipe, MemoryOutputPipe, WasiCtx,
        WasiCtxBuilder,
    };
    use gloam::{Engine, Linker, Module, Store};

    struct State {
        wasi: WasiCtx,
    }

    /// Runs `_start` of `module` with `wasi`; the exit status, as the CLI would give it.
    fn run_start(engine: &Engine, module: &Module, wasi: WasiCtx) -> anyhow::Result<i32> {
        let mut linker = Linker::new(engine);
        linker.add_wasi(|s: &mut State| &mut s.wasi)?;
        let mut store = Store::new(engine, State { wasi });
        let instance = linker.instantiate(&mut store, module)?;
        let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
        match start.call(&mut store, ()) {
            Ok(()) => Ok(0),
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(exit) => Ok(exit.0),
                None => Err(e),
            },
        }
    }

    #[test]
    fn memory_pipes_args_env_and_exit() -> anyhow::Result<()> {
        let engine = Engine::default();
        let module = Module::from_file(&engine, wasm("args_env"))?;
        let out = MemoryOutputPipe::new(1 << 16);
        let wasi = WasiCtxBuilder::new()
            .args(&["prog", "x"])
            .env("EXIT_CODE", "5")
            .stdout(out.clone())
            .build();
        assert_eq!(run_start(&engine, &module, wasi)?, 5);
        assert_eq!(
            String::from_utf8(out.contents())?,
            "argc=2\nargv[1]=x\nenv EXIT_CODE=5\n"
        );

        let module = Module::from_file(&engine, wasm("stdin"))?;
        let out = MemoryOutputPipe::new(1 << 16);
        let wasi = WasiCtxBuilder::new()
            .stdin(MemoryInputPipe::new("abc\n"))
            .stdout(out.clone())
            .build();
        assert_eq!(run_start(&engine, &module, wasi)?, 0);
        assert_eq!(out.contents(), b"ABC\nbytes=4 lines=1\n");
        Ok(())
    }

    #[test]
    fn read_only_preopen() -> anyhow::Result<()> {
        let s = Scratch::new("api-ro");
        std::fs::write(s.path("src.txt"), "data")?;
        let engine = Engine::default();
        let module = Module::from_file(&engine, wasm("copy"))?;
        let err = MemoryOutputPipe::new(1 << 16);
        let wasi = WasiCtxBuilder::new()
            .args(&["copy", "/d/src.txt", "/d/dst.txt"])
            .stderr(err.clone())
            .preopened_dir(&s.0, "/d", DirPerms::READ, FilePerms::READ)?
            .build();
        assert_eq!(run_start(&engine, &module, wasi)?, 1);
        assert!(!s.path("dst.txt").exists());
        let msg = String::from_utf8(err.contents())?;
        assert!(msg.starts_with("create /d/dst.txt: "), "{msg}");
        // With write permission the same copy works.
        let wasi = WasiCtxBuilder::new()
            .args(&["copy", "/d/src.txt", "/d/dst.txt"])
            .preopened_dir(&s.0, "/d", DirPerms::all(), FilePerms::all())?
            .build();
        assert_eq!(run_start(&engine, &module, wasi)?, 0);
        assert_eq!(std::fs::read_to_string(s.path("dst.txt"))?, "data");
        // A preopen that is not a directory is an error at build time.
        assert!(
            WasiCtxBuilder::new()
                .preopened_dir(s.path("src.txt"), "/f", DirPerms::all(), FilePerms::all())
                .is_err()
        );
        Ok(())
    }

    /// A module with no exported memory: every pointer is out of bounds, so calls fail
    /// with EFAULT instead of trapping or touching host memory.
    #[test]
    fn no_memory_means_efault() -> anyhow::Result<()> {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module
                (import "wasi_snapshot_preview1" "fd_write"
                  (func $fd_write (param i32 i32 i32 i32) (result i32)))
                (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
                (func (export "write") (result i32)
                  (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 0)))
                (func (export "yield") (result i32) (call $yield)))"#,
        )?;
        let mut linker = Linker::new(&engine);
        gloam::wasi::add_to_linker(&mut linker, |s: &mut State| &mut s.wasi)?;
        let mut store = Store::new(
            &engine,
            State {
                wasi: WasiCtxBuilder::new().inherit_stdio().build(),
            },
        );
        let instance = linker.instantiate(&mut store, &module)?;
        let write = instance.get_typed_func::<(), i32>(&mut store, "write")?;
        assert_eq!(write.call(&mut store, ())?, Errno::Fault as i32);
        let yield_ = instance.get_typed_func::<(), i32>(&mut store, "yield")?;
        assert_eq!(yield_.call(&mut store, ())?, 0);
        Ok(())
    }
}
