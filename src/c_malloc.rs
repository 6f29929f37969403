//! C code's `malloc`, `calloc`, `realloc`, `free` and `malloc_usable_size`, linked in place of
//! glibc's with `-Wl,--wrap` (build.rs) for the C libraries built into this binary: QuickJS-ng and
//! SQLite. Both get mimalloc, the allocator Rust code uses; on a hook isolate's thread the
//! allocations go to its generation's heap, so what the engine leaves allocated when it is
//! dropped is freed with that heap (`rectus_hooks::engine_heap` says why).
//!
//! glibc's own calls are not wrapped (it is a shared library), so a pointer glibc allocated
//! (`strdup`, `realpath`, …) can reach `free` here: it goes back to glibc.

use libmimalloc_sys::{mi_calloc, mi_free, mi_heap_calloc, mi_heap_malloc, mi_heap_realloc, mi_is_in_heap_region, mi_malloc, mi_realloc, mi_usable_size};
use rectus_hooks::engine_heap;
use std::ffi::c_void;

extern "C" {
    fn __libc_free(p: *mut c_void);
    fn __libc_realloc(p: *mut c_void, size: usize) -> *mut c_void;
}

#[no_mangle]
unsafe extern "C" fn __wrap_malloc(size: usize) -> *mut c_void {
    let heap = engine_heap::current();
    if heap.is_null() {
        mi_malloc(size)
    } else {
        mi_heap_malloc(heap, size)
    }
}

#[no_mangle]
unsafe extern "C" fn __wrap_calloc(count: usize, size: usize) -> *mut c_void {
    let heap = engine_heap::current();
    if heap.is_null() {
        mi_calloc(count, size)
    } else {
        mi_heap_calloc(heap, count, size)
    }
}

#[no_mangle]
unsafe extern "C" fn __wrap_realloc(p: *mut c_void, size: usize) -> *mut c_void {
    if !p.is_null() && !mi_is_in_heap_region(p) {
        return __libc_realloc(p, size);
    }
    let heap = engine_heap::current();
    if heap.is_null() {
        mi_realloc(p, size)
    } else {
        mi_heap_realloc(heap, p, size)
    }
}

#[no_mangle]
unsafe extern "C" fn __wrap_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    if mi_is_in_heap_region(p) {
        mi_free(p)
    } else {
        __libc_free(p)
    }
}

/// 0 for glibc's pointers: callers (QuickJS's string appends) then just allocate anew.
#[no_mangle]
unsafe extern "C" fn __wrap_malloc_usable_size(p: *mut c_void) -> usize {
    if !p.is_null() && mi_is_in_heap_region(p) {
        mi_usable_size(p)
    } else {
        0
    }
}
