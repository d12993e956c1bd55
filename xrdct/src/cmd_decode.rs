//! `xrdct decode FILE -o OUT.raw`: a binary section's pixels as little-endian int32 (or the
//! file's own element type with `--keep-type`), slowest index outermost.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use cbf_format::{CbfFile, ReadOptions};

use crate::CmdResult;

/// Decoder backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// CPU decoder.
    Cpu,
    /// GPU decoder (byte-offset int32 sections; anything else, or no GPU, falls back to the
    /// CPU with a message).
    Gpu,
}

/// Arguments of `xrdct decode`.
#[derive(clap::Args)]
pub struct Args {
    /// CBF file (`.cbf` or `.cbf.gz`).
    pub file: PathBuf,
    /// Output file of raw little-endian pixels.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Binary section to decode (0-based).
    #[arg(long, default_value_t = 0)]
    pub section: usize,
    /// Check Content-MD5 before decoding; a mismatch is an error.
    #[arg(long)]
    pub verify_md5: bool,
    /// Write the file's own element type instead of int32.
    #[arg(long)]
    pub keep_type: bool,
    /// Decoder backend.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub backend: Backend,
}

/// Runs `xrdct decode`.
pub fn run(args: Args) -> CmdResult {
    if args.backend == Backend::Gpu && args.keep_type {
        eprintln!("xrdct decode: --keep-type decodes on the CPU (the GPU decodes to int32)");
    }
    let opts = ReadOptions::new().verify_md5(args.verify_md5);
    let file = CbfFile::open(&args.file, &opts)?;
    let section = file.section(args.section)?;
    let (bytes, type_name) = if args.keep_type {
        let pixels = section.decode()?;
        (pixels.to_le_bytes(), section.element_type().numpy_name())
    } else {
        let mut pixels = vec![0i32; section.element_count()];
        let on_gpu = args.backend == Backend::Gpu && gpu_decode_i32(section, &mut pixels)?;
        if !on_gpu {
            section.decode_into_i32(&mut pixels).map_err(|e| {
                if matches!(e.kind(), cbf_format::ErrorKind::ValueOutOfRange { .. }) {
                    format!(
                        "{e} (use --keep-type to write the file's {} values)",
                        section.element_type().numpy_name()
                    )
                } else {
                    e.to_string()
                }
            })?;
        }
        let mut out = Vec::with_capacity(pixels.len() * 4);
        for p in &pixels {
            out.extend_from_slice(&p.to_le_bytes());
        }
        (out, "int32")
    };
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(&args.output)
            .map_err(|e| format!("{}: {e}", args.output.display()))?,
    );
    w.write_all(&bytes)
        .and_then(|()| w.flush())
        .map_err(|e| format!("{}: {e}", args.output.display()))?;
    let dims: Vec<String> = section.dims().iter().map(|d| d.to_string()).collect();
    eprintln!(
        "{}: section {} ({} fast x slow, {}) -> {} ({} bytes, {type_name} little-endian)",
        args.file.display(),
        args.section,
        dims.join(" x "),
        section.compression(),
        args.output.display(),
        bytes.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Decodes a byte-offset int32 section on the GPU into `out`. `Ok(false)` (after saying why
/// on stderr) when the GPU cannot take it: no adapter, another compression or element type.
#[cfg(feature = "gpu")]
fn gpu_decode_i32(section: &cbf_format::Section<'_>, out: &mut [i32]) -> Result<bool, String> {
    use byteoffset::gpu::{Decoder, DecoderOptions, FrameInput};
    if !matches!(section.compression(), cbf_format::Compression::ByteOffset)
        || section.element_type() != cbf_format::ElementType::I32
    {
        eprintln!(
            "xrdct decode: the GPU decodes byte-offset int32 sections only ({}, {}); decoding on the CPU",
            section.compression(),
            section.element_type().numpy_name()
        );
        return Ok(false);
    }
    let mut gpu = match Decoder::from_default_adapter(DecoderOptions::default()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("xrdct decode: no GPU decoder ({e}); decoding on the CPU");
            return Ok(false);
        }
    };
    let frame = [FrameInput {
        stream: section.payload(),
        pixels: out.len(),
    }];
    let batch = gpu.decode_batch(&frame).map_err(|e| e.to_string())?;
    batch
        .frame_result(0)
        .map_err(|e| e.to_string())?
        .map_err(|e| {
            format!(
                "byte-offset payload at byte {}: {e}",
                section.payload_offset()
            )
        })?;
    out.copy_from_slice(&batch.read_frame_i32(0).map_err(|e| e.to_string())?);
    Ok(true)
}

/// Without the `gpu` feature: always the CPU, with a message.
#[cfg(not(feature = "gpu"))]
fn gpu_decode_i32(_section: &cbf_format::Section<'_>, _out: &mut [i32]) -> Result<bool, String> {
    eprintln!("xrdct decode: built without the `gpu` feature; decoding on the CPU");
    Ok(false)
}
