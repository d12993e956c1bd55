//! 500 realistic Pilatus 2M frames through the engine into NeXus: every row equals the frame
//! integrated on its own (decoded whole, unfused), whatever the number of workers.

use std::path::Path;

use xrdct_pipeline::engine::IntegrateSettings;
use xrdct_pipeline::engine::{Pipeline, PipelineOptions};
use xrdct_pipeline::inputs::FrameSource;
use xrdct_pipeline::nexus::{NexusOptions, NexusWriter};
use xrdct_pipeline::sim::frames::{PILATUS_PIXEL_M, SynthDetector, SynthGeometry, realistic_frame};

fn pilatus_poni(dir: &Path, g: &SynthGeometry) -> std::path::PathBuf {
    let p = dir.join("pilatus.poni");
    let text = format!(
        "poni_version: 2.1\nDetector: PilatusCdTe2M\n\
         Detector_config: {{\"pixel1\": 0.000172, \"pixel2\": 0.000172, \"orientation\": 3}}\n\
         Distance: {}\nPoni1: {}\nPoni2: {}\nRot1: 0.0021\nRot2: -0.0034\nRot3: 0.0\nWavelength: {}\n",
        g.distance_m,
        g.poni_row_px * PILATUS_PIXEL_M,
        g.poni_col_px * PILATUS_PIXEL_M,
        g.wavelength_m
    );
    std::fs::write(&p, text).unwrap();
    p
}

/// Frame `k`: one of a few rendered frames with per-frame counting noise added (cheap, so
/// that 500 distinct frames can be made in a test).
struct Frames {
    bases: Vec<Vec<i32>>,
}

impl Frames {
    fn new(det: &SynthDetector) -> Self {
        Frames {
            bases: (0..3).map(|s| realistic_frame(det, s)).collect(),
        }
    }
    fn pixels(&self, k: usize) -> Vec<i32> {
        let base = &self.bases[k % self.bases.len()];
        let mut x = (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        base.iter()
            .map(|&v| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if v >= 0 { v + (x & 3) as i32 } else { v }
            })
            .collect()
    }
    fn source(&self, k: usize) -> FrameSource {
        let (rows, cols) = (
            xrdct_pipeline::sim::frames::PILATUS2M_ROWS,
            xrdct_pipeline::sim::frames::PILATUS2M_COLS,
        );
        let header = cbf_format::Header {
            flux: Some(1e12),
            ..Default::default()
        };
        let bytes = cbf_format::writer::MiniCbfWriter::new(&header)
            .write(&[cols, rows], &self.pixels(k))
            .unwrap();
        FrameSource::Memory {
            name: format!("frame_{k:05}.cbf").into(),
            bytes: bytes.into(),
        }
    }
}

fn run_scan(split: &str, n: usize, workers: usize) {
    let dir = tempfile::tempdir().unwrap();
    let det = SynthDetector::pilatus2m_cdte(SynthGeometry::default());
    let poni = pilatus_poni(dir.path(), det.geometry());
    let mut settings = IntegrateSettings::new(&poni, 2000);
    settings.split = split.parse().unwrap();
    settings.polarization = Some(0.99);
    let reducer = settings.build().unwrap();
    let frames = Frames::new(&det);
    let out = dir.path().join("scan.h5");
    let mut sink = NexusWriter::create(&out, reducer.info(), &NexusOptions::default()).unwrap();
    // Frames are made while the scan runs (the feeder thread): memory stays bounded.
    let sources = (0..n).map(|k| frames.source(k));
    let stats = Pipeline::new(
        &reducer,
        PipelineOptions {
            workers,
            ..Default::default()
        },
    )
    .run(sources, 0, &mut sink)
    .unwrap();
    assert_eq!((stats.frames, stats.failed), (n, 0));
    sink.finish(&serde_json::json!({"frames": n})).unwrap();

    let f = hdf5::File::open(&out).unwrap();
    let intensity: Vec<f32> = f
        .dataset("entry/integrated/intensity")
        .unwrap()
        .read_raw()
        .unwrap();
    let sigma: Vec<f32> = f
        .dataset("entry/integrated/sigma")
        .unwrap()
        .read_raw()
        .unwrap();
    let ok: Vec<u8> = f
        .dataset("entry/integrated/frame_ok")
        .unwrap()
        .read_raw()
        .unwrap();
    assert_eq!(ok, vec![1u8; n]);
    let bins = reducer.info().radial.len();
    for k in 0..n {
        let alone = reducer.reduce_pixels(&frames.pixels(k), 1.0).unwrap();
        assert_eq!(
            &intensity[k * bins..(k + 1) * bins],
            &alone.intensity[..],
            "{split}: intensity of frame {k}"
        );
        assert_eq!(
            &sigma[k * bins..(k + 1) * bins],
            &alone.sigma[..],
            "{split}: sigma of frame {k}"
        );
    }
    // Not a degenerate pattern: rings stand out of the background.
    let row0 = &intensity[..bins];
    let max = row0.iter().copied().fold(0f32, f32::max);
    let median = {
        let mut v: Vec<f32> = row0.iter().copied().filter(|x| *x > 0.0).collect();
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    assert!(
        max > 5.0 * median,
        "rings visible: max {max}, median {median}"
    );
}

#[test]
fn pilatus_2m_500_frames_no_split_match_single_frame_integration() {
    run_scan("no", 500, 2);
}

#[test]
fn pilatus_2m_bbox_frames_match_single_frame_integration() {
    run_scan("bbox", 60, 3);
}
