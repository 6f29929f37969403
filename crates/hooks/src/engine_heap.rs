//! A memory heap of its own for each isolate generation, thrown away whole when the generation
//! ends.
//!
//! QuickJS-ng allocates through C's `malloc`. deno_core 0.413's QuickJS facade keeps references
//! to some of an engine's objects past its teardown (the table of native functions is per thread
//! and never emptied), so `JS_FreeRuntime` leaves them allocated, and with them much of what they
//! reach: about 2–6 MB for every isolate a hook's runaway memory or loop got stopped, for ever.
//! The `rectus` binary links C code's `malloc` family to `src/c_malloc.rs`, which puts what is
//! allocated on a thread inside a [`GenerationHeap`] into that heap (mimalloc's heaps can be
//! destroyed with everything still in them). Rust's own allocations never go there: they use the
//! global allocator. Without that link (this crate's own tests) the heap just stays empty.

use libmimalloc_sys::{mi_collect, mi_heap_collect, mi_heap_destroy, mi_heap_new, mi_heap_t};
use std::cell::Cell;
use std::ptr::null_mut;

thread_local! {
    static HEAP: Cell<*mut mi_heap_t> = const { Cell::new(null_mut()) };
}

/// The heap C allocations of this thread go to, null outside a generation. Called from inside
/// `malloc`: a constant thread-local without destructor, so it never allocates itself.
#[inline]
pub fn current() -> *mut mi_heap_t {
    HEAP.with(Cell::get)
}

/// Sends this thread's C allocations to the normal heap again. Called before an engine is torn
/// down: what the teardown allocates (the facade copies array buffers Rust still holds out of
/// the engine's memory) must outlive the generation's heap.
pub fn stop_routing() {
    HEAP.with(|h| h.set(null_mut()));
}

/// Gives the pages this thread freed back to the system: those of its default heap (Rust's
/// allocations) and of its generation heap (the engine's), which `mi_collect` alone never visits.
pub fn collect() {
    // SAFETY: takes no pointers but a heap this thread created and still routes to.
    unsafe {
        mi_collect(true);
        let heap = current();
        if !heap.is_null() {
            mi_heap_collect(heap, true);
        }
    }
}

/// Routes this thread's C allocations to a new heap until dropped; dropping destroys the heap
/// with whatever is still in it. Create it before the engine and drop it after the engine
/// (and everything that may touch its values) is gone, on the same thread.
pub struct GenerationHeap(*mut mi_heap_t);

impl GenerationHeap {
    pub fn enter() -> Self {
        // SAFETY: mi_heap_new has no preconditions; the heap belongs to this thread.
        let heap = unsafe { mi_heap_new() };
        HEAP.with(|h| h.set(heap));
        GenerationHeap(heap)
    }
}

impl Drop for GenerationHeap {
    fn drop(&mut self) {
        stop_routing();
        if !self.0.is_null() {
            // SAFETY: created by this thread in `enter`; the engine that used it is gone.
            unsafe { mi_heap_destroy(self.0) };
        }
    }
}
