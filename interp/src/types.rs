//! Value and entity types, independent of `wasmparser`'s representation.

use crate::prelude::*;
use core::fmt;

/// The type of a WebAssembly value.
///
/// `FuncRef` and `ExternRef` are the nullable abstract reference types of Wasm 2.0;
/// `Ref` describes the other reference types of the typed function references proposal
/// (Wasm 3.0). `Ref` of a nullable `func` or `extern` heap type *is* `FuncRef` or
/// `ExternRef`: equality and hashing treat the two spellings alike.
#[derive(Copy, Clone, Debug, Eq)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
    /// A nullable exception reference (Wasm 3.0 exception handling): a heap index like
    /// an `externref`, naming an exception object (see `exn`); 0 is null.
    ExnRef,
    Ref(RefType),
}

/// A reference type: a heap type, and whether null is a value of it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct RefType {
    pub nullable: bool,
    pub heap_type: HeapType,
}

/// What a reference points to. Concrete types are named by their engine-wide canonical
/// id (equal ids: equivalent types, across modules); `Module` and `Func::ty` report
/// them, and `EngineCore::register_type` gives one for a host function type.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum HeapType {
    /// Any function.
    Func,
    /// Any external (host) reference.
    Extern,
    /// The bottom of the function types: only null.
    NoFunc,
    /// The bottom of the extern type: only null.
    NoExtern,
    /// Any exception.
    Exn,
    /// The bottom of the exception type: only null.
    NoExn,
    /// A function of the function type with this id.
    ConcreteFunc(u32),
    /// A struct of this type (GC proposal: such references can only be null here).
    ConcreteStruct(u32),
    /// An array of this type (GC proposal: such references can only be null here).
    ConcreteArray(u32),
}

impl HeapType {
    /// The canonical id of a concrete type (0 for an abstract one).
    pub fn id(self) -> u32 {
        match self {
            HeapType::ConcreteFunc(id)
            | HeapType::ConcreteStruct(id)
            | HeapType::ConcreteArray(id) => id,
            _ => 0,
        }
    }

    /// The top of the hierarchy this type belongs to: `Func` or `Extern` (`None` for
    /// struct and array types, whose top `any` gloam does not support).
    pub fn top(self) -> Option<HeapType> {
        match self {
            HeapType::Func | HeapType::NoFunc | HeapType::ConcreteFunc(_) => Some(HeapType::Func),
            HeapType::Extern | HeapType::NoExtern => Some(HeapType::Extern),
            HeapType::Exn | HeapType::NoExn => Some(HeapType::Exn),
            HeapType::ConcreteStruct(_) | HeapType::ConcreteArray(_) => None,
        }
    }

    /// Whether every value of `self` is a value of `other` (no declared subtypes: a
    /// concrete type matches itself and its top, and a bottom type every type below its
    /// top).
    pub fn matches(self, other: HeapType) -> bool {
        self == other
            || match self {
                HeapType::ConcreteFunc(_) => other == HeapType::Func,
                HeapType::NoFunc => other.top() == Some(HeapType::Func),
                HeapType::NoExtern => other == HeapType::Extern,
                HeapType::NoExn => other == HeapType::Exn,
                _ => false,
            }
    }
}

impl RefType {
    pub const FUNCREF: RefType = RefType::new(true, HeapType::Func);
    pub const EXTERNREF: RefType = RefType::new(true, HeapType::Extern);
    pub const EXNREF: RefType = RefType::new(true, HeapType::Exn);

    pub const fn new(nullable: bool, heap_type: HeapType) -> RefType {
        RefType {
            nullable,
            heap_type,
        }
    }

    /// Subtyping: `self <: other`.
    pub fn matches(self, other: RefType) -> bool {
        (!self.nullable || other.nullable) && self.heap_type.matches(other.heap_type)
    }
}

impl ValType {
    /// Whether values of this type are references.
    pub fn is_ref(self) -> bool {
        self.as_ref().is_some()
    }

    /// Number of 8-byte frame cells a value of this type occupies.
    pub fn cells(self) -> usize {
        // A pattern, not `==`: equality goes through `as_ref` (the translator asks for
        // the cells of nearly every operand).
        if matches!(self, ValType::V128) { 2 } else { 1 }
    }

    /// The reference type, if this is one (`FuncRef` as `(ref null func)`).
    pub fn as_ref(self) -> Option<RefType> {
        match self {
            ValType::FuncRef => Some(RefType::FUNCREF),
            ValType::ExternRef => Some(RefType::EXTERNREF),
            ValType::ExnRef => Some(RefType::EXNREF),
            ValType::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// The value type of a reference type, spelled `FuncRef`/`ExternRef` where it is one.
    pub fn from_ref(r: RefType) -> ValType {
        match r {
            RefType::FUNCREF => ValType::FuncRef,
            RefType::EXTERNREF => ValType::ExternRef,
            RefType::EXNREF => ValType::ExnRef,
            r => ValType::Ref(r),
        }
    }

    /// Whether values of this type are GC heap references (`externref`s and `exnref`s,
    /// nullable or not): what stack maps, globals and tables root.
    pub fn is_gc_ref(self) -> bool {
        self.as_ref()
            .is_some_and(|r| matches!(r.heap_type, HeapType::Extern | HeapType::Exn))
    }

    /// Whether values of this type are `externref` heap handles (GC roots).
    pub fn is_extern_ref(self) -> bool {
        self.as_ref()
            .is_some_and(|r| r.heap_type == HeapType::Extern)
    }

    /// Whether values of this type are function references (store function address + 1,
    /// 0 for null).
    pub fn is_func_ref(self) -> bool {
        self.as_ref()
            .is_some_and(|r| r.heap_type.top() == Some(HeapType::Func))
    }

    /// Whether null is a value of this type (and the default of a local of it): numeric
    /// types and nullable references.
    pub fn defaultable(self) -> bool {
        self.as_ref().is_none_or(|r| r.nullable)
    }

    /// Subtyping: `self <: other`.
    pub fn matches(self, other: ValType) -> bool {
        match (self.as_ref(), other.as_ref()) {
            (Some(a), Some(b)) => a.matches(b),
            _ => self == other,
        }
    }

    /// Converts a `wasmparser` type. `heaps` gives the heap type of each of the module's
    /// type indices (see `Module::heap_types`).
    pub(crate) fn from_wasmparser(
        ty: wasmparser::ValType,
        heaps: &[HeapType],
    ) -> Result<ValType, String> {
        use wasmparser::ValType as W;
        Ok(match ty {
            W::I32 => ValType::I32,
            W::I64 => ValType::I64,
            W::F32 => ValType::F32,
            W::F64 => ValType::F64,
            W::V128 => ValType::V128,
            W::Ref(r) => ValType::from_ref_type(r, heaps)?,
        })
    }

    pub(crate) fn from_ref_type(
        r: wasmparser::RefType,
        heaps: &[HeapType],
    ) -> Result<ValType, String> {
        let heap = heap_type(r.heap_type(), heaps)?;
        Ok(ValType::from_ref(RefType::new(r.is_nullable(), heap)))
    }
}

/// Converts a `wasmparser` heap type (module type indices through `heaps`). The abstract
/// heap types of the GC proposal are not supported.
pub(crate) fn heap_type(h: wasmparser::HeapType, heaps: &[HeapType]) -> Result<HeapType, String> {
    use wasmparser::AbstractHeapType as A;
    match h {
        wasmparser::HeapType::Abstract { shared: false, ty } => match ty {
            A::Func => Ok(HeapType::Func),
            A::Extern => Ok(HeapType::Extern),
            A::NoFunc => Ok(HeapType::NoFunc),
            A::NoExtern => Ok(HeapType::NoExtern),
            A::Exn => Ok(HeapType::Exn),
            A::NoExn => Ok(HeapType::NoExn),
            other => Err(format!(
                "heap type `{other:?}` is not supported (GC proposal: not built yet)"
            )),
        },
        wasmparser::HeapType::Concrete(wasmparser::UnpackedIndex::Module(i)) => heaps
            .get(i as usize)
            .copied()
            .ok_or_else(|| format!("unknown type {i}")),
        other => Err(format!("heap type {other:?} is not supported")),
    }
}

impl PartialEq for ValType {
    fn eq(&self, other: &ValType) -> bool {
        match (self.as_ref(), other.as_ref()) {
            (Some(a), Some(b)) => a == b,
            (None, None) => core::mem::discriminant(self) == core::mem::discriminant(other),
            _ => false,
        }
    }
}

impl core::hash::Hash for ValType {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        match self.as_ref() {
            Some(r) => r.hash(state),
            None => core::mem::discriminant(self).hash(state),
        }
    }
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapType::Func => f.write_str("func"),
            HeapType::Extern => f.write_str("extern"),
            HeapType::NoFunc => f.write_str("nofunc"),
            HeapType::NoExtern => f.write_str("noextern"),
            HeapType::Exn => f.write_str("exn"),
            HeapType::NoExn => f.write_str("noexn"),
            // Engine type ids, which are not the module's type indices.
            HeapType::ConcreteFunc(id) => write!(f, "<func type #{id}>"),
            HeapType::ConcreteStruct(id) => write!(f, "<struct type #{id}>"),
            HeapType::ConcreteArray(id) => write!(f, "<array type #{id}>"),
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
            ValType::Ref(r) => {
                return match *r {
                    RefType::FUNCREF => f.write_str("funcref"),
                    RefType::EXTERNREF => f.write_str("externref"),
                    RefType::EXNREF => f.write_str("exnref"),
                    RefType {
                        nullable: true,
                        heap_type,
                    } => write!(f, "(ref null {heap_type})"),
                    RefType {
                        nullable: false,
                        heap_type,
                    } => write!(f, "(ref {heap_type})"),
                };
            }
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
    /// Indexed by `i64` (memory64 proposal) rather than `i32`.
    pub table64: bool,
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

    /// A 64-bit memory (indexed by `i64`) of `min` pages, growable up to `max`.
    pub fn new64(min: u64, max: Option<u64>) -> MemoryType {
        MemoryType {
            min,
            max,
            memory64: true,
            shared: false,
        }
    }

    /// Whether addresses into this memory are `i64`s.
    pub fn is_64(&self) -> bool {
        self.memory64
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
            table64: false,
        }
    }

    /// A table indexed by `i64`.
    pub fn new64(element: ValType, min: u64, max: Option<u64>) -> TableType {
        TableType {
            element,
            min,
            max,
            table64: true,
        }
    }

    /// Whether indices into this table are `i64`s.
    pub fn is_64(&self) -> bool {
        self.table64
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
