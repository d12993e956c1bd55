//! Encode or decode raw little-endian pixel files with the fast codec (used by the
//! cross-check against fabio, `scripts/byteoffset_fabio_identical.py`).
//!
//! ```text
//! codec_raw encode TYPE PIXELS.raw OUT.bo     TYPE: i8 u8 i16 u16 i32 u32 i64 u64
//! codec_raw decode N STREAM.bo OUT.raw        writes N little-endian i32
//! ```

use std::process::ExitCode;

use byteoffset::Element;

fn encode<T: Element, const N: usize>(
    raw: &[u8],
    from_le: fn([u8; N]) -> T,
) -> Result<Vec<u8>, String> {
    if !raw.len().is_multiple_of(N) {
        return Err(format!(
            "{} bytes is not a whole number of {N}-byte pixels",
            raw.len()
        ));
    }
    let values: Vec<T> = raw
        .chunks_exact(N)
        .map(|c| from_le(c.try_into().expect("chunk of N bytes")))
        .collect();
    Ok(byteoffset::encode(&values))
}

fn run(args: &[String]) -> Result<(), String> {
    let [_, mode, arg, input, output] = args else {
        return Err("usage: codec_raw encode TYPE IN OUT | codec_raw decode N IN OUT".into());
    };
    let data = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
    let out = match (mode.as_str(), arg.as_str()) {
        ("encode", "i8") => encode(&data, i8::from_le_bytes)?,
        ("encode", "u8") => encode(&data, u8::from_le_bytes)?,
        ("encode", "i16") => encode(&data, i16::from_le_bytes)?,
        ("encode", "u16") => encode(&data, u16::from_le_bytes)?,
        ("encode", "i32") => encode(&data, i32::from_le_bytes)?,
        ("encode", "u32") => encode(&data, u32::from_le_bytes)?,
        ("encode", "i64") => encode(&data, i64::from_le_bytes)?,
        ("encode", "u64") => encode(&data, u64::from_le_bytes)?,
        ("decode", n) => {
            let n: usize = n.parse().map_err(|e| format!("element count {n}: {e}"))?;
            let pixels: Vec<i32> =
                byteoffset::decode(&data, n).map_err(|e| format!("{input}: {e}"))?;
            pixels.iter().flat_map(|v| v.to_le_bytes()).collect()
        }
        _ => return Err(format!("unknown mode {mode} {arg}")),
    };
    std::fs::write(output, out).map_err(|e| format!("{output}: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("codec_raw: {e}");
            ExitCode::FAILURE
        }
    }
}
