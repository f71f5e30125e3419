//! Hostile input: absurd declared counts, deep nesting, giant growth requests, long names,
//! enormous segments and minimums. Each must end in a clean `Err` or trap (or succeed),
//! never a panic, and without touching gigabytes of memory.

use gloam::*;

/// An unsigned LEB128.
fn leb(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A module from raw sections `(id, contents)`.
fn module_bytes(sections: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    for (id, body) in sections {
        m.push(*id);
        leb(body.len() as u64, &mut m);
        m.extend_from_slice(body);
    }
    m
}

fn vec_of(count: u64, items: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    leb(count, &mut v);
    v.extend_from_slice(items);
    v
}

/// Resident memory of this process in KiB (Linux), to check that nothing touched GiBs.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn assert_rss_bounded(before: Option<u64>, what: &str) {
    if let (Some(b), Some(a)) = (before, rss_kib()) {
        // Tests run in parallel, so allow slack; touching a 4 GiB memory would blow it.
        assert!(
            a.saturating_sub(b) < 1024 * 1024,
            "{what}: RSS grew from {b} KiB to {a} KiB"
        );
    }
}

#[test]
fn huge_declared_counts_are_errors() {
    let engine = Engine::default();
    let max = u32::MAX as u64;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("types", module_bytes(&[(1, vec_of(max, &[0x60, 0, 0]))])),
        (
            "functions",
            module_bytes(&[(1, vec_of(1, &[0x60, 0, 0])), (3, vec_of(max, &[0]))]),
        ),
        ("imports", module_bytes(&[(2, vec_of(max, &[]))])),
        ("globals", module_bytes(&[(6, vec_of(max, &[]))])),
        ("exports", module_bytes(&[(7, vec_of(max, &[]))])),
        ("data segments", module_bytes(&[(11, vec_of(max, &[]))])),
        ("element segments", module_bytes(&[(9, vec_of(max, &[]))])),
        ("code bodies", module_bytes(&[(10, vec_of(max, &[]))])),
        {
            // One body declaring 2^32 - 1 locals.
            let mut body = Vec::new();
            body.extend(vec_of(1, &[]));
            leb(max, &mut body);
            body.extend_from_slice(&[0x7f, 0x0b]);
            let mut code = Vec::new();
            leb(1, &mut code);
            leb(body.len() as u64, &mut code);
            code.extend(body);
            (
                "locals",
                module_bytes(&[
                    (1, vec_of(1, &[0x60, 0, 0])),
                    (3, vec_of(1, &[0])),
                    (10, code),
                ]),
            )
        },
        {
            // A data segment claiming 4 GiB of contents.
            let mut seg = vec![1];
            leb(max, &mut seg);
            (
                "data segment length",
                module_bytes(&[(11, vec_of(1, &seg))]),
            )
        },
    ];
    for (what, bytes) in cases {
        assert!(Module::new(&engine, &bytes).is_err(), "{what}");
    }
}

#[test]
fn deep_block_nesting_translates_and_runs() -> Result<()> {
    const DEPTH: usize = 100_000;
    let mut body = vec![0]; // no locals
    for _ in 0..DEPTH {
        body.extend_from_slice(&[0x02, 0x40]); // block
    }
    body.extend_from_slice(&[0x41, 7, 0x1a]); // i32.const 7, drop
    body.extend(std::iter::repeat_n(0x0b, DEPTH + 1)); // end x DEPTH, function end
    let mut code = Vec::new();
    leb(1, &mut code);
    leb(body.len() as u64, &mut code);
    code.extend(body);
    let bytes = module_bytes(&[
        (1, vec_of(1, &[0x60, 0, 0])),
        (3, vec_of(1, &[0])),
        (7, vec_of(1, &[1, b'f', 0, 0])),
        (10, code),
    ]);
    let mut config = Config::new();
    config.eager_translation(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, &bytes)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let f = instance.get_typed_func::<(), ()>(&mut store, "f")?;
    f.call(&mut store, ())?;
    Ok(())
}

#[test]
fn giant_growth_requests_fail_cleanly() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
          (memory (export "m") 1)
          (table 1 funcref)
          (func (export "grow_mem") (param i32) (result i32) local.get 0 memory.grow)
          (func (export "grow_tab") (param i32) (result i32)
            ref.null func local.get 0 table.grow 0))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow_mem = instance.get_typed_func::<i32, i32>(&mut store, "grow_mem")?;
    let before = rss_kib();
    // Past 4 GiB: always refused.
    assert_eq!(grow_mem.call(&mut store, 65536)?, -1);
    assert_eq!(grow_mem.call(&mut store, -1)?, -1);
    // Up to exactly 4 GiB: allowed where the host can reserve it, without touching it.
    let r = grow_mem.call(&mut store, 65535)?;
    assert!(r == 1 || r == -1, "{r}");
    assert_rss_bounded(before, "memory.grow to 4 GiB");
    drop(store);
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow_tab = instance.get_typed_func::<i32, i32>(&mut store, "grow_tab")?;
    assert_eq!(grow_tab.call(&mut store, -1)?, -1);
    assert_eq!(grow_tab.call(&mut store, i32::MAX)?, -1);
    Ok(())
}

#[test]
fn enormous_minimums_are_bounded() -> Result<()> {
    let engine = Engine::default();
    let before = rss_kib();
    // 4 GiB minimum: instantiates lazily (64-bit hosts) or fails cleanly.
    let module = Module::new(&engine, "(module (memory 65536))")?;
    let mut store = Store::new(&engine, ());
    let _ = Instance::new(&mut store, &module, &[]);
    drop(store);
    assert_rss_bounded(before, "a 4 GiB minimum");
    // Over 4 GiB: invalid.
    assert!(Module::new(&engine, "(module (memory 65537))").is_err());
    // A table minimum past the implementation limit fails at instantiation.
    let module = Module::new(&engine, "(module (table 4294967295 funcref))")?;
    let mut store = Store::new(&engine, ());
    assert!(Instance::new(&mut store, &module, &[]).is_err());
    // An active data segment far outside its memory traps at instantiation.
    let module = Module::new(
        &engine,
        r#"(module (memory 1) (data (i32.const -1) "abc"))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    Ok(())
}

#[test]
fn long_names_are_fine() -> Result<()> {
    let engine = Engine::default();
    // Past the decoder's string limit (100,000 bytes): a clean error.
    let huge = "x".repeat(1 << 20);
    let wat = format!(r#"(module (func (export "{huge}")))"#);
    assert!(Module::new(&engine, &wat).is_err());
    // Just under it: works, and errors that name it stay errors.
    let long = "y".repeat(99_000);
    let wat = format!(r#"(module (import "{long}" "{long}" (func)) (func (export "{long}")))"#);
    let module = Module::new(&engine, &wat)?;
    let mut store = Store::new(&engine, ());
    let err = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap_err();
    assert!(err.to_string().contains(&long));
    let wat = format!(r#"(module (func (export "{long}")))"#);
    let module = Module::new(&engine, &wat)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    assert!(instance.get_func(&mut store, &long).is_some());
    Ok(())
}
