pub use deno_core;
