//! Differential fuzzing of gloam against wasmi, gloam's JIT against its interpreter, and
//! (feature `wasmtime-oracle`) wasmtime as the tie-breaker.
//!
//! Each case derives everything from one `u64` seed: `wasm-smith` builds a valid module
//! (Wasm 2.0 + SIMD, what gloam supports, with NaN canonicalization so float results are
//! deterministic bit patterns, and `ensure_termination` so every loop and call chain
//! ends), the engines instantiate it, and every exported function is called with
//! arguments drawn from the same seed. After instantiation and after each call every peer
//! must agree with gloam's interpreter on: success or trap (and the trap code), the
//! results (bit for bit; two NaNs of the same type count as equal), every exported global,
//! and every exported memory (size and bytes) and table (size).
//!
//! The peers:
//! - **gloam-jit**, where this build has a JIT backend ([`jit_compared`]): a second gloam
//!   store whose engine compiles every function it can before running it. It must agree
//!   exactly, stack exhaustion included; any disagreement is a divergence.
//! - **wasmi**, the oracle. Stack exhaustion is not compared (the engines count frames
//!   differently): a case where either exhausts the stack stops comparing wasmi there,
//!   counted as inconclusive. wasmi has bugs of its own, so when it disagrees the case is
//!   judged by [`run_case`]: with the `wasmtime-oracle` feature it is replayed in wasmtime,
//!   and if wasmtime sides with gloam up to the disagreement it counts as an oracle (wasmi)
//!   bug, not a divergence; without it (or when wasmtime is inconclusive) the hand-kept
//!   [`ORACLE_BUGS`] list decides.
//!
//! After wasmi parts from gloam the case goes on with the JIT alone, so a wasmi bug early
//! in a case does not hide a JIT bug later.

mod engines;
#[cfg(feature = "wasmtime-oracle")]
mod wasmtime_oracle;

use arbitrary::Unstructured;
use engines::{
    Gloam, JitCount, Outcome, Runner, Wasmi, guard, instantiate_guarded, same_outcome,
    state_difference,
};

/// A small deterministic PRNG (splitmix64), so every case reproduces from its seed.
pub struct Rng(u64);

impl Rng {
    /// A generator whose sequence is determined by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A value that is often a boundary case.
    fn interesting(&mut self, bits: u32) -> u64 {
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1 << bits) - 1
        };
        let v = match self.below(8) {
            0 => 0,
            1 => 1,
            2 => u64::MAX,
            3 => 1 << (bits - 1),
            4 => (1 << (bits - 1)) - 1,
            5 => self.below(256),
            _ => self.next_u64(),
        };
        v & mask
    }
}

/// How a case ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CaseStats {
    /// Exported functions called (in gloam-interp, and in every peer still comparing).
    pub calls: u64,
    /// Calls that trapped in gloam-interp (and alike in every peer still comparing).
    pub traps: u64,
    /// Stack exhaustion stopped the comparison with wasmi (or the whole case) early.
    pub inconclusive: bool,
    /// wasm-smith could not build a module from the seed's bytes.
    pub skipped: bool,
    /// Functions gloam's JIT compiled for this case (the rest run interpreted in the JIT
    /// store too, e.g. those using SIMD).
    pub jit_compiled: u64,
    /// Functions of the case's module (counted when the JIT is compared).
    pub jit_funcs: u64,
    /// wasmi disagreed with gloam, and wasmtime (or [`ORACLE_BUGS`]) sided with gloam:
    /// what wasmi got wrong.
    pub oracle_bug: Option<String>,
}

/// Whether gloam-jit is compared with gloam-interp in this build (a JIT backend exists
/// for the target: x86-64 and aarch64; elsewhere only the interpreter and wasmi run).
pub fn jit_compared() -> bool {
    gloam::Config::jit_available()
}

/// Whether this build replays wasmi's disagreements in wasmtime (feature
/// `wasmtime-oracle`).
pub fn wasmtime_compared() -> bool {
    cfg!(feature = "wasmtime-oracle")
}

/// The wasm-smith configuration: the proposals gloam implements, small memories.
pub fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        simd_enabled: true,
        relaxed_simd_enabled: false,
        reference_types_enabled: true,
        bulk_memory_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        tail_call_enabled: false,
        threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        shared_everything_threads_enabled: false,
        canonicalize_nans: true,
        export_everything: true,
        min_funcs: 1,
        max_imports: 0,
        max_memories: 1,
        max_tables: 2,
        max_memory32_bytes: 4 * 65536,
        max_table_elements: 1000,
        max_instructions: 200,
        ..wasm_smith::Config::default()
    }
}

/// Builds the module of case `seed`, or `None` when wasm-smith needs more bytes.
pub fn module_for(seed: u64) -> Option<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let len = 64 + rng.below(4096) as usize;
    let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    let mut u = Unstructured::new(&bytes);
    let mut module = wasm_smith::Module::new(smith_config(), &mut u).ok()?;
    module.ensure_termination(1000).ok()?;
    Some(module.to_bytes())
}

/// Mixed into a case's seed for the arguments' generator.
const ARGS_SALT: u64 = 0x5eed_a7c5;

/// Arguments for a function with parameters `params`.
fn gen_args(rng: &mut Rng, params: &[gloam::ValType]) -> Vec<engines::Arg> {
    use engines::Arg;
    params
        .iter()
        .map(|t| match t {
            gloam::ValType::I32 => Arg::I32(rng.interesting(32) as i32),
            gloam::ValType::I64 => Arg::I64(rng.interesting(64) as i64),
            gloam::ValType::F32 => Arg::F32(rng.interesting(32) as u32),
            gloam::ValType::F64 => Arg::F64(rng.interesting(64)),
            gloam::ValType::V128 => {
                Arg::V128(rng.interesting(64) as u128 | (rng.next_u64() as u128) << 64)
            }
            gloam::ValType::FuncRef => Arg::NullFunc,
            _ => Arg::NullExtern,
        })
        .collect()
}

// ---- driving a case ----------------------------------------------------------------------

/// Where a peer first parted from gloam-interp. Step 0 is instantiation, step `k` the
/// `k`-th call; each step includes the state check after it.
#[derive(Debug, Clone, PartialEq)]
enum Parting {
    Differ {
        step: usize,
        msg: String,
    },
    /// Stack exhaustion in the peer or in gloam (inconclusive, for a lenient peer).
    Exhausted {
        step: usize,
    },
}

/// An engine compared with gloam-interp.
struct Peer {
    name: &'static str,
    /// No leniency: stack exhaustion and instantiation error texts must match too.
    strict: bool,
    /// How instantiation went (judged at step 0).
    instantiated: Outcome,
    /// `None` once the peer parted (or failed to instantiate).
    runner: Option<Box<dyn Runner>>,
    parted: Option<Parting>,
}

impl Peer {
    fn new(name: &'static str, strict: bool, inst: Result<Box<dyn Runner>, Outcome>) -> Peer {
        let (instantiated, runner) = match inst {
            Ok(r) => (Outcome::Ok(Vec::new()), Some(r)),
            Err(o) => (o, None),
        };
        Peer {
            name,
            strict,
            instantiated,
            runner,
            parted: None,
        }
    }

    fn part(&mut self, parting: Parting) {
        self.parted = Some(parting);
        self.runner = None;
    }

    /// Compares the peer's outcome `mine` of step `step` (`what`) with gloam's.
    fn judge(&mut self, step: usize, what: &str, gloam: &Outcome, mine: &Outcome) {
        let agree = if self.strict {
            same_outcome(gloam, mine)
        } else if *gloam == Outcome::Exhausted || *mine == Outcome::Exhausted {
            return self.part(Parting::Exhausted { step });
        } else {
            // Instantiation errors that are not traps differ in wording.
            let both_failed = matches!((gloam, mine), (Outcome::Trap(_), Outcome::Trap(_)));
            same_outcome(gloam, mine) || (both_failed && (gloam.is_error() || mine.is_error()))
        };
        if !agree {
            let msg = format!("{what}: gloam {gloam:?}, {} {mine:?}", self.name);
            self.part(Parting::Differ { step, msg });
        }
    }
}

/// Runs a case in gloam-interp (`reference`) and `peers`, comparing after each step and
/// recording in each peer where it first parted from gloam. `Err` only when gloam-interp
/// panics; the peers' disagreements are for the caller to judge.
fn drive(
    reference: Result<Gloam, Outcome>,
    peers: &mut [Peer],
    rng: &mut Rng,
    stats: &mut CaseStats,
) -> Result<(), String> {
    let inst = match &reference {
        Ok(_) => Outcome::Ok(Vec::new()),
        Err(o) => o.clone(),
    };
    if let Outcome::Panic(m) = &inst {
        return Err(format!("gloam panicked instantiating the module: {m}"));
    }
    for p in peers.iter_mut() {
        let mine = p.instantiated.clone();
        p.judge(0, "instantiation", &inst, &mine);
    }
    let Ok(mut g) = reference else {
        stats.inconclusive |= inst == Outcome::Exhausted;
        return Ok(());
    };
    check_states(&mut g, peers, 0, "after instantiation")?;
    let funcs = guard(|| g.funcs()).map_err(|m| format!("gloam panicked listing exports: {m}"))?;
    for (k, (name, params)) in funcs.iter().enumerate() {
        if !peers.iter().any(|p| p.runner.is_some()) {
            break;
        }
        let step = k + 1;
        let args = gen_args(rng, params);
        let what = format!("call {name}{args:?}");
        stats.calls += 1;
        let out = guard(|| g.call(name, &args)).unwrap_or_else(Outcome::Panic);
        if let Outcome::Panic(m) = &out {
            return Err(format!("{what}: gloam panicked: {m}"));
        }
        for p in peers.iter_mut() {
            if let Some(r) = p.runner.as_mut() {
                let mine = guard(|| r.call(name, &args)).unwrap_or_else(Outcome::Panic);
                p.judge(step, &what, &out, &mine);
            }
        }
        match out {
            Outcome::Exhausted => {
                stats.inconclusive = true;
                return Ok(());
            }
            Outcome::Trap(_) => stats.traps += 1,
            _ => {}
        }
        check_states(&mut g, peers, step, &format!("after {what}"))?;
    }
    Ok(())
}

/// Compares the exported state of every peer still comparing with gloam's.
fn check_states(g: &mut Gloam, peers: &mut [Peer], step: usize, when: &str) -> Result<(), String> {
    if !peers.iter().any(|p| p.runner.is_some()) {
        return Ok(());
    }
    let reference =
        guard(|| g.state()).map_err(|m| format!("gloam panicked reading state {when}: {m}"))?;
    for p in peers.iter_mut() {
        let Some(r) = p.runner.as_mut() else {
            continue;
        };
        let diff = match guard(|| r.state()) {
            Ok(s) => state_difference(&reference, &s, "gloam", p.name),
            Err(m) => Some(format!("{} panicked: {m}", p.name)),
        };
        if let Some(d) = diff {
            p.part(Parting::Differ {
                step,
                msg: format!("state {when}: {d}"),
            });
        }
    }
    Ok(())
}

/// Runs case `seed`. `Err` describes the first divergence (or a panic in gloam); a wasmi
/// disagreement that wasmtime or [`ORACLE_BUGS`] puts down to wasmi is `Ok`, with
/// [`CaseStats::oracle_bug`] set.
pub fn run_case(seed: u64) -> Result<CaseStats, String> {
    let mut stats = CaseStats::default();
    let wasm = match guard(|| module_for(seed)) {
        Ok(Some(wasm)) => wasm,
        Ok(None) => {
            stats.skipped = true;
            return Ok(stats);
        }
        Err(m) => return Err(format!("seed {seed}: wasm-smith panicked: {m}")),
    };
    let mut jit = JitCount::default();
    let reference =
        guard(|| Gloam::new(&wasm, false, &mut jit)).unwrap_or_else(|m| Err(Outcome::Panic(m)));
    let mut peers = Vec::new();
    if jit_compared() {
        let runner = instantiate_guarded(|| Gloam::new(&wasm, true, &mut jit));
        peers.push(Peer::new("gloam-jit", true, runner));
    }
    peers.push(Peer::new(
        "wasmi",
        false,
        instantiate_guarded(|| Wasmi::new(&wasm)),
    ));
    stats.jit_compiled = jit.compiled;
    stats.jit_funcs = jit.total;
    let mut rng = Rng::new(seed ^ ARGS_SALT);
    drive(reference, &mut peers, &mut rng, &mut stats).map_err(|e| format!("seed {seed}: {e}"))?;
    let mut wasmi_parted = None;
    for p in peers {
        match p.parted {
            Some(Parting::Differ { msg, .. }) if p.strict => {
                return Err(format!("seed {seed}: {msg}"));
            }
            Some(Parting::Exhausted { .. }) => stats.inconclusive = true,
            Some(Parting::Differ { step, msg }) => wasmi_parted = Some((step, msg)),
            None => {}
        }
    }
    if let Some((step, msg)) = wasmi_parted {
        judge_oracle(seed, &wasm, step, msg, &mut stats)?;
    }
    Ok(stats)
}

/// wasmi parted from gloam at `step` (`msg`): decides whether that is a wasmi bug
/// (`Ok`, recorded in `stats`) or a divergence (`Err`).
fn judge_oracle(
    seed: u64,
    wasm: &[u8],
    step: usize,
    msg: String,
    stats: &mut CaseStats,
) -> Result<(), String> {
    #[cfg(not(feature = "wasmtime-oracle"))]
    let _ = (wasm, step);
    #[cfg(feature = "wasmtime-oracle")]
    let note = match replay_in_wasmtime(seed, wasm) {
        Ok(None) => {
            stats.oracle_bug = Some(format!("{msg} (wasmtime agrees with gloam)"));
            return Ok(());
        }
        Ok(Some(Parting::Exhausted { step: s })) if s > step => {
            stats.oracle_bug = Some(format!(
                "{msg} (wasmtime agrees with gloam up to a stack exhaustion later)"
            ));
            return Ok(());
        }
        Ok(Some(Parting::Differ { step: s, msg: m })) if s > step => {
            return Err(format!(
                "seed {seed}: gloam and wasmtime differ: {m} (after wasmi went wrong: {msg})"
            ));
        }
        Ok(Some(Parting::Differ { msg: m, .. })) => {
            return Err(format!(
                "seed {seed}: {msg} (wasmtime does not side with gloam: {m})"
            ));
        }
        Ok(Some(Parting::Exhausted { .. })) => {
            " (wasmtime inconclusive: stack exhaustion before that point)".to_string()
        }
        Err(e) => format!(" (wasmtime inconclusive: {e})"),
    };
    #[cfg(not(feature = "wasmtime-oracle"))]
    let note = String::new();
    if let Some((_, what)) = ORACLE_BUGS.iter().find(|(s, _)| *s == seed) {
        stats.oracle_bug = Some(format!("{msg} (known wasmi bug: {what}){note}"));
        return Ok(());
    }
    Err(format!("seed {seed}: {msg}{note}"))
}

/// Replays case `seed` in gloam-interp and wasmtime (same module, same calls, same
/// arguments) on a thread with room for wasmtime's stack, and says where wasmtime first
/// parted from gloam (`None`: nowhere).
#[cfg(feature = "wasmtime-oracle")]
fn replay_in_wasmtime(seed: u64, wasm: &[u8]) -> Result<Option<Parting>, String> {
    use wasmtime_oracle::{THREAD_STACK, Wasmtime, engine};
    let wasm = wasm.to_vec();
    let thread = std::thread::Builder::new()
        .name("wasmtime-replay".into())
        .stack_size(THREAD_STACK)
        .spawn(move || {
            let engine = engine()?;
            let reference = guard(|| Gloam::new(&wasm, false, &mut JitCount::default()))
                .unwrap_or_else(|m| Err(Outcome::Panic(m)));
            let wasmtime = instantiate_guarded(|| Wasmtime::new(&engine, &wasm));
            let mut peers = [Peer::new("wasmtime", false, wasmtime)];
            let mut rng = Rng::new(seed ^ ARGS_SALT);
            drive(reference, &mut peers, &mut rng, &mut CaseStats::default())?;
            let [peer] = peers;
            Ok(peer.parted)
        })
        .map_err(|e| format!("cannot start the replay thread: {e}"))?;
    thread
        .join()
        .map_err(|p| format!("replay panicked: {}", engines::panic_message(&*p)))?
}

/// Seeds whose divergence was traced to a wasmi 2.0 bug (gloam's answer checked by hand,
/// or confirmed by wasmtime 48 where the entry says so).
/// Without the `wasmtime-oracle` feature (or when wasmtime is inconclusive) they count as
/// oracle bugs, apart from real divergences.
pub const ORACLE_BUGS: &[(u64, &str)] = &[
    (
        109200,
        "wasmi drops the sign of -0.0 passed as an `if` block parameter",
    ),
    (
        111900,
        "wasmi returns zero for a v128 carried by br_table out of nested blocks",
    ),
    (
        550751,
        "wasmi leaves global \"G\\u{4}\" at a stale value (0 in a fresh process), \
         where gloam and wasmtime 48 store the first argument (confirmed by wasmtime; not \
         minimized)",
    ),
    (
        1450853,
        "wasmi reads a declared i64 local as stale memory instead of zero",
    ),
    (
        2111770,
        "wasmi returns stale values for (i64, f32, v128) carried by br_table",
    ),
    (
        5285086,
        "wasmi's global \"5\" depends on the cases run before in the process (a stale \
         read; a fresh process agrees), where wasmtime 48 agrees with gloam",
    ),
    (
        5715837,
        "wasmi's global \"5\" varies with the cases run before in the process (a stale \
         read), where wasmtime 48 agrees with gloam",
    ),
    (
        6256815,
        "wasmi reads a declared i64 local as stale after an earlier call trapped",
    ),
];

/// Totals of a run of cases.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    /// Cases run (skipped ones included).
    pub cases: u64,
    /// Cases for which wasm-smith made no module.
    pub skipped: u64,
    /// Exported functions called.
    pub calls: u64,
    /// Calls that trapped (alike in the engines compared).
    pub traps: u64,
    /// Cases cut short by stack exhaustion.
    pub inconclusive: u64,
    /// Functions the JIT compiled, over all cases.
    pub jit_compiled: u64,
    /// Functions offered to the JIT, over all cases.
    pub jit_funcs: u64,
    /// The divergences' descriptions.
    pub divergences: Vec<String>,
    /// Cases where wasmi was wrong (wasmtime or [`ORACLE_BUGS`] sided with gloam).
    pub oracle_bugs: u64,
}

impl Totals {
    /// Adds a case's outcome.
    pub fn add(&mut self, r: Result<CaseStats, String>) {
        self.cases += 1;
        match r {
            Ok(s) => {
                self.skipped += s.skipped as u64;
                self.calls += s.calls;
                self.traps += s.traps;
                self.inconclusive += s.inconclusive as u64;
                self.jit_compiled += s.jit_compiled;
                self.jit_funcs += s.jit_funcs;
                self.oracle_bugs += s.oracle_bug.is_some() as u64;
            }
            Err(e) => self.divergences.push(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engines::{Arg, State};

    /// `(module (func (export "f") (result i32) i32.const 7))`
    const SEVEN: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
        0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type () -> i32
        0x03, 0x02, 0x01, 0x00, // one function of type 0
        0x07, 0x05, 0x01, 0x01, b'f', 0x00, 0x00, // export "f"
        0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x07, 0x0b, // i32.const 7
    ];

    /// An engine that answers every call with `result`.
    struct Fixed(Outcome);

    impl Runner for Fixed {
        fn call(&mut self, _: &str, _: &[Arg]) -> Outcome {
            self.0.clone()
        }
        fn state(&mut self) -> Vec<(String, State)> {
            Vec::new()
        }
    }

    fn run(peers: &mut [Peer]) -> CaseStats {
        let reference = Gloam::new(SEVEN, false, &mut JitCount::default());
        let mut stats = CaseStats::default();
        drive(reference, peers, &mut Rng::new(1), &mut stats).unwrap();
        stats
    }

    fn fixed(name: &'static str, strict: bool, o: Outcome) -> Peer {
        Peer::new(name, strict, Ok(Box::new(Fixed(o))))
    }

    #[test]
    fn peers_part_where_they_disagree() {
        let mut peers = [
            fixed("right", false, Outcome::Ok(vec![Arg::I32(7)])),
            fixed("wrong", false, Outcome::Ok(vec![Arg::I32(8)])),
            fixed("trapping", true, Outcome::Trap("unreachable".into())),
        ];
        let stats = run(&mut peers);
        assert_eq!(stats.calls, 1);
        assert_eq!(peers[0].parted, None);
        assert_eq!(
            peers[1].parted,
            Some(Parting::Differ {
                step: 1,
                msg: "call f[]: gloam Ok([I32(7)]), wrong Ok([I32(8)])".into()
            })
        );
        assert!(matches!(
            peers[2].parted,
            Some(Parting::Differ { step: 1, .. })
        ));
    }

    #[test]
    fn stack_exhaustion_is_inconclusive_except_for_the_jit() {
        let mut peers = [
            fixed("lenient", false, Outcome::Exhausted),
            fixed("strict", true, Outcome::Exhausted),
        ];
        run(&mut peers);
        assert_eq!(peers[0].parted, Some(Parting::Exhausted { step: 1 }));
        assert!(matches!(
            peers[1].parted,
            Some(Parting::Differ { step: 1, .. })
        ));
    }

    #[test]
    fn instantiation_errors_differ_in_wording_only_for_lenient_peers() {
        let error = Outcome::Trap("error: rejected".into());
        let trap = Outcome::Trap("memory out of bounds".into());
        let mut lenient = Peer::new("lenient", false, Err(error.clone()));
        lenient.judge(0, "instantiation", &trap, &error);
        assert_eq!(lenient.parted, None);
        let mut strict = Peer::new("strict", true, Err(error.clone()));
        strict.judge(0, "instantiation", &trap, &error);
        assert!(strict.parted.is_some());
        let mut ok_vs_error = Peer::new("lenient", false, Err(error.clone()));
        ok_vs_error.judge(0, "instantiation", &Outcome::Ok(Vec::new()), &error);
        assert!(ok_vs_error.parted.is_some());
    }

    #[test]
    fn nans_of_one_type_are_equal() {
        let mut p = fixed("nan", true, Outcome::Ok(Vec::new()));
        let quiet = Outcome::Ok(vec![Arg::F32(0x7fc0_0000)]);
        let other = Outcome::Ok(vec![Arg::F32(0xffc0_0001)]);
        p.judge(1, "call", &quiet, &other);
        assert_eq!(p.parted, None);
        p.judge(
            1,
            "call",
            &quiet,
            &Outcome::Ok(vec![Arg::F64(0x7ff8 << 48)]),
        );
        assert!(p.parted.is_some());
    }

    #[test]
    fn known_wasmi_bugs_are_oracle_bugs() {
        // Seed 6256815: wasmi reads a never-set i64 local as stale after a trap.
        let stats = run_case(6256815).unwrap();
        assert!(stats.oracle_bug.is_some(), "{stats:?}");
    }
}
