//! gloam's baseline JIT tier.
//!
//! Compiles a function's register bytecode (from `gloam-interp`) to native code that keeps
//! the interpreter's frame layout; the executor enters it through the convention of
//! `gloam_interp::native`. Structure: an ISA-independent compiler ([`compiler`]) drives a
//! [`backend::Backend`]; `isa/x64` implements it for x86-64 (System V hosts). Elsewhere
//! [`AVAILABLE`] is false and [`codegen`] returns `None`: everything stays interpreted.
//!
//! Scalar operations the backend does not inline call out-of-line helpers generated from
//! the opcode table ([`helpers`]). What the compiler does not handle at all makes the whole
//! function stay interpreted (`compile` says `"unsupported: OP"`): for now, SIMD.

pub mod backend;
pub mod compiler;
pub mod helpers;
#[cfg(all(target_arch = "x86_64", unix))]
mod isa {
    pub mod x64;
}

use gloam_interp::Module;
use gloam_interp::native::{CodeGen, NativeCode};
use gloam_interp::translate::CompiledFunc;
use std::sync::Arc;

/// Whether this build can compile to native code.
pub const AVAILABLE: bool = cfg!(all(target_arch = "x86_64", unix));

/// The JIT as the engine's code generator.
#[derive(Debug, Default)]
pub struct Jit;

impl CodeGen for Jit {
    fn compile(&self, _module: &Module, func: &CompiledFunc) -> Result<NativeCode, String> {
        compile(func)
    }
}

/// Compiles one function to native code, or says why it cannot.
pub fn compile(func: &CompiledFunc) -> Result<NativeCode, String> {
    #[cfg(all(target_arch = "x86_64", unix))]
    {
        use backend::Backend;
        let mut b = isa::x64::X64::new()?;
        compiler::compile(&mut b, func)?;
        b.finish()
    }
    #[cfg(not(all(target_arch = "x86_64", unix)))]
    {
        let _ = func;
        Err("no JIT backend for this target".into())
    }
}

/// The code generator to install in an engine, if this build has a backend.
pub fn codegen() -> Option<Arc<dyn CodeGen>> {
    if AVAILABLE { Some(Arc::new(Jit)) } else { None }
}
