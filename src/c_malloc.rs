//! C code's `malloc`, `calloc`, `realloc`, `free` and `malloc_usable_size`, linked in place of
//! glibc's with `-Wl,--wrap` (build.rs) for the C libraries built into this binary (QuickJS-ng,
//! SQLite). On a hook isolate's thread, while a generation runs, allocations go to that
//! generation's mimalloc heap, so what the engine leaves allocated when it is dropped is freed
//! with the heap (`rectus_hooks::engine_heap` says why). Everywhere else they stay glibc's.
//!
//! `free` and `realloc` tell the two apart by address: mimalloc knows its own memory.

use libmimalloc_sys::{mi_free, mi_heap_calloc, mi_heap_malloc, mi_heap_realloc, mi_is_in_heap_region, mi_realloc, mi_usable_size};
use rectus_hooks::engine_heap;
use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};

extern "C" {
    fn __libc_malloc(size: usize) -> *mut c_void;
    fn __libc_calloc(count: usize, size: usize) -> *mut c_void;
    fn __libc_free(p: *mut c_void);
    fn __libc_realloc(p: *mut c_void, size: usize) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const std::ffi::c_char) -> *mut c_void;
}

/// glibc's `malloc_usable_size`, which it exports under no other name: looked up past this
/// binary, where the wrapped name points back here.
fn glibc_malloc_usable_size() -> unsafe extern "C" fn(*mut c_void) -> usize {
    static FOUND: AtomicPtr<c_void> = AtomicPtr::new(null_mut());
    let mut f = FOUND.load(Ordering::Relaxed);
    if f.is_null() {
        const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;
        // SAFETY: a NUL-terminated name; glibc always defines it.
        f = unsafe { dlsym(RTLD_NEXT, c"malloc_usable_size".as_ptr()) };
        FOUND.store(f, Ordering::Relaxed);
    }
    // SAFETY: the address of glibc's `size_t malloc_usable_size(void *)`.
    unsafe { std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void) -> usize>(f) }
}

#[no_mangle]
unsafe extern "C" fn __wrap_malloc(size: usize) -> *mut c_void {
    let heap = engine_heap::current();
    if heap.is_null() {
        __libc_malloc(size)
    } else {
        mi_heap_malloc(heap, size)
    }
}

#[no_mangle]
unsafe extern "C" fn __wrap_calloc(count: usize, size: usize) -> *mut c_void {
    let heap = engine_heap::current();
    if heap.is_null() {
        __libc_calloc(count, size)
    } else {
        mi_heap_calloc(heap, count, size)
    }
}

#[no_mangle]
unsafe extern "C" fn __wrap_realloc(p: *mut c_void, size: usize) -> *mut c_void {
    if p.is_null() {
        return __wrap_malloc(size);
    }
    let heap = engine_heap::current();
    match (mi_is_in_heap_region(p), heap.is_null()) {
        (false, _) => __libc_realloc(p, size),
        (true, true) => mi_realloc(p, size),
        (true, false) => mi_heap_realloc(heap, p, size),
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

#[no_mangle]
unsafe extern "C" fn __wrap_malloc_usable_size(p: *mut c_void) -> usize {
    if !p.is_null() && mi_is_in_heap_region(p) {
        mi_usable_size(p)
    } else {
        glibc_malloc_usable_size()(p)
    }
}
