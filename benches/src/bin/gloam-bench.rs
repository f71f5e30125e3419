//! `gloam-bench`: see `gloam-bench --help` (also run as `gloam bench`).

use gloam_benches::alloc::CountingAlloc;
use std::process::ExitCode;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    gloam_benches::cli::main_with(&args)
}
