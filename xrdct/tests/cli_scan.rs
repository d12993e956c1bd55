//! `xrdct integrate` on whole scans: every row equals the frame integrated on its own, and
//! the file does not depend on the number of workers or on the order frames arrive in.

mod support;

use std::time::Duration;

use support::*;

#[test]
fn rows_match_single_frame_integration_for_any_worker_count() {
    let dir = tempfile::tempdir().unwrap();
    let poni = write_small_poni(dir.path());
    let frames = write_small_frames(&dir.path().join("scan"), 70);
    for split in ["no", "bbox"] {
        let reducer = reference_reducer(&poni, split);
        let expected = reference_rows(&reducer, frames.len());
        let mut first: Option<Scan> = None;
        for workers in [1, 2, 5] {
            let out = dir.path().join(format!("out_{split}_{workers}.h5"));
            let status = xrdct()
                .args(integrate_args(&poni, &out, split))
                .args(["--workers", &workers.to_string(), "--block", "16"])
                .arg(dir.path().join("scan"))
                .output()
                .unwrap();
            assert!(
                status.status.success(),
                "{}",
                String::from_utf8_lossy(&status.stderr)
            );
            let scan = read_scan(&out);
            assert_eq!(scan.frames(), 70);
            assert_eq!(scan.radial, reducer.info().radial);
            assert!(scan.ok.iter().all(|&o| o == 1));
            for (k, row) in expected.iter().enumerate() {
                assert_row(&scan, k, row);
                assert!(scan.sources[k].ends_with(&format!("frame_{k:05}.cbf")));
            }
            match &first {
                None => first = Some(scan),
                Some(f) => assert!(f.same_as(&scan), "workers {workers} changed the file"),
            }
        }
    }
}

#[test]
fn json_summary_is_the_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let poni = write_small_poni(dir.path());
    write_small_frames(&dir.path().join("scan"), 5);
    let out = dir.path().join("out.h5");
    let o = xrdct()
        .args(integrate_args(&poni, &out, "no"))
        .arg("--json")
        .arg(format!("{}/scan/frame_*.cbf", dir.path().display()))
        .output()
        .unwrap();
    assert!(o.status.success());
    let stdout = String::from_utf8(o.stdout).unwrap();
    let last = stdout.lines().last().unwrap();
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(v["frames"], 5);
    assert_eq!(v["failed"], 0);
    assert!(v["wall_s"].as_f64().unwrap() > 0.0);
    assert!(v["frames_per_s"].as_f64().unwrap() > 0.0);
    assert!(v["stages"]["integrate"]["frames_per_s"].as_f64().unwrap() > 0.0);
    assert!(out.exists() && !dir.path().join("out.h5.part").exists());
}

#[test]
fn csv_output_of_one_frame() {
    let dir = tempfile::tempdir().unwrap();
    let poni = write_small_poni(dir.path());
    let frames = write_small_frames(&dir.path().join("scan"), 1);
    let out = dir.path().join("one.csv");
    let o = xrdct()
        .args(integrate_args(&poni, &out, "bbox"))
        .args(["--format", "csv"])
        .arg(&frames[0])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').map(|t| t.parse().unwrap()).collect())
        .collect();
    let reducer = reference_reducer(&poni, "bbox");
    let expected = &reference_rows(&reducer, 1)[0];
    assert_eq!(rows.len(), BINS);
    for (k, r) in rows.iter().enumerate() {
        assert_eq!(r[0], reducer.info().radial[k]);
        assert_eq!(r[1] as f32, expected.intensity[k]);
        assert_eq!(r[2] as f32, expected.sigma[k]);
    }
}

/// Frames arrive in a watched directory one after the other, some written in two parts with a
/// pause (the detector still writing): the output is the same file as a run over the finished
/// directory.
#[test]
fn watch_mode_waits_for_frames_being_written_and_gives_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let poni = write_small_poni(dir.path());
    let n = 40;
    let batch_dir = dir.path().join("batch");
    write_small_frames(&batch_dir, n);
    let batch_out = dir.path().join("batch.h5");
    let o = xrdct()
        .args(integrate_args(&poni, &batch_out, "bbox"))
        .arg(&batch_dir)
        .output()
        .unwrap();
    assert!(o.status.success());

    let watch_dir = dir.path().join("live");
    std::fs::create_dir(&watch_dir).unwrap();
    let live_out = dir.path().join("live.h5");
    let child = xrdct()
        .args(integrate_args(&poni, &live_out, "bbox"))
        .args([
            "--watch",
            watch_dir.to_str().unwrap(),
            "--expect",
            &n.to_string(),
            "--timeout",
            "30",
            "--workers",
            "3",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for k in 0..n {
        let bytes = cbf_bytes(&small_frame(k as u64), COLS, ROWS, 1.0);
        let p = watch_dir.join(format!("frame_{k:05}.cbf"));
        if k % 5 == 0 {
            // Written in two parts, like a detector still writing.
            let mut f = std::fs::File::create(&p).unwrap();
            std::io::Write::write_all(&mut f, &bytes[..bytes.len() / 2]).unwrap();
            f.sync_all().unwrap();
            std::thread::sleep(Duration::from_millis(80));
            std::io::Write::write_all(&mut f, &bytes[bytes.len() / 2..]).unwrap();
        } else {
            std::fs::write(&p, &bytes).unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let batch = read_scan(&batch_out);
    let mut live = read_scan(&live_out);
    assert_eq!(live.frames(), n);
    live.sources = live
        .sources
        .iter()
        .map(|s| s.replace("/live/", "/batch/"))
        .collect();
    assert_eq!(live.ok, batch.ok);
    assert_eq!(live.sources, batch.sources);
    assert!(batch.same_as(&live));
}

/// Writes frame `k` of the small scan as `dir/frame_{k:05}.cbf`, every third one in two parts
/// with a pause (the detector still writing).
fn write_live_frame(dir: &std::path::Path, k: usize) {
    let bytes = cbf_bytes(&small_frame(k as u64), COLS, ROWS, 1.0);
    let p = dir.join(format!("frame_{k:05}.cbf"));
    if k.is_multiple_of(3) {
        let mut f = std::fs::File::create(&p).unwrap();
        std::io::Write::write_all(&mut f, &bytes[..bytes.len() / 2]).unwrap();
        f.sync_all().unwrap();
        std::thread::sleep(Duration::from_millis(40));
        std::io::Write::write_all(&mut f, &bytes[bytes.len() / 2..]).unwrap();
    } else {
        std::fs::write(&p, &bytes).unwrap();
    }
    std::thread::sleep(Duration::from_millis(5));
}

/// `xrdct integrate --watch live --expect n --timeout s`, started in the background.
fn spawn_watch(
    poni: &std::path::Path,
    out: &std::path::Path,
    live: &std::path::Path,
    n: usize,
    timeout: u32,
) -> std::process::Child {
    xrdct()
        .args(integrate_args(poni, out, "bbox"))
        .args([
            "--watch",
            live.to_str().unwrap(),
            "--expect",
            &n.to_string(),
            "--timeout",
            &timeout.to_string(),
            "--workers",
            "3",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// A watched scan's file, its sources moved from `live/` to `batch/`.
fn read_live_scan(out: &std::path::Path) -> Scan {
    let mut live = read_scan(out);
    live.sources = live
        .sources
        .iter()
        .map(|s| s.replace("/live/", "/batch/"))
        .collect();
    live
}

/// Frames arrive in a scrambled order (a detector writing with several threads, the first frame
/// among the last): each takes its place in the scan from its file number, and the output is
/// the file a run over the finished directory gives.
#[test]
fn watch_mode_places_frames_by_file_number_whatever_their_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let poni = write_small_poni(dir.path());
    let n = 30;
    let batch_dir = dir.path().join("batch");
    write_small_frames(&batch_dir, n);
    let batch_out = dir.path().join("batch.h5");
    let o = xrdct()
        .args(integrate_args(&poni, &batch_out, "bbox"))
        .arg(&batch_dir)
        .output()
        .unwrap();
    assert!(o.status.success());

    let live_dir = dir.path().join("live");
    std::fs::create_dir(&live_dir).unwrap();
    let live_out = dir.path().join("live.h5");
    let child = spawn_watch(&poni, &live_out, &live_dir, n, 30);
    // 3, 10, 17, 24, 1, 8, …: frame 0 comes 22nd.
    for k in (0..n).map(|j| (7 * j + 3) % n) {
        write_live_frame(&live_dir, k);
    }
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let batch = read_scan(&batch_out);
    let live = read_live_scan(&live_out);
    assert_eq!(live.frames(), n);
    assert_eq!(live.sources, batch.sources);
    assert!(batch.same_as(&live));
}

/// A frame that never arrives in the watched directory becomes a failed row at its index (the
/// row a list naming the absent file gives) once later frames have been there for the stall
/// time; the frames after it keep their index.
#[test]
fn watch_mode_records_a_frame_that_never_arrives_at_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let poni = write_small_poni(dir.path());
    let (n, absent) = (20, 7);
    let batch_dir = dir.path().join("batch");
    write_small_frames(&batch_dir, n);
    std::fs::remove_file(batch_dir.join(format!("frame_{absent:05}.cbf"))).unwrap();
    let list = dir.path().join("scan.txt");
    let lines: Vec<String> = (0..n)
        .map(|k| format!("batch/frame_{k:05}.cbf\n"))
        .collect();
    std::fs::write(&list, lines.concat()).unwrap();
    let batch_out = dir.path().join("batch.h5");
    let o = xrdct()
        .args(integrate_args(&poni, &batch_out, "bbox"))
        .arg(&list)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "one failed frame");

    let live_dir = dir.path().join("live");
    std::fs::create_dir(&live_dir).unwrap();
    let live_out = dir.path().join("live.h5");
    // The stall time is the timeout here: 2 s.
    let child = spawn_watch(&poni, &live_out, &live_dir, n, 2);
    for k in (0..n).rev().filter(|&k| k != absent) {
        write_live_frame(&live_dir, k);
    }
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("frame {absent} failed")) && stderr.contains("file not found"),
        "{stderr}"
    );
    let batch = read_scan(&batch_out);
    let live = read_live_scan(&live_out);
    assert_eq!(live.frames(), n);
    assert_eq!(live.ok.iter().filter(|&&ok| ok == 0).count(), 1);
    assert_eq!(live.ok[absent], 0);
    assert_eq!(live.sources, batch.sources);
    assert!(batch.same_as(&live));
}

/// Results reach the writer in a scrambled order (random work per frame, many workers): the
/// file is the same as a one-worker run.
#[test]
fn scrambled_completion_order_gives_the_same_file() {
    use xrdct_pipeline::engine::{
        FrameError, FrameReducer, Pipeline, PipelineOptions, ReduceWorker, Row,
    };
    use xrdct_pipeline::inputs::FrameSource;
    use xrdct_pipeline::nexus::{NexusOptions, NexusWriter};
    use xrdct_pipeline::readers::FrameData;

    struct Jittery<'a>(&'a xrdct_pipeline::engine::CpuReducer);
    struct JitteryWorker<'a>(Box<dyn ReduceWorker + 'a>);
    impl FrameReducer for Jittery<'_> {
        fn bins(&self) -> usize {
            self.0.bins()
        }
        fn backend(&self) -> &str {
            "cpu+jitter"
        }
        fn worker(&self) -> Box<dyn ReduceWorker + '_> {
            Box::new(JitteryWorker(self.0.worker()))
        }
    }
    impl ReduceWorker for JitteryWorker<'_> {
        fn reduce(&mut self, frame: &FrameData<'_>) -> Result<Row, FrameError> {
            let ms = (frame.index as u64 * 7_919 + 31) % 9;
            std::thread::sleep(Duration::from_millis(ms));
            self.0.reduce(frame)
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let poni = write_small_poni(dir.path());
    let reducer = reference_reducer(&poni, "bbox");
    let sources = || {
        (0..60).map(|k| FrameSource::Memory {
            name: format!("frame_{k}.cbf").into(),
            bytes: cbf_bytes(&small_frame(k), COLS, ROWS, 1.0).into(),
        })
    };
    let mut scans = Vec::new();
    for (workers, jitter) in [(1, false), (6, true), (3, true)] {
        let out = dir.path().join(format!("s{workers}.h5"));
        let mut sink = NexusWriter::create(
            &out,
            reducer.info(),
            &NexusOptions {
                block: 7,
                deflate: Some(1),
            },
        )
        .unwrap();
        let opts = PipelineOptions {
            workers,
            window: 13,
            ..Default::default()
        };
        let jit = Jittery(&reducer);
        let r: &dyn FrameReducer = if jitter { &jit } else { &reducer };
        Pipeline::new(r, opts).run(sources(), 0, &mut sink).unwrap();
        sink.finish(&serde_json::json!({})).unwrap();
        scans.push(read_scan(&out));
    }
    assert!(scans[0].same_as(&scans[1]) && scans[0].same_as(&scans[2]));
    let expected = reference_rows(&reducer, 60);
    for (k, row) in expected.iter().enumerate() {
        assert_row(&scans[1], k, row);
    }
}
