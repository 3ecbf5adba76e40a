//! Build script of every package with a binary: link options that make its binaries smaller
//! and quicker to load, for the 8 MB budget (docs/performance.md, "Smaller binaries"). They
//! only change the final link of `[[bin]]` targets: tests, build scripts and proc macros are
//! linked as before.
//!
//! - `-no-pie`: a position-dependent executable. A position-independent one carries a dynamic
//!   relocation for every pointer in its data (vtables, string tables, the AWS SDK's schemas),
//!   0.7-0.8 MB per binary, which the loader applies at every start. The code stays compiled
//!   position-independent (rustc's default relocation model; `-C relocation-model=static` in
//!   rustflags would reach the proc macros too, which are shared objects and then fail to
//!   link). The executable's own code is always loaded at the same address (libraries, stack
//!   and heap are still randomised).
//! - `--no-eh-frame-hdr`: no look-up table for the unwind tables (0.12 MB). With
//!   `panic = "abort"` nothing unwinds; the table only let a backtrace walk the stack, and the
//!   stripped binaries cannot name a frame anyway. The unwind tables themselves stay: fat LTO
//!   writes them for every function because the standard library is built with them
//!   (`-C force-unwind-tables=no` was tried and changed nothing).
//! - For `warden` only, identical code folding (`--icf=all`, 0.12 MB), which the CLI needs to
//!   stay under 8 MB: an lld option, so only where rustc links with its own lld (x86_64 Linux
//!   with no linker configured). Zig, which cargo-lambda links the functions with, refuses it.
//!
//! The C compiler driver rustc calls, lld, GNU ld and Zig all take the first two (Zig accepts
//! `--no-eh-frame-hdr` but keeps the index).

fn main() {
    // Only the script itself (which cargo watches) and the target matter, not the package's
    // files.
    println!("cargo::rerun-if-changed=Cargo.toml");
    let var = |name| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux" {
        return;
    }
    println!("cargo::rustc-link-arg-bins=-no-pie");
    println!("cargo::rustc-link-arg-bins=-Wl,--no-eh-frame-hdr");
    if var("CARGO_PKG_NAME") == "session-warden"
        && var("TARGET") == "x86_64-unknown-linux-gnu"
        && std::env::var_os("RUSTC_LINKER").is_none()
    {
        println!("cargo::rustc-link-arg-bins=-Wl,--icf=all");
    }
}
