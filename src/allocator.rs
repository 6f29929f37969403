//! The process's allocator: mimalloc, for Rust and (through `c_malloc`) the C libraries.

/// Requests allocate and free many small objects across threads (JSON values, rows, futures);
/// mimalloc's thread-local free lists cost less there than glibc's arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` in mimalloc 3's `mi_option_e` (the Rust bindings still number
/// the options as mimalloc 2 did).
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Memory committed on demand. By default mimalloc commits its arenas up front on Linux and keeps
/// what was touched once resident: an idle server with the example hooks held 127 MB instead of
/// 77 MB, what start-up and every isolate rebuild had used at their peak. mimalloc reserves its
/// first arena at the first allocation, before `main`, so this runs as a constructor.
#[used]
#[link_section = ".init_array"]
static TUNE: extern "C" fn() = tune;

extern "C" fn tune() {
    // SAFETY: sets a process-wide option; mimalloc reads it when it reserves an arena.
    unsafe { libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0) }
}
