//! Writes frames with this crate's writers, plus a `manifest.json` describing them, for the
//! fabio/pycbf interoperability check (`scripts/cbf_interop.py`).
//!
//! ```sh
//! cargo run -p cbf-format --example write_interop_frames -- OUTDIR
//! ```
//!
//! Frames: one Dectris-style miniCBF per integer element type (values spanning the type's
//! whole range, so every byte-offset escape occurs), and imgCIF files with one section and with
//! two sections (byte-offset and uncompressed).

use std::path::PathBuf;

use cbf_format::Header;
use cbf_format::writer::{ImgCifWriter, MiniCbfWriter, WriteCompression, WriteElement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const FAST: usize = 37;
const SLOW: usize = 23;

/// A small deterministic generator (xorshift64*), so runs are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Pixels: mostly small counts near the previous value, some jumps to the type's extremes.
fn pixels<T: WriteElement>(rng: &mut Rng, from_bits: impl Fn(u64) -> T) -> Vec<T> {
    (0..FAST * SLOW)
        .map(|i| match rng.next() % 10 {
            0 => from_bits(rng.next()),
            1 if i % 7 == 0 => from_bits(u64::MAX),
            _ => from_bits(rng.next() % 50),
        })
        .collect()
}

fn sha256_le<T: WriteElement>(v: &[T]) -> String {
    let mut bytes = Vec::new();
    for &x in v {
        x.put_le(&mut bytes);
    }
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn header() -> Header {
    Header {
        detector: Some("PILATUS3 2M, S/N 24-0123, interop test".into()),
        timestamp: Some("2026-11-26T12:34:56.789".into()),
        pixel_size: Some([172e-6, 172e-6]),
        sensor_material: Some("Silicon".into()),
        sensor_thickness: Some(0.001),
        exposure_time: Some(0.0095),
        exposure_period: Some(0.01),
        tau: Some(1.991e-7),
        count_cutoff: Some(1048575),
        threshold_setting: Some(8050.0),
        wavelength: Some(0.7293),
        detector_distance: Some(0.2345),
        beam_xy: Some([730.5, 865.25]),
        flux: Some(1.25e12),
        filter_transmission: Some(1.0),
        start_angle: Some(-12.5),
        angle_increment: Some(0.1),
        detector_2theta: Some(0.0),
        polarization: Some(0.99),
        oscillation_axis: Some("X.CW".into()),
        n_oscillations: Some(1),
        unknown_lines: vec![
            "# Gain_setting: autog (vrf = 1.000)".into(),
            "# Comment: cbf-format interop".into(),
        ],
        ..Header::default()
    }
}

fn write_mini<T: WriteElement>(
    dir: &std::path::Path,
    rng: &mut Rng,
    name: &str,
    from_bits: impl Fn(u64) -> T,
) -> Value {
    let v = pixels(rng, from_bits);
    let h = header();
    let bytes = MiniCbfWriter::new(&h)
        .data_block(name)
        .write(&[FAST, SLOW], &v)
        .expect("dims match");
    let file = format!("mini_{name}.cbf");
    std::fs::write(dir.join(&file), bytes).expect("write frame");
    json!({
        "file": file,
        "kind": "minicbf",
        "sections": [{ "dtype": T::TYPE.numpy_name(), "dims": [FAST, SLOW], "sha256_le": sha256_le(&v) }],
        "header_contents": h.minicbf_lines(),
        "wavelength": h.wavelength,
        "detector_distance": h.detector_distance,
        "beam_xy": h.beam_xy,
    })
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: write_interop_frames OUTDIR"),
    );
    std::fs::create_dir_all(&dir).expect("create output folder");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut frames = vec![
        write_mini::<i8>(&dir, &mut rng, "int8", |b| b as i8),
        write_mini::<u8>(&dir, &mut rng, "uint8", |b| b as u8),
        write_mini::<i16>(&dir, &mut rng, "int16", |b| b as i16),
        write_mini::<u16>(&dir, &mut rng, "uint16", |b| b as u16),
        write_mini::<i32>(&dir, &mut rng, "int32", |b| b as i32),
        write_mini::<u32>(&dir, &mut rng, "uint32", |b| b as u32),
        write_mini::<i64>(&dir, &mut rng, "int64", |b| b as i64),
        write_mini::<u64>(&dir, &mut rng, "uint64", |b| b),
    ];
    // imgCIF with two sections.
    let a: Vec<i32> = pixels(&mut rng, |b| b as i32);
    let b: Vec<u16> = pixels(&mut rng, |b| b as u16);
    let mut w = ImgCifWriter::new("interop_imgcif");
    w.item("_diffrn.id", "DS1")
        .item("_diffrn_source.source", "synchrotron")
        .header("PILATUS_1.2", &header());
    w.add_array(&[FAST, SLOW], &a, WriteCompression::ByteOffset)
        .expect("dims match");
    w.add_array(&[FAST, SLOW], &b, WriteCompression::None)
        .expect("dims match");
    std::fs::write(dir.join("imgcif_two_sections.cbf"), w.to_bytes()).expect("write frame");
    frames.push(json!({
        "file": "imgcif_two_sections.cbf",
        "kind": "imgcif",
        "sections": [
            { "dtype": "int32", "dims": [FAST, SLOW], "sha256_le": sha256_le(&a) },
            { "dtype": "uint16", "dims": [FAST, SLOW], "sha256_le": sha256_le(&b) },
        ],
        "header_contents": header().minicbf_lines(),
    }));
    // imgCIF with one section (the shape fabio reads).
    let c: Vec<i32> = pixels(&mut rng, |b| b as i32);
    let mut w = ImgCifWriter::new("interop_imgcif_one");
    w.item("_diffrn.id", "DS1").header("PILATUS_1.2", &header());
    w.add_array(&[FAST, SLOW], &c, WriteCompression::ByteOffset)
        .expect("dims match");
    std::fs::write(dir.join("imgcif_one_section.cbf"), w.to_bytes()).expect("write frame");
    frames.push(json!({
        "file": "imgcif_one_section.cbf",
        "kind": "imgcif",
        "sections": [{ "dtype": "int32", "dims": [FAST, SLOW], "sha256_le": sha256_le(&c) }],
        "header_contents": header().minicbf_lines(),
    }));
    let manifest = json!({ "frames": frames });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).expect("json"),
    )
    .expect("write manifest");
    println!(
        "wrote {} frames to {}",
        manifest["frames"].as_array().map_or(0, Vec::len),
        dir.display()
    );
}
