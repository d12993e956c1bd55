//! `xrdct demo` (in progress).

use crate::CmdResult;

/// Arguments of `xrdct demo`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `xrdct demo`.
pub fn run(_args: Args) -> CmdResult {
    Err("`xrdct demo` is not available yet".into())
}
