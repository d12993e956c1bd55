//! `xrdct bench` (in progress).

use crate::CmdResult;

/// Arguments of `xrdct bench`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `xrdct bench`.
pub fn run(_args: Args) -> CmdResult {
    Err("`xrdct bench` is not available yet".into())
}
