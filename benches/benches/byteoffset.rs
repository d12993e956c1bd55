//! Byte-offset codec throughput: every decoder path (Gpixel/s and GB/s of compressed input)
//! and the encoder, on (a) a realistic synthetic Pilatus 2M frame, (b) the real CBF frames in
//! `$XRDCT_REAL_CBF_DIR` (or `../shared/data/real-cbf` beside the workspace) when present,
//! and (c) worst cases made only of escapes.
//!
//! `cargo bench -p xrdct-benches --bench byteoffset`

use std::hint::black_box;
use std::path::PathBuf;

use byteoffset::Path;
use cbf_format::{CbfFile, Compression};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use xrdct_pipeline::sim::frames::{SynthDetector, SynthGeometry, realistic_frame};

/// Pixels per block of the visiting decoder (16 KiB of i32: stays in L1).
const VISIT_BLOCK: usize = 4096;

fn paths() -> Vec<Path> {
    Path::ALL.into_iter().filter(|p| p.is_available()).collect()
}

/// Benchmarks every decoder of one compressed frame of `n` pixels.
fn bench_decode(c: &mut Criterion, name: &str, input: &[u8], n: usize) {
    let mut group = c.benchmark_group(format!("byteoffset_decode/{name}"));
    group.throughput(Throughput::ElementsAndBytes {
        elements: n as u64,
        bytes: input.len() as u64,
    });
    eprintln!(
        "byteoffset {name}: {n} pixels, {} bytes ({:.3} bytes/pixel), best path {}",
        input.len(),
        input.len() as f64 / n as f64,
        byteoffset::best_path()
    );
    let mut out = vec![0i32; n];
    let mut out_f32 = vec![0f32; n];
    let mut block = vec![0i32; VISIT_BLOCK];
    for path in paths() {
        group.bench_function(BenchmarkId::new("decode_into_i32", path), |b| {
            b.iter(|| {
                byteoffset::decode_into_with(path, black_box(input), &mut out)
                    .expect("valid stream")
            })
        });
        group.bench_function(BenchmarkId::new("decode_visit_i32", path), |b| {
            b.iter(|| {
                let mut sum = 0i64;
                byteoffset::decode_visit_with(path, black_box(input), n, &mut block, |_, px| {
                    sum += i64::from(px[px.len() - 1]);
                })
                .expect("valid stream");
                sum
            })
        });
        group.bench_function(BenchmarkId::new("decode_into_f32", path), |b| {
            b.iter(|| {
                byteoffset::decode_into_with(path, black_box(input), &mut out_f32)
                    .expect("valid stream")
            })
        });
    }
    group.bench_function("reference_decode_i32", |b| {
        b.iter(|| {
            byteoffset::reference::decode_wrapping::<i32>(black_box(input), n)
                .expect("valid stream")
        })
    });
    group.finish();
}

/// Benchmarks the encoder on `pixels`.
fn bench_encode(c: &mut Criterion, name: &str, pixels: &[i32]) {
    let mut group = c.benchmark_group(format!("byteoffset_encode/{name}"));
    let encoded = byteoffset::encode(pixels);
    group.throughput(Throughput::ElementsAndBytes {
        elements: pixels.len() as u64,
        bytes: encoded.len() as u64,
    });
    let mut out = vec![0u8; byteoffset::max_encoded_len(pixels.len(), 4)];
    group.bench_function("encode_into", |b| {
        b.iter(|| {
            byteoffset::encode_into(black_box(pixels), &mut out).expect("buffer is max_encoded_len")
        })
    });
    group.bench_function("encode", |b| {
        b.iter(|| byteoffset::encode(black_box(pixels)))
    });
    group.finish();
}

fn synthetic(c: &mut Criterion) {
    let detector = SynthDetector::pilatus2m_cdte(SynthGeometry::default());
    let frame = realistic_frame(&detector, 1);
    let encoded = byteoffset::encode(&frame);
    bench_decode(c, "pilatus2m_synthetic", &encoded, frame.len());
    bench_encode(c, "pilatus2m_synthetic", &frame);
}

fn real_cbf_dir() -> PathBuf {
    std::env::var_os("XRDCT_REAL_CBF_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/real-cbf")
        })
}

/// The first binary section of a CBF file if it is byte-offset: payload and element count.
fn byte_offset_payload<'a>(file: &'a CbfFile<'_>) -> Option<(&'a [u8], usize)> {
    let section = file.sections().first()?;
    (*section.compression() == Compression::ByteOffset)
        .then(|| (section.payload(), section.element_count()))
}

fn real_frames(c: &mut Criterion) {
    let dir = real_cbf_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "byteoffset bench: no real frames at {} (set XRDCT_REAL_CBF_DIR); skipped",
            dir.display()
        );
        return;
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !(name.ends_with(".cbf") || name.ends_with(".cbf.gz")) {
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(_) => continue,
        };
        // Gzip-compressed files are decompressed by the parser.
        let Ok(file) = CbfFile::from_bytes(&bytes) else {
            continue;
        };
        let Some((payload, n)) = byte_offset_payload(&file) else {
            continue;
        };
        let pixels: Vec<i32> = byteoffset::decode(payload, n).expect("real frame decodes");
        let id = name.trim_end_matches(".gz").trim_end_matches(".cbf");
        bench_decode(c, &format!("real/{id}"), payload, n);
        bench_encode(c, &format!("real/{id}"), &pixels);
    }
}

fn worst_cases(c: &mut Criterion) {
    let n = 1 << 20;
    // Every delta needs the 16-bit escape (3 bytes), then every delta the 32-bit one (7 bytes).
    let esc16: Vec<i32> = (0..n).map(|i| if i % 2 == 0 { 1000 } else { 0 }).collect();
    let esc32: Vec<i32> = (0..n)
        .map(|i| if i % 2 == 0 { 100_000 } else { 0 })
        .collect();
    // One 16-bit escape every 33 pixels: one escape in every vector block, at drifting offsets.
    let every33: Vec<i32> = (0..n)
        .map(|i| if (i / 33) % 2 == 0 { 0 } else { 500 })
        .collect();
    for (name, pixels) in [
        ("all_escape16", esc16),
        ("all_escape32", esc32),
        ("escape_every_33", every33),
    ] {
        let encoded = byteoffset::encode(&pixels);
        bench_decode(c, &format!("worst/{name}"), &encoded, n);
        bench_encode(c, &format!("worst/{name}"), &pixels);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_secs(1)).measurement_time(std::time::Duration::from_secs(3));
    targets = synthetic, real_frames, worst_cases
}
criterion_main!(benches);
