//! The two synchronisation types the core needs, with one API for hosted and bare-metal
//! builds.
//!
//! With `std` these are `std::sync::{Mutex, OnceLock}` (the mutex recovers from poisoning:
//! the type registry stays consistent even if a panic interrupted a caller). Without
//! `std` they are `core::cell::{RefCell, OnceCell}`: the engine then is single-threaded
//! and its types are not `Sync`. The hosted API crate `gloam` always enables `std`.

#[cfg(feature = "std")]
pub use std::sync::OnceLock;

#[cfg(not(feature = "std"))]
pub use core::cell::OnceCell as OnceLock;

/// A mutual-exclusion lock whose `lock` cannot fail.
#[derive(Debug, Default)]
pub struct Mutex<T> {
    #[cfg(feature = "std")]
    inner: std::sync::Mutex<T>,
    #[cfg(not(feature = "std"))]
    inner: core::cell::RefCell<T>,
}

#[cfg(feature = "std")]
impl<T> Mutex<T> {
    /// Locks, recovering the data if a previous holder panicked.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, T> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(not(feature = "std"))]
impl<T> Mutex<T> {
    /// Borrows the data mutably; panics on re-entrant use (a deadlock with `std`).
    pub fn lock(&self) -> core::cell::RefMut<'_, T> {
        self.inner.borrow_mut()
    }
}
