//! gloam's engine core: module decoding and validation, translation of wasm to register
//! bytecode, the runtime objects of a store, and the executor.
//!
//! The public embedding API lives in the `gloam` crate; this crate has no generics over
//! the embedder's data (host functions see it as `&mut dyn Any`).

pub mod engine;
pub mod exec;
pub mod module;
pub mod num;
pub mod ops;
pub mod simd;
pub mod store;
pub mod translate;
pub mod trap;
pub mod types;

pub use engine::{EngineCore, RuntimeConfig};
pub use exec::invoke;
pub use module::Module;
pub use store::{ExternAddr, FuncEntity, HostFunc, StoreInner};
pub use trap::{FrameInfo, Trap, WasmBacktrace};
pub use types::{
    ExternType, FuncType, GlobalType, MemoryType, Mutability, TableType, ValType, WASM_PAGE_SIZE,
};
