//! gloam's engine core: module decoding and validation, translation of wasm to register
//! bytecode, the runtime objects of a store, and the executor.
//!
//! The public embedding API lives in the `gloam` crate; this crate has no generics over
//! the embedder's data (host functions see it as `&mut dyn Any`).
//!
//! The crate is `no_std` + `alloc`; the default feature `std` adds the thread-safe
//! engine state (see [`sync`]) and the store's leak warning. Without `std`, float
//! rounding and square roots come from `libm` (IEEE-exact, like the std methods).

#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod engine;
pub mod exec;
pub mod exn;
pub mod limits;
pub mod module;
pub mod native;
pub mod num;
pub mod ops;
mod registry;
pub mod simd;
pub mod store;
pub mod sync;
pub mod translate;
pub mod trap;
pub mod types;
mod unsupported;

/// The `alloc` items that `std`'s prelude would bring into scope.
#[allow(unused_imports)]
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::sync::Arc;
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

pub use engine::{EngineCore, RuntimeConfig};
pub use exec::invoke;
pub use exn::{ExnObject, TagInst, ThrownException};
pub use limits::{ResourceLimiter, StoreLimits, StoreLimitsBuilder, UpdateDeadline, VMLimits};
pub use module::Module;
pub use store::{ExternAddr, FuncEntity, HostFunc, StoreInner};
pub use trap::{FrameInfo, Trap, WasmBacktrace};
pub use types::{
    ExternType, FuncType, GlobalType, HeapType, MemoryType, Mutability, RefType, TableType,
    ValType, WASM_PAGE_SIZE,
};
