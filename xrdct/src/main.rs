//! `xrdct`: real-time XRD-CT data reduction from the command line.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd_bench;
mod cmd_decode;
mod cmd_demo;
mod cmd_info;
mod cmd_integrate;
mod cmd_reconstruct;
mod cmd_reduce;
mod demo;
mod preview;

/// Result of a subcommand: an exit code, or one error line for the user.
pub type CmdResult = Result<ExitCode, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Parser)]
#[command(name = "xrdct", version, about = "Real-time XRD-CT data reduction", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Describe a CBF file: sections, dimensions, element type, compression, MD5, header.
    Info(cmd_info::Args),
    /// Decode a CBF binary section to raw little-endian pixels.
    Decode(cmd_decode::Args),
    /// Azimuthally integrate frames into 1D patterns (NeXus HDF5 or CSV).
    Integrate(cmd_integrate::Args),
    /// Filtered back-projection of a sinogram cube stored in NeXus HDF5.
    Reconstruct(cmd_reconstruct::Args),
    /// Integrate a scan, assemble sinograms and reconstruct, in one run.
    Reduce(cmd_reduce::Args),
    /// Simulate an XRD-CT experiment and reduce it end to end.
    Demo(cmd_demo::Args),
    /// Measure decode, integration and pipeline speed on this machine.
    Bench(cmd_bench::Args),
}

fn main() -> ExitCode {
    // Library messages (`log`) go to stderr: warnings by default, more with RUST_LOG.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .format_target(false)
        .format_timestamp(None)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(a) => cmd_info::run(a),
        Command::Decode(a) => cmd_decode::run(a),
        Command::Integrate(a) => cmd_integrate::run(a),
        Command::Reconstruct(a) => cmd_reconstruct::run(a),
        Command::Reduce(a) => cmd_reduce::run(a),
        Command::Demo(a) => cmd_demo::run(a),
        Command::Bench(a) => cmd_bench::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xrdct: error: {e}");
            ExitCode::from(2)
        }
    }
}
