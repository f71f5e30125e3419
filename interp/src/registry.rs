//! The engine's type registry: one canonical id per defined type, across modules.
//!
//! Wasm 3.0 types are iso-recursive: a type is defined inside a recursion group (`rec`;
//! a type outside one is a group of one), and two types are equivalent when their groups
//! are structurally equal, with references to types of the same group compared by
//! position in the group and references to other types by identity. So the registry
//! interns whole groups: a group's key is its types with in-group references as
//! positions (`CVal::Rec`) and outside references as the engine ids they already have
//! (`CVal::Val`). Equal keys give equal ids, and the `call_indirect` signature check and
//! import matching compare ids.
//!
//! Struct and array types (GC proposal) are interned too, so groups mixing them with
//! function types canonicalize correctly; gloam has no instruction that creates such
//! values, so references to them are only ever null. Declared supertypes are refused.

use crate::prelude::*;
use crate::types::{FuncType, HeapType, RefType, ValType};
use hashbrown::HashMap;

/// A value type in a group's key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum CVal {
    /// A type not referring to the group itself (concrete ids are engine ids).
    Val(ValType),
    /// A reference to type `index` of the same group.
    Rec { nullable: bool, index: u32 },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum CStorage {
    I8,
    I16,
    Val(CVal),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum CComposite {
    Func(Box<[CVal]>, Box<[CVal]>),
    Struct(Box<[(CStorage, bool)]>),
    Array(CStorage, bool),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CSub {
    is_final: bool,
    composite: CComposite,
}

/// A registered type: its heap type (carrying its id) and, for a function type, the
/// function type with engine ids in its references (an empty placeholder otherwise).
#[derive(Clone, Debug)]
pub struct Registered {
    pub heap: HeapType,
    pub func: FuncType,
}

#[derive(Debug, Default)]
pub(crate) struct TypeRegistry {
    groups: HashMap<Box<[CSub]>, u32>,
    types: Vec<Registered>,
}

impl TypeRegistry {
    /// Interns a host function type: a final function type alone in its group, like a
    /// module's `(type (func ...))`.
    pub fn intern_func(&mut self, ty: &FuncType) -> u32 {
        let conv = |ts: &[ValType]| ts.iter().map(|t| CVal::Val(*t)).collect();
        let key = CSub {
            is_final: true,
            composite: CComposite::Func(conv(ty.params()), conv(ty.results())),
        };
        self.intern(Box::new([key]))
    }

    /// Interns a module's recursion group whose first type has module index `start`;
    /// `heaps` holds the heap types of the module's earlier types. Returns the group's
    /// types.
    pub fn intern_group(
        &mut self,
        group: &wasmparser::RecGroup,
        start: u32,
        heaps: &[HeapType],
    ) -> Result<Vec<Registered>, String> {
        let n = group.types().len() as u32;
        let val = |t: &wasmparser::ValType| -> Result<CVal, String> {
            if let wasmparser::ValType::Ref(r) = t
                && let wasmparser::HeapType::Concrete(wasmparser::UnpackedIndex::Module(i)) =
                    r.heap_type()
                && (start..start + n).contains(&i)
            {
                return Ok(CVal::Rec {
                    nullable: r.is_nullable(),
                    index: i - start,
                });
            }
            ValType::from_wasmparser(*t, heaps).map(CVal::Val)
        };
        let storage = |f: &wasmparser::FieldType| -> Result<(CStorage, bool), String> {
            let s = match &f.element_type {
                wasmparser::StorageType::I8 => CStorage::I8,
                wasmparser::StorageType::I16 => CStorage::I16,
                wasmparser::StorageType::Val(v) => CStorage::Val(val(v)?),
            };
            Ok((s, f.mutable))
        };
        let mut key = Vec::with_capacity(n as usize);
        for sub in group.types() {
            if !sub.supertype_idxs.is_empty() {
                return Err("declared subtypes (GC proposal) are not supported".into());
            }
            let c = &sub.composite_type;
            if c.shared || c.descriptor_idx.is_some() || c.describes_idx.is_some() {
                return Err("shared and descriptor types are not supported".into());
            }
            let composite = match &c.inner {
                wasmparser::CompositeInnerType::Func(f) => {
                    let conv = |ts: &[wasmparser::ValType]| {
                        ts.iter().map(val).collect::<Result<Box<[_]>, _>>()
                    };
                    CComposite::Func(conv(f.params())?, conv(f.results())?)
                }
                wasmparser::CompositeInnerType::Struct(s) => {
                    CComposite::Struct(s.fields.iter().map(storage).collect::<Result<_, _>>()?)
                }
                wasmparser::CompositeInnerType::Array(a) => {
                    let (s, m) = storage(&a.0)?;
                    CComposite::Array(s, m)
                }
                wasmparser::CompositeInnerType::Cont(_) => {
                    return Err("continuation types are not supported".into());
                }
            };
            key.push(CSub {
                is_final: sub.is_final,
                composite,
            });
        }
        let base = self.intern(key.into_boxed_slice());
        Ok((base..base + n)
            .map(|id| self.types[id as usize].clone())
            .collect())
    }

    /// The id of the first type of the group `key`, registering the group if new.
    fn intern(&mut self, key: Box<[CSub]>) -> u32 {
        if let Some(&base) = self.groups.get(&key) {
            return base;
        }
        let base = self.types.len() as u32;
        let heap = |index: u32| {
            let id = base + index;
            match key[index as usize].composite {
                CComposite::Func(..) => HeapType::ConcreteFunc(id),
                CComposite::Struct(_) => HeapType::ConcreteStruct(id),
                CComposite::Array(..) => HeapType::ConcreteArray(id),
            }
        };
        let resolve = |v: &CVal| match *v {
            CVal::Val(t) => t,
            CVal::Rec { nullable, index } => ValType::from_ref(RefType::new(nullable, heap(index))),
        };
        for (i, sub) in key.iter().enumerate() {
            let func = match &sub.composite {
                CComposite::Func(p, r) => {
                    FuncType::new(p.iter().map(resolve), r.iter().map(resolve))
                }
                _ => FuncType::new([], []),
            };
            self.types.push(Registered {
                heap: heap(i as u32),
                func,
            });
        }
        self.groups.insert(key, base);
        base
    }

    /// The function type of id `id` (empty for a struct or array type).
    pub fn func_type(&self, id: u32) -> Option<&FuncType> {
        self.types.get(id as usize).map(|r| &r.func)
    }
}
