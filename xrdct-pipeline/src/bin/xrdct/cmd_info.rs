//! `xrdct info` (in progress).

use crate::CmdResult;

/// Arguments of `xrdct info`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `xrdct info`.
pub fn run(_args: Args) -> CmdResult {
    Err("`xrdct info` is not available yet".into())
}
