//! `xrdct reduce` (in progress).

use crate::CmdResult;

/// Arguments of `xrdct reduce`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `xrdct reduce`.
pub fn run(_args: Args) -> CmdResult {
    Err("`xrdct reduce` is not available yet".into())
}
