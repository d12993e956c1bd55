//! Helpers shared by the pipeline integration tests: a small generic detector, frames with
//! rings, CBF files, the `xrdct` binary and reading the NeXus output back.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use xrdct_pipeline::engine::Row;
use xrdct_pipeline::engine::{CpuReducer, IntegrateSettings};

/// Rows (slow) × columns (fast) of the small test detector.
pub const ROWS: usize = 150;
/// Columns of the small test detector.
pub const COLS: usize = 170;
/// Radial bins used by the tests.
pub const BINS: usize = 100;

/// A PONI file for a generic 150 × 170 detector of 100 µm pixels at 0.1 m, slightly tilted.
pub fn write_small_poni(dir: &Path) -> PathBuf {
    let p = dir.join("small.poni");
    std::fs::write(
        &p,
        "poni_version: 2.1\nDetector: Detector\n\
         Detector_config: {\"pixel1\": 0.0001, \"pixel2\": 0.0001, \"max_shape\": [150, 170], \"orientation\": 3}\n\
         Distance: 0.1\nPoni1: 0.0073\nPoni2: 0.0088\nRot1: 0.01\nRot2: -0.02\nRot3: 0.0\nWavelength: 1e-10\n",
    )
    .unwrap();
    p
}

fn hash(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 29)
}

/// A frame with rings whose strength changes with `seed`, noise, −1 gaps and a hot pixel.
pub fn small_frame(seed: u64) -> Vec<i32> {
    let mut v = vec![0i32; ROWS * COLS];
    for r in 0..ROWS {
        for c in 0..COLS {
            let i = r * COLS + c;
            if c % 57 == 56 || r == 100 {
                v[i] = -1;
                continue;
            }
            let (dy, dx) = (r as f64 - 73.0, c as f64 - 88.0);
            let rad = (dx * dx + dy * dy).sqrt();
            let ring = |r0: f64, a: f64| a * (-0.5 * ((rad - r0) / 1.5).powi(2)).exp();
            let s = (seed % 13) as f64;
            let lam =
                5.0 + ring(30.0, 100.0 + 10.0 * s) + ring(55.0, 60.0 + 5.0 * s) + ring(80.0, 40.0);
            let noise = (hash(seed, i as u64) % 7) as f64 - 3.0;
            v[i] = (lam + noise * lam.sqrt() / 2.0).round().max(0.0) as i32;
        }
    }
    v[5 * COLS + 7] = 1_000_000;
    v
}

/// The CBF bytes of a frame (byte-offset, MD5, Flux in the header).
pub fn cbf_bytes(pixels: &[i32], cols: usize, rows: usize, flux: f64) -> Vec<u8> {
    let header = cbf_format::Header {
        flux: Some(flux),
        ..Default::default()
    };
    cbf_format::writer::MiniCbfWriter::new(&header)
        .write(&[cols, rows], pixels)
        .unwrap()
}

/// Writes `n` small frames `frame_00000.cbf …` into `dir` and returns their paths.
pub fn write_small_frames(dir: &Path, n: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|k| {
            let p = dir.join(format!("frame_{k:05}.cbf"));
            std::fs::write(&p, cbf_bytes(&small_frame(k as u64), COLS, ROWS, 1.0)).unwrap();
            p
        })
        .collect()
}

/// The reducer the CLI builds for `--bins BINS --split SPLIT` with its defaults.
pub fn reference_reducer(poni: &Path, split: &str) -> CpuReducer {
    let mut s = IntegrateSettings::new(poni, BINS);
    s.split = split.parse().unwrap();
    s.build().unwrap()
}

/// Each frame integrated on its own (whole decoded frame, not fused).
pub fn reference_rows(reducer: &CpuReducer, n: usize) -> Vec<Row> {
    (0..n)
        .map(|k| reducer.reduce_pixels(&small_frame(k as u64), 1.0).unwrap())
        .collect()
}

/// The `xrdct` binary of this build.
pub fn xrdct() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xrdct"))
}

/// What a NeXus output holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    pub intensity: Vec<f32>,
    pub sigma: Vec<f32>,
    pub radial: Vec<f64>,
    pub ok: Vec<u8>,
    pub sources: Vec<String>,
}

impl Scan {
    /// Rows in the file.
    pub fn frames(&self) -> usize {
        self.ok.len()
    }
    /// Row `k` of the intensity.
    pub fn row(&self, k: usize) -> &[f32] {
        let b = self.radial.len();
        &self.intensity[k * b..(k + 1) * b]
    }
    /// Row `k` of sigma.
    pub fn sigma_row(&self, k: usize) -> &[f32] {
        let b = self.radial.len();
        &self.sigma[k * b..(k + 1) * b]
    }
    /// Bitwise equality (NaN rows compare equal).
    pub fn same_as(&self, other: &Scan) -> bool {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        bits(&self.intensity) == bits(&other.intensity)
            && bits(&self.sigma) == bits(&other.sigma)
            && self.radial == other.radial
            && self.ok == other.ok
            && self.sources == other.sources
    }
}

/// Reads `/entry/integrated` of a NeXus file.
pub fn read_scan(path: &Path) -> Scan {
    // A child process spawned by a concurrent test may have inherited our descriptor of a file
    // written in this process (HDF5 opens without O_CLOEXEC), and with it the HDF5 file lock:
    // retry until that child has exited.
    let start = std::time::Instant::now();
    let f = loop {
        match hdf5::File::open(path) {
            Ok(f) => break f,
            Err(e)
                if e.to_string().contains("unable to lock file")
                    && start.elapsed().as_secs() < 120 =>
            {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => panic!("{}: {e}", path.display()),
        }
    };
    let g = f.group("entry/integrated").unwrap();
    let sources: Vec<hdf5::types::VarLenUnicode> =
        g.dataset("frame_source").unwrap().read_raw().unwrap();
    Scan {
        intensity: g.dataset("intensity").unwrap().read_raw().unwrap(),
        sigma: g.dataset("sigma").unwrap().read_raw().unwrap(),
        radial: g.dataset("radial").unwrap().read_raw().unwrap(),
        ok: g.dataset("frame_ok").unwrap().read_raw().unwrap(),
        sources: sources.iter().map(|s| s.to_string()).collect(),
    }
}

/// Asserts that row `k` of `scan` is `row`, bit for bit.
pub fn assert_row(scan: &Scan, k: usize, row: &Row) {
    assert_eq!(scan.row(k), &row.intensity[..], "intensity of row {k}");
    assert_eq!(scan.sigma_row(k), &row.sigma[..], "sigma of row {k}");
}

/// Common arguments of the small-detector runs.
pub fn integrate_args(poni: &Path, out: &Path, split: &str) -> Vec<String> {
    vec![
        "integrate".into(),
        "--poni".into(),
        poni.display().to_string(),
        "--bins".into(),
        BINS.to_string(),
        "--split".into(),
        split.into(),
        "-o".into(),
        out.display().to_string(),
    ]
}
