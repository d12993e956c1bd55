//! `xrdct integrate` (in progress).

use crate::CmdResult;

/// Arguments of `xrdct integrate`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `xrdct integrate`.
pub fn run(_args: Args) -> CmdResult {
    Err("`xrdct integrate` is not available yet".into())
}
