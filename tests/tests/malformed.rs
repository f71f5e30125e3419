//! Hostile input: every module of the spec suite, truncated at many points and with random
//! bit flips, goes through `Module::new` (with eager translation, so the translator sees
//! every valid mutant) and, when that succeeds, instantiation. Each case must end in `Ok`
//! or `Err`; a panic fails the test.

use gloam::{Config, Engine, Linker, Module, Store};
use std::path::Path;

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Binary modules of every `module` directive in the suite's wast files.
fn suite_modules() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec-testsuite/core-2.0");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("spec suite")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wast"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let Ok(buf) = wast::parser::ParseBuffer::new(&text) else {
            continue;
        };
        let Ok(script) = wast::parser::parse::<wast::Wast>(&buf) else {
            continue;
        };
        for directive in script.directives {
            if let wast::WastDirective::Module(mut m) = directive
                && let Ok(bytes) = m.encode()
            {
                out.push((
                    file.file_name().unwrap().to_string_lossy().to_string(),
                    bytes,
                ));
            }
        }
    }
    out
}

fn try_module(engine: &Engine, linker: &Linker<()>, bytes: &[u8]) {
    if let Ok(module) = Module::from_binary(engine, bytes) {
        // A mutant could have a start function that never returns; without fuel we only
        // instantiate modules without one.
        if module.core().start.is_none() {
            let mut store = Store::new(engine, ());
            let _ = linker.instantiate(&mut store, &module);
        }
    }
}

#[test]
fn truncated_and_bit_flipped_modules_never_panic() {
    let mut config = Config::new();
    config.eager_translation(true);
    let engine = Engine::new(&config).unwrap();
    let linker = Linker::new(&engine);
    let modules = suite_modules();
    assert!(modules.len() > 500, "only {} modules found", modules.len());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cases = 0;
    for (i, (file, bytes)) in modules.iter().enumerate() {
        // Every module: truncations at random points (and, for every eighth module, at
        // every byte) plus bit flips.
        let mut variants = Vec::new();
        if i % 8 == 0 && bytes.len() < 400 {
            for cut in 0..bytes.len() {
                variants.push(bytes[..cut].to_vec());
            }
        }
        for _ in 0..3 {
            variants.push(bytes[..rng.below(bytes.len())].to_vec());
        }
        for _ in 0..6 {
            let mut m = bytes.clone();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(m.len());
                m[at] ^= 1 << rng.below(8);
            }
            variants.push(m);
        }
        for v in variants {
            cases += 1;
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                try_module(&engine, &linker, &v)
            }));
            assert!(
                r.is_ok(),
                "panic on a mutant of a module from {file} (case {cases})"
            );
        }
    }
    println!("{cases} mutated modules from {} originals", modules.len());
    assert!(cases > 5000, "only {cases} cases");
}
