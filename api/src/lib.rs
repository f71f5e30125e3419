//! gloam: a portable WebAssembly runtime.
//!
//! The embedding API mirrors wasmtime's, so code written against one moves to the other
//! with little more than a crate rename:
//!
//! ```
//! use gloam::*;
//!
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"
//!     (module
//!       (import "host" "double" (func $double (param i32) (result i32)))
//!       (func (export "run") (param i32) (result i32)
//!         local.get 0
//!         call $double
//!         i32.const 1
//!         i32.add))
//! "#)?;
//! let mut store = Store::new(&engine, 0u32);
//! let mut linker = Linker::new(&engine);
//! linker.func_wrap("host", "double", |mut caller: Caller<'_, u32>, x: i32| {
//!     *caller.data_mut() += 1;
//!     x * 2
//! })?;
//! let instance = linker.instantiate(&mut store, &module)?;
//! let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
//! assert_eq!(run.call(&mut store, 20)?, 41);
//! assert_eq!(*store.data(), 1);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Execution happens in gloam's register-bytecode interpreter (`gloam-interp`): portable
//! Rust with no platform-specific code paths.

mod engine;
mod exn;
mod externals;
mod func;
mod gc;
pub mod gc_trace;
mod instance;
mod linker;
mod module;
mod store;
mod values;
pub mod wasi;
pub mod wast;

pub use anyhow::{Error, Result};
pub use engine::{Config, Engine};
pub use exn::{ExnRef, Tag, TagType, ThrownException};
pub use externals::{Extern, Global, Memory, MemoryAccessError, Table};
pub use func::{Func, IntoFunc, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy};
pub use gc::{
    ExternRef, GcEvent, GcHeapOutOfMemory, ManuallyRooted, OwnedRooted, RootKind, RootScope, Rooted,
};
pub use gloam_interp::limits::{
    DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT, ResourceLimiter,
    StoreLimits, StoreLimitsBuilder, UpdateDeadline,
};
pub use gloam_interp::{
    ExternType, FrameInfo, FuncType, GlobalType, HeapType, MemoryType, Mutability, RefType,
    TableType, Trap, ValType, WasmBacktrace,
};
#[cfg(feature = "jit")]
pub use gloam_jit::Listing as JitListing;
pub use instance::{Export, Instance};
pub use linker::Linker;
pub use module::{ExportType, ImportType, JitOutcome, Module};
pub use store::{AsContext, AsContextMut, Caller, Store, StoreContext, StoreContextMut};
pub use values::{V128, Val, ValRaw};
