//! `xrdct decode` (in progress).

use crate::CmdResult;

/// Arguments of `xrdct decode`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `xrdct decode`.
pub fn run(_args: Args) -> CmdResult {
    Err("`xrdct decode` is not available yet".into())
}
