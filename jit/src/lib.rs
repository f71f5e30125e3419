//! gloam's baseline JIT tier.
//!
//! Compiles a function's register bytecode (from `gloam-interp`) to native code that keeps
//! the interpreter's frame layout; the executor enters it through the convention of
//! `gloam_interp::native`. Structure: an ISA-independent compiler ([`compiler`]) drives a
//! [`backend::Backend`]; `isa/x64` implements it for x86-64 (System V hosts), `isa/aarch64`
//! for aarch64 (AAPCS64 unix hosts). Elsewhere
//! [`AVAILABLE`] is false and [`codegen`] returns `None`: everything stays interpreted.
//!
//! Scalar operations the backend does not inline call out-of-line helpers generated from
//! the opcode table ([`helpers`]). What the compiler does not handle at all makes the whole
//! function stay interpreted (`compile` says `"unsupported: OP"`): for now, SIMD, and
//! exception handling (`throw`, `throw_ref`, and any function with a `try_table`: the
//! executor unwinds frames, native ones included, and lands on handlers in interpreted
//! code).

pub mod backend;
pub mod compiler;
pub mod helpers;
#[cfg(all(unix, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod link;
#[cfg(all(unix, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod pool;
#[cfg(all(unix, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod isa {
    #[cfg(target_arch = "aarch64")]
    pub mod aarch64;
    #[cfg(test)]
    mod limit_checks;
    #[cfg(target_arch = "x86_64")]
    pub mod x64;
}

use gloam_interp::Module;
use gloam_interp::native::{CodeGen, NativeCode};
use gloam_interp::translate::CompiledFunc;
use std::sync::Arc;

/// Whether this build can compile to native code.
pub const AVAILABLE: bool = cfg!(all(
    unix,
    any(target_arch = "x86_64", target_arch = "aarch64")
));

/// The JIT as the engine's code generator.
#[derive(Debug, Default)]
pub struct Jit;

impl CodeGen for Jit {
    fn compile(&self, module: &Module, func: &CompiledFunc) -> Result<NativeCode, String> {
        compile(module, func)
    }

    fn compile_all(
        &self,
        module: &Module,
        funcs: &[&CompiledFunc],
    ) -> Vec<Result<NativeCode, String>> {
        compile_batch_on(module, funcs, module.compile_threads)
    }
}

/// Compiles one function of `module` to native code, or says why it cannot.
pub fn compile(module: &Module, func: &CompiledFunc) -> Result<NativeCode, String> {
    compile_batch(module, &[func])
        .pop()
        .unwrap_or_else(|| Err("no JIT backend for this target".into()))
}

/// Compiles `funcs` into shared executable mappings (each made executable once, W^X), one
/// outcome per function in order.
pub fn compile_batch(module: &Module, funcs: &[&CompiledFunc]) -> Vec<Result<NativeCode, String>> {
    compile_batch_on(module, funcs, 1)
}

/// [`compile_batch`], assembling and linking on up to `threads` threads.
pub fn compile_batch_on(
    module: &Module,
    funcs: &[&CompiledFunc],
    threads: usize,
) -> Vec<Result<NativeCode, String>> {
    #[cfg(all(unix, any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        // Everything is assembled first, then linked in order, a mapping every
        // `LINK_CHUNK` bytes of code; both in parallel when `threads > 1`.
        link::link_all(&assemble_all(module, funcs, threads), threads)
    }
    #[cfg(not(all(unix, any(target_arch = "x86_64", target_arch = "aarch64"))))]
    {
        let _ = (module, threads);
        funcs
            .iter()
            .map(|_| Err("no JIT backend for this target".into()))
            .collect()
    }
}

/// One function's machine code as the JIT would place it, for disassembly: the code
/// (position-independent; the entry stub at offset 0) and where each bytecode
/// instruction's code starts.
#[derive(Debug)]
pub struct Listing {
    pub code: Vec<u8>,
    /// `(code index, byte offset)`, in code order; code index `u32::MAX` marks where the
    /// out-of-line paths (traps, exits, resume entries) start.
    pub marks: Vec<(u32, usize)>,
    /// Byte offset of the direct entry (see `gloam_interp::native`).
    pub direct: Option<usize>,
}

/// Compiles `func` of `module` for a listing (nothing is made executable).
pub fn listing(module: &Module, func: &CompiledFunc) -> Result<Listing, String> {
    #[cfg(all(unix, any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let a = assemble_with(module, func, true)?;
        Ok(Listing {
            code: a.code,
            marks: a.marks,
            direct: a.direct,
        })
    }
    #[cfg(not(all(unix, any(target_arch = "x86_64", target_arch = "aarch64"))))]
    {
        let _ = (module, func);
        Err("no JIT backend for this target".into())
    }
}

/// Assembles one function (not yet placed in executable memory).
#[cfg(all(unix, any(target_arch = "x86_64", target_arch = "aarch64")))]
fn assemble(module: &Module, func: &CompiledFunc) -> Result<backend::Assembled, String> {
    assemble_with(module, func, false)
}

/// Assembles one function with this target's backend, with instruction marks for a
/// `listing` if asked.
#[cfg(all(unix, target_arch = "x86_64"))]
fn assemble_with(
    module: &Module,
    func: &CompiledFunc,
    listing: bool,
) -> Result<backend::Assembled, String> {
    use backend::Backend;
    let mut b = isa::x64::X64::new(func.code.len(), func);
    if listing {
        b = b.with_listing();
    }
    compiler::compile(&mut b, module, func).and_then(|()| b.finish())
}

/// Assembles one function with this target's backend, with instruction marks for a
/// `listing` if asked. A function whose conditional branches do not reach (more than
/// 1 MiB of code) is assembled again with far branches.
#[cfg(all(unix, target_arch = "aarch64"))]
fn assemble_with(
    module: &Module,
    func: &CompiledFunc,
    listing: bool,
) -> Result<backend::Assembled, String> {
    use backend::Backend;
    use isa::aarch64::{Aarch64, BRANCH_RANGE};
    let attempt = |far: bool| {
        let mut b = Aarch64::new(func.code.len(), func);
        if listing {
            b = b.with_listing();
        }
        if far {
            b = b.far_branches();
        }
        compiler::compile(&mut b, module, func).and_then(|()| b.finish())
    };
    match attempt(false) {
        Err(e) if e == BRANCH_RANGE => attempt(true),
        r => r,
    }
}

/// Assembles `funcs`, in order, on up to `threads` threads (the calling one among them;
/// it alone for a small batch). Threads take the next few functions as they finish, so
/// functions of very different sizes still keep every thread busy.
#[cfg(all(unix, any(target_arch = "x86_64", target_arch = "aarch64")))]
fn assemble_all(
    module: &Module,
    funcs: &[&CompiledFunc],
    threads: usize,
) -> Vec<Result<backend::Assembled, String>> {
    // Below this many bytecode instructions, starting threads costs more than it saves.
    const PARALLEL_MIN_INSTRS: usize = 4096;
    // Functions a thread takes at once.
    const GRAIN: usize = 8;
    let instrs: usize = funcs.iter().map(|f| f.code.len()).sum();
    if threads <= 1 || funcs.len() < 2 || instrs < PARALLEL_MIN_INSTRS {
        return funcs.iter().map(|f| assemble(module, f)).collect();
    }
    pool::map(funcs, threads, GRAIN, |f| assemble(module, f))
        .into_iter()
        .map(|a| a.unwrap_or_else(|| Err("function was not assembled".into())))
        .collect()
}

/// The code generator to install in an engine, if this build has a backend.
pub fn codegen() -> Option<Arc<dyn CodeGen>> {
    if AVAILABLE { Some(Arc::new(Jit)) } else { None }
}
