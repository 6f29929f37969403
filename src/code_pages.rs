//! The binary's pages that only start-up needed, given back once the server is up.
//!
//! Start-up runs code and reads data from all over the binary (the engine's compiler and
//! loaders, the migrations and schema reading, the JS it embeds: the runtime, the Node
//! built-ins' bundle, knex), and Linux maps the 64 KB around every page touched (fault-around).
//! All of it stayed mapped: 25–30 MB of an idle server with the example hooks, most of it never
//! used again. Once the server listens, [`trim`] unmaps the binary's code and read-only data;
//! what runs later faults its pages back in from the page cache. Nothing is lost: those pages
//! are clean copies of the file.

use std::io::{BufRead, BufReader};

/// Unmaps the binary's code and read-only data; returns how many KB of them were resident.
pub fn trim() -> std::io::Result<u64> {
    let exe = std::fs::read_link("/proc/self/exe")?;
    let exe = exe.to_string_lossy();
    let mut trimmed = 0;
    for mapping in mappings()? {
        // A writable mapping, or one written before it was made read-only (RELRO: relocated
        // pointers), holds the process's own copies of pages: unmapping them would lose them.
        if mapping.path != exe || mapping.writable || mapping.anonymous_kb > 0 {
            continue;
        }
        let len = mapping.end - mapping.start;
        // SAFETY: the range is one whole mapping of this process's binary, code or read-only
        // data without private copies of pages: dropping its pages only makes the next access
        // read them again from the file.
        if unsafe { libc::madvise(mapping.start as *mut libc::c_void, len, libc::MADV_DONTNEED) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        trimmed += mapping.rss_kb;
    }
    Ok(trimmed)
}

struct Mapping {
    start: usize,
    end: usize,
    writable: bool,
    path: String,
    rss_kb: u64,
    anonymous_kb: u64,
}

/// This process's mappings, from `/proc/self/smaps`.
fn mappings() -> std::io::Result<Vec<Mapping>> {
    let smaps = BufReader::new(std::fs::File::open("/proc/self/smaps")?);
    let mut found: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let line = line?;
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if let Some((start, end)) = first.split_once('-').and_then(|(s, e)| Some((usize::from_str_radix(s, 16).ok()?, usize::from_str_radix(e, 16).ok()?))) {
            let perms = fields.next().unwrap_or("");
            let path = fields.skip(3).collect::<Vec<_>>().join(" ");
            found.push(Mapping { start, end, writable: perms.contains('w'), path, rss_kb: 0, anonymous_kb: 0 });
            continue;
        }
        let kb = || fields.clone().next().and_then(|v| v.parse().ok()).unwrap_or(0);
        if let Some(mapping) = found.last_mut() {
            match first {
                "Rss:" => mapping.rss_kb = kb(),
                "Anonymous:" => mapping.anonymous_kb = kb(),
                _ => {}
            }
        }
    }
    Ok(found)
}
