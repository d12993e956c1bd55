//! `xrdct reconstruct` (in progress).

use crate::CmdResult;

/// Arguments of `xrdct reconstruct`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `xrdct reconstruct`.
pub fn run(_args: Args) -> CmdResult {
    Err("`xrdct reconstruct` is not available yet".into())
}
