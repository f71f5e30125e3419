//! gloam's baseline JIT tier.
//!
//! Not implemented yet: with the `jit` feature on, every function still runs in the
//! interpreter. The JIT will compile a function's register bytecode (from `gloam-interp`)
//! to native code with the interpreter's frame layout.

/// Whether this build can compile to native code. Always `false` until a backend exists.
pub const AVAILABLE: bool = false;
