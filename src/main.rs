//! The `orderdeck` binary: parse the command line, run it, map the outcome to an exit status.
//! Everything else lives in the library (`orderdeck::cli`).

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    orderdeck::store::without_huge_pages();
    let cli = orderdeck::cli::Cli::parse_or_exit();
    match orderdeck::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => orderdeck::cli::fail(&error),
    }
}
