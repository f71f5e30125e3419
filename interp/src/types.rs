//! Value and entity types, independent of `wasmparser`'s representation.

use crate::prelude::*;
use core::fmt;

/// The type of a WebAssembly value.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
    /// An exception reference (Wasm 3.0 exception handling): a heap index like an
    /// `externref`, naming an exception object (see `exn`); 0 is null.
    ExnRef,
}

impl ValType {
    /// Whether values of this type are references.
    pub fn is_ref(self) -> bool {
        matches!(
            self,
            ValType::FuncRef | ValType::ExternRef | ValType::ExnRef
        )
    }

    /// Whether values of this type are GC heap references (`externref`, `exnref`): what
    /// stack maps, globals and tables root.
    pub fn is_gc_ref(self) -> bool {
        matches!(self, ValType::ExternRef | ValType::ExnRef)
    }

    /// Number of 8-byte frame cells a value of this type occupies.
    pub fn cells(self) -> usize {
        if self == ValType::V128 { 2 } else { 1 }
    }

    pub(crate) fn from_wasmparser(ty: wasmparser::ValType) -> Result<ValType, String> {
        use wasmparser::ValType as W;
        Ok(match ty {
            W::I32 => ValType::I32,
            W::I64 => ValType::I64,
            W::F32 => ValType::F32,
            W::F64 => ValType::F64,
            W::V128 => ValType::V128,
            W::Ref(r) => ValType::from_ref_type(r)?,
        })
    }

    pub(crate) fn from_ref_type(r: wasmparser::RefType) -> Result<ValType, String> {
        if r.is_func_ref() {
            Ok(ValType::FuncRef)
        } else if r.is_extern_ref() {
            Ok(ValType::ExternRef)
        } else if matches!(
            r.heap_type(),
            wasmparser::HeapType::Abstract {
                shared: false,
                ty: wasmparser::AbstractHeapType::Exn | wasmparser::AbstractHeapType::NoExn
            }
        ) {
            // `(ref exn)` too: validation keeps nulls out, the representation is the same.
            Ok(ValType::ExnRef)
        } else {
            Err(format!("unsupported reference type {r:?}"))
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
            ValType::ExnRef => "exnref",
        })
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

impl FuncType {
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }

    pub fn params(&self) -> &[ValType] {
        &self.params
    }

    pub fn results(&self) -> &[ValType] {
        &self.results
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(func")?;
        if !self.params.is_empty() {
            write!(f, " (param")?;
            for p in self.params.iter() {
                write!(f, " {p}")?;
            }
            write!(f, ")")?;
        }
        if !self.results.is_empty() {
            write!(f, " (result")?;
            for r in self.results.iter() {
                write!(f, " {r}")?;
            }
            write!(f, ")")?;
        }
        write!(f, ")")
    }
}

/// Limits of a table: element type, minimum and optional maximum size.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TableType {
    pub element: ValType,
    pub min: u64,
    pub max: Option<u64>,
}

/// Limits of a linear memory, in 64 KiB pages.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct MemoryType {
    pub min: u64,
    pub max: Option<u64>,
    pub memory64: bool,
    pub shared: bool,
}

/// The type of a global.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct GlobalType {
    pub content: ValType,
    pub mutable: bool,
}

/// The kind of an import or export together with its type.
#[derive(Clone, Debug, PartialEq)]
pub enum ExternType {
    Func(FuncType),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    /// An exception tag, with the function type of its payload (no results).
    Tag(FuncType),
}

impl ExternType {
    pub fn kind_name(&self) -> &'static str {
        match self {
            ExternType::Func(_) => "function",
            ExternType::Table(_) => "table",
            ExternType::Memory(_) => "memory",
            ExternType::Global(_) => "global",
            ExternType::Tag(_) => "tag",
        }
    }
}

/// Size of a wasm page in bytes.
pub const WASM_PAGE_SIZE: u64 = 65536;

/// Whether a global can be written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mutability {
    Const,
    Var,
}

impl GlobalType {
    pub fn new(content: ValType, mutability: Mutability) -> GlobalType {
        GlobalType {
            content,
            mutable: mutability == Mutability::Var,
        }
    }

    pub fn content(&self) -> &ValType {
        &self.content
    }

    pub fn mutability(&self) -> Mutability {
        if self.mutable {
            Mutability::Var
        } else {
            Mutability::Const
        }
    }
}

impl MemoryType {
    /// A 32-bit memory of `min` pages, growable up to `max`.
    pub fn new(min: u32, max: Option<u32>) -> MemoryType {
        MemoryType {
            min: min as u64,
            max: max.map(u64::from),
            memory64: false,
            shared: false,
        }
    }

    pub fn minimum(&self) -> u64 {
        self.min
    }

    pub fn maximum(&self) -> Option<u64> {
        self.max
    }
}

impl TableType {
    /// A table of `element` references (`FuncRef` or `ExternRef`).
    pub fn new(element: ValType, min: u32, max: Option<u32>) -> TableType {
        TableType {
            element,
            min: min as u64,
            max: max.map(u64::from),
        }
    }

    pub fn element(&self) -> &ValType {
        &self.element
    }

    pub fn minimum(&self) -> u64 {
        self.min
    }

    pub fn maximum(&self) -> Option<u64> {
        self.max
    }
}
