//! Benchmark of the GPU byte-offset decoder against a plain host→device copy and the CPU
//! decoder, on realistic synthetic Pilatus 2M and 6M frames (rings, Poisson-like noise,
//! −1 module gaps, a few hot pixels: about one byte per pixel).
//!
//! ```sh
//! cargo run --release -p byteoffset --features gpu --example gpu_decode_bench -- [--quick]
//! ```
//! Prints a table; with `XRDCT_BENCH_JSON=path` also writes the figures as JSON.
//!
//! Device times come from wgpu timestamp queries around each stage (median over repeats);
//! wall-clock figures time whole batches from the first byte copied into the mapped staging
//! buffer to the GPU's completion, with the decoder's two reused staging buffers, and the
//! plain copy uses the same scheme without the decode.

#[cfg(not(feature = "gpu"))]
fn main() {
    eprintln!("build with --features gpu");
}

#[cfg(feature = "gpu")]
fn main() {
    bench::main();
}

#[cfg(feature = "gpu")]
mod bench {
    use byteoffset::gpu::{Decoder, DecoderOptions, FrameInput, wgpu};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Instant;

    /// A Pilatus-like frame (same recipe as `tests/gpu_decode.rs`).
    pub fn synthetic_frame(width: usize, height: usize, seed: u64) -> Vec<i32> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut rng = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (cx, cy) = (width as f64 * 0.45, height as f64 * 0.55);
        let mut out = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                if (x % 494) >= 487 || (y % 212) >= 195 {
                    out.push(-1);
                    continue;
                }
                let r = ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)).sqrt();
                let ring = 400.0 * (-((r % 180.0) - 90.0).powi(2) / 20.0).exp();
                let mean = 3.0 + 1000.0 / (1.0 + r / 50.0) + ring;
                let u1 = (rng() >> 11) as f64 / (1u64 << 53) as f64 + 1e-12;
                let u2 = (rng() >> 11) as f64 / (1u64 << 53) as f64;
                let g = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let v = if rng() % 200_000 == 0 {
                    1_000_000
                } else {
                    (mean + g * mean.sqrt()).round().max(0.0) as i32
                };
                out.push(v);
            }
        }
        out
    }

    fn median(v: &mut [f64]) -> f64 {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    }

    struct Set {
        name: &'static str,
        pixels: usize,
        streams: Vec<Vec<u8>>,
        frames: Vec<Vec<i32>>,
    }

    fn make_set(name: &'static str, w: usize, h: usize, distinct: usize) -> Set {
        let frames: Vec<Vec<i32>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..distinct)
                .map(|i| s.spawn(move || synthetic_frame(w, h, 1 + i as u64)))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let streams = frames.iter().map(|f| byteoffset::encode(f)).collect();
        Set {
            name,
            pixels: w * h,
            streams,
            frames,
        }
    }

    fn inputs(set: &Set, n: usize) -> Vec<FrameInput<'_>> {
        (0..n)
            .map(|i| FrameInput {
                stream: &set.streams[i % set.streams.len()],
                pixels: set.pixels,
            })
            .collect()
    }

    /// Plain upload with the decoder's scheme: two reused mapped staging buffers, a copy into
    /// a device buffer, one submission per batch. Returns seconds for `reps` batches.
    fn plain_copy(dec: &Decoder, frames: &[FrameInput<'_>], reps: usize) -> f64 {
        let device = dec.device();
        let queue = dec.queue();
        let size: u64 = frames
            .iter()
            .map(|f| (f.stream.len() as u64).next_multiple_of(16))
            .sum();
        let dst = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("plain dst"),
            size,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let staging: Vec<(wgpu::Buffer, Arc<AtomicBool>)> = (0..2)
            .map(|_| {
                (
                    device.create_buffer(&wgpu::BufferDescriptor {
                        label: Some("plain staging"),
                        size,
                        usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                        mapped_at_creation: true,
                    }),
                    Arc::new(AtomicBool::new(true)),
                )
            })
            .collect();
        let run = |reps: usize| {
            let t = Instant::now();
            for r in 0..reps {
                let (buf, ready) = &staging[r % 2];
                while !ready.load(Ordering::Acquire) {
                    device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
                }
                {
                    let mut view = buf.slice(..).get_mapped_range_mut().unwrap();
                    let mut at = 0usize;
                    for f in frames {
                        view.slice(at..at + f.stream.len())
                            .copy_from_slice(f.stream);
                        at += f.stream.len().next_multiple_of(16);
                    }
                }
                buf.unmap();
                let mut enc = device.create_command_encoder(&Default::default());
                enc.copy_buffer_to_buffer(buf, 0, &dst, 0, size);
                queue.submit([enc.finish()]);
                ready.store(false, Ordering::Release);
                let ready = ready.clone();
                buf.slice(..).map_async(wgpu::MapMode::Write, move |r| {
                    r.unwrap();
                    ready.store(true, Ordering::Release);
                });
            }
            device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
            t.elapsed().as_secs_f64()
        };
        run(3);
        run(reps)
    }

    /// Upload + decode of `frames` per batch, `reps` batches; seconds.
    fn decode_wall(dec: &mut Decoder, frames: &[FrameInput<'_>], reps: usize) -> f64 {
        let mut run = |reps: usize| {
            let t = Instant::now();
            for _ in 0..reps {
                let b = dec.decode_batch(frames).unwrap();
                assert_eq!(b.len(), frames.len());
            }
            dec.device()
                .poll(wgpu::PollType::wait_indefinitely())
                .unwrap();
            t.elapsed().as_secs_f64()
        };
        run(3);
        run(reps)
    }

    fn cpu_decode(set: &Set, threads: usize, frames: usize) -> f64 {
        let t = Instant::now();
        std::thread::scope(|s| {
            for k in 0..threads {
                s.spawn(move || {
                    let mut out = vec![0i32; set.pixels];
                    for i in (k..frames).step_by(threads) {
                        byteoffset::decode_into(&set.streams[i % set.streams.len()], &mut out)
                            .unwrap();
                    }
                    std::hint::black_box(&out);
                });
            }
        });
        t.elapsed().as_secs_f64()
    }

    pub fn main() {
        let quick = std::env::args().any(|a| a == "--quick");
        let info = Decoder::default_adapter_info();
        let Some(info) = info else {
            eprintln!("no GPU adapter");
            std::process::exit(2);
        };
        println!(
            "adapter: {} | driver: {} {} | backend: {:?}",
            info.name, info.driver, info.driver_info, info.backend
        );
        let opts = DecoderOptions {
            max_batch_bytes: 2 << 30,
            max_batch_pixels: 1 << 30,
            timestamps: true,
            ..DecoderOptions::default()
        };
        let mut dec = Decoder::from_default_adapter(opts.clone()).expect("decoder");
        let mut dec_wall = Decoder::from_default_adapter(DecoderOptions {
            timestamps: false,
            ..opts
        })
        .expect("decoder");
        println!(
            "batch capacity: {} MB of stream, {} Mpixel",
            dec.max_batch_bytes() >> 20,
            dec.max_batch_pixels() >> 20
        );
        let t = Instant::now();
        let distinct = if quick { 2 } else { 8 };
        let sets = [
            make_set("Pilatus 2M", 1475, 1679, distinct),
            make_set("Pilatus 6M", 2463, 2527, distinct.min(4)),
        ];
        println!("frames generated in {:.1} s", t.elapsed().as_secs_f64());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut json = Vec::new();
        for set in &sets {
            let mean_bytes = set.streams.iter().map(|s| s.len()).sum::<usize>() as f64
                / set.streams.len() as f64;
            println!(
                "\n== {} ({} pixels, {:.3} bytes/pixel) ==",
                set.name,
                set.pixels,
                mean_bytes / set.pixels as f64
            );
            // Correctness on this device first.
            {
                let frames = inputs(set, set.streams.len());
                let b = dec.decode_batch(&frames).unwrap();
                for i in 0..b.len() {
                    b.frame_result(i).unwrap().unwrap();
                    assert!(
                        b.read_frame_i32(i).unwrap() == set.frames[i],
                        "GPU result differs"
                    );
                }
                println!("bit-exact on {} frames", b.len());
            }
            let batches: &[usize] = if quick { &[1, 8] } else { &[1, 8, 32, 64] };
            for &n in batches {
                let n = if set.pixels > 5_000_000 { n.min(32) } else { n };
                let mut frames = inputs(set, n);
                let n = dec
                    .batch_len(&frames)
                    .unwrap()
                    .min(dec_wall.batch_len(&frames).unwrap());
                frames.truncate(n);
                let bytes: usize = frames.iter().map(|f| f.stream.len()).sum();
                let reps = if quick { 5 } else { 20 };
                let mut stages = [vec![], vec![], vec![], vec![], vec![]];
                for r in 0..reps + 3 {
                    let b = dec.decode_batch(&frames).unwrap();
                    let t = b.timings().unwrap().expect("timestamps");
                    if r >= 3 {
                        stages[0].push(t.upload_ns.unwrap_or(f64::NAN));
                        stages[1].push(t.block_tables_ns);
                        stages[2].push(t.block_scan_ns);
                        stages[3].push(t.decode_ns);
                        stages[4].push(t.decode_total_ns());
                    }
                }
                let m: Vec<f64> = stages.iter_mut().map(|v| median(v)).collect();
                let per_frame_us = m[4] / 1e3 / n as f64;
                let wall_reps = (if quick { 4 } else { 40 } * 8 / n.max(1)).max(3);
                let dw = decode_wall(&mut dec_wall, &frames, wall_reps);
                let cw = plain_copy(&dec_wall, &frames, wall_reps);
                let dec_gbs = (bytes * wall_reps) as f64 / dw / 1e9;
                let copy_gbs = (bytes * wall_reps) as f64 / cw / 1e9;
                println!(
                    "batch {n:>3}: device decode {per_frame_us:>7.1} us/frame ({:.1} Gpix/s) [tables {:.1} scan {:.1} decode {:.1} us/batch; upload copy {:.1} us = {:.1} GB/s] | wall upload+decode {:.0} frames/s {:.2} GB/s vs plain copy {:.2} GB/s = {:.0} %",
                    set.pixels as f64 / per_frame_us / 1e3,
                    m[1] / 1e3,
                    m[2] / 1e3,
                    m[3] / 1e3,
                    m[0] / 1e3,
                    bytes as f64 / m[0],
                    (n * wall_reps) as f64 / dw,
                    dec_gbs,
                    copy_gbs,
                    100.0 * dec_gbs / copy_gbs
                );
                json.push(format!(
                    "{{\"set\":\"{}\",\"batch\":{n},\"bytes\":{bytes},\"device_us_per_frame\":{per_frame_us:.3},\"tables_us\":{:.3},\"scan_us\":{:.3},\"decode_us\":{:.3},\"upload_us\":{:.3},\"wall_frames_per_s\":{:.1},\"wall_decode_gbs\":{dec_gbs:.3},\"wall_copy_gbs\":{copy_gbs:.3}}}",
                    set.name,
                    m[1] / 1e3,
                    m[2] / 1e3,
                    m[3] / 1e3,
                    m[0] / 1e3,
                    (n * wall_reps) as f64 / dw
                ));
            }
            let nf = if quick { 8 } else { 64 };
            for threads in [1, cores] {
                let s = cpu_decode(set, threads, nf);
                println!(
                    "CPU decode_into ({:?}, {threads} thread(s)): {:.0} frames/s, {:.2} ms/frame/thread",
                    byteoffset::active_path(),
                    nf as f64 / s,
                    s * 1e3 * threads as f64 / nf as f64
                );
                json.push(format!(
                    "{{\"set\":\"{}\",\"cpu_threads\":{threads},\"cpu_frames_per_s\":{:.1}}}",
                    set.name,
                    nf as f64 / s
                ));
            }
        }
        if let Some(path) = std::env::var_os("XRDCT_BENCH_JSON") {
            std::fs::write(path, format!("[\n{}\n]\n", json.join(",\n"))).unwrap();
        }
    }
}
