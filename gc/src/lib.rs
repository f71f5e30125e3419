//! gloam's `externref` heap.
//!
//! # The model
//!
//! Every `externref` that wasm or the host holds is a [`VMGcRef`]: a non-zero `u32` index
//! into one [`GcHeap`] per store. `0` is the null reference, so `Option<VMGcRef>` is four
//! bytes and a null `externref` in a frame cell, table slot or global is the cell value 0.
//!
//! An object is the host's value (`Box<dyn Any + Send + Sync>`) in an arena slot. Freed
//! slots go on a free list and are reused. The heap has a limit on live objects; an
//! allocation past it fails and hands the value back to the caller instead of collecting
//! by itself, so the embedder decides when a collection happens.
//!
//! This crate is the foundation's version of the heap: allocation, lookup and the limit.
//! Rooting (the LIFO root stack, manual roots, stack maps over wasm frames) and the
//! mark & sweep collector build on this arena.

#![forbid(unsafe_code)]

use std::any::Any;
use std::num::NonZeroU32;

/// A reference to an object in a [`GcHeap`]: a non-zero slot index plus one.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VMGcRef(NonZeroU32);

impl VMGcRef {
    /// The raw cell value of this reference (never 0).
    pub fn as_raw(self) -> u32 {
        self.0.get()
    }

    /// Rebuilds a reference from a cell value; `0` (null) gives `None`.
    pub fn from_raw(raw: u32) -> Option<VMGcRef> {
        NonZeroU32::new(raw).map(VMGcRef)
    }

    fn slot(self) -> usize {
        (self.0.get() - 1) as usize
    }
}

/// Host data stored in the heap.
pub type HostData = Box<dyn Any + Send + Sync>;

struct Slot {
    data: Option<HostData>,
}

/// An arena of host objects addressed by [`VMGcRef`].
pub struct GcHeap {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    limit: usize,
}

impl Default for GcHeap {
    fn default() -> Self {
        GcHeap::new(usize::MAX)
    }
}

impl GcHeap {
    /// A heap that holds at most `limit` live objects.
    pub fn new(limit: usize) -> GcHeap {
        GcHeap {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            limit,
        }
    }

    /// Number of live objects.
    pub fn live(&self) -> usize {
        self.live
    }

    /// The maximum number of live objects.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Allocates an object. When the heap is full the value comes back as `Err`.
    pub fn alloc(&mut self, data: HostData) -> Result<VMGcRef, HostData> {
        if self.live >= self.limit {
            return Err(data);
        }
        let index = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize].data = Some(data);
                i as usize
            }
            None => {
                if self.slots.len() >= (u32::MAX - 1) as usize {
                    return Err(data);
                }
                self.slots.push(Slot { data: Some(data) });
                self.slots.len() - 1
            }
        };
        self.live += 1;
        let raw = NonZeroU32::new(index as u32 + 1).expect("index + 1 is non-zero");
        Ok(VMGcRef(raw))
    }

    /// The host data behind `r`, or `None` when `r` does not name a live object.
    pub fn get(&self, r: VMGcRef) -> Option<&(dyn Any + Send + Sync)> {
        self.slots.get(r.slot())?.data.as_deref()
    }

    /// Mutable access to the host data behind `r`.
    pub fn get_mut(&mut self, r: VMGcRef) -> Option<&mut (dyn Any + Send + Sync)> {
        self.slots.get_mut(r.slot())?.data.as_deref_mut()
    }

    /// Whether `r` names a live object of this heap.
    pub fn contains(&self, r: VMGcRef) -> bool {
        self.get(r).is_some()
    }

    /// Frees the object behind `r`, dropping its host data. Returns whether it was live.
    pub fn free(&mut self, r: VMGcRef) -> bool {
        match self.slots.get_mut(r.slot()) {
            Some(slot) if slot.data.is_some() => {
                slot.data = None;
                self.free.push(r.slot() as u32);
                self.live -= 1;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_get_free_reuse() {
        let mut heap = GcHeap::new(2);
        let a = heap.alloc(Box::new(1u32)).unwrap();
        let b = heap.alloc(Box::new("two")).unwrap();
        assert_ne!(a, b);
        assert_eq!(heap.get(a).unwrap().downcast_ref::<u32>(), Some(&1));
        // Full: the value comes back.
        let back = heap.alloc(Box::new(3u64)).unwrap_err();
        assert_eq!(back.downcast_ref::<u64>(), Some(&3));
        assert!(heap.free(a));
        assert!(!heap.free(a));
        assert!(heap.get(a).is_none());
        let c = heap.alloc(Box::new(4u8)).unwrap();
        assert_eq!(c, a, "freed slot is reused");
        assert_eq!(heap.live(), 2);
        assert_eq!(VMGcRef::from_raw(0), None);
        assert_eq!(VMGcRef::from_raw(c.as_raw()), Some(c));
    }
}
