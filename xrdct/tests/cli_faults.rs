//! Bad frames are recorded and the scan goes on; an interrupted run leaves a readable file
//! with every completed block, and `--resume` finishes it with the same result.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::*;

/// Runs `xrdct integrate` and returns (exit code, stderr).
fn run(args: &[String], extra: &[&str], inputs: &[PathBuf]) -> (i32, String) {
    let o = xrdct()
        .args(args)
        .args(extra)
        .args(inputs)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn bad_frames_are_recorded_and_the_rest_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let poni = write_small_poni(dir.path());
    let scan = dir.path().join("scan");
    let mut frames = write_small_frames(&scan, 12);
    // 2: truncated; 4: zero bytes; 6: wrong MD5 (payload byte changed, header kept);
    // 8: not a CBF file; 10: missing (listed but never written).
    let bytes = std::fs::read(&frames[2]).unwrap();
    std::fs::write(&frames[2], &bytes[..bytes.len() * 2 / 3]).unwrap();
    std::fs::write(&frames[4], b"").unwrap();
    let mut bytes = std::fs::read(&frames[6]).unwrap();
    let marker = bytes
        .windows(4)
        .position(|w| w == cbf_format::MARKER)
        .unwrap();
    bytes[marker + 4 + 1000] ^= 0x01;
    std::fs::write(&frames[6], &bytes).unwrap();
    std::fs::write(&frames[8], "this is a text file, not a detector frame\n").unwrap();
    std::fs::remove_file(&frames[10]).unwrap();
    let list = dir.path().join("scan.lst");
    std::fs::write(
        &list,
        frames
            .iter()
            .map(|p| format!("{}\n", p.display()))
            .collect::<String>(),
    )
    .unwrap();

    let reducer = reference_reducer(&poni, "no");
    let expected = reference_rows(&reducer, 12);
    let out = dir.path().join("out.h5");
    let (code, stderr) = run(
        &integrate_args(&poni, &out, "no"),
        &["--verify-md5", "--json"],
        std::slice::from_ref(&list),
    );
    assert_eq!(code, 1, "some frames failed: exit status 1\n{stderr}");
    let s = read_scan(&out);
    assert_eq!(s.frames(), 12);
    let bad = [2, 4, 6, 8, 10];
    for (k, row) in expected.iter().enumerate() {
        if bad.contains(&k) {
            assert_eq!(s.ok[k], 0, "frame {k}");
            assert!(s.row(k).iter().all(|v| v.is_nan()), "NaN row {k}");
        } else {
            assert_eq!(s.ok[k], 1, "frame {k}");
            assert_row(&s, k, row);
        }
    }
    assert_eq!(s.sources[10], frames[10].display().to_string());
    // One clear line per failure, naming the file.
    for (k, why) in [
        (2, "truncated"),
        (4, ""),
        (6, "MD5"),
        (8, "binary section"),
        (10, "not found"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains(&format!("frame {k} failed")))
            .unwrap_or_else(|| panic!("no line for frame {k}:\n{stderr}"));
        assert!(
            line.contains(&frames[k].display().to_string()) && line.contains(why),
            "{line}"
        );
    }
    frames.truncate(0);

    // Without --verify-md5 the frame with the wrong MD5 is not checked.
    let out2 = dir.path().join("out2.h5");
    let (code, _) = run(&integrate_args(&poni, &out2, "no"), &[], &[list]);
    assert_eq!(code, 1);
    assert_eq!(read_scan(&out2).ok[6], 1);
}

/// Splitting engines sum up to four frames per pass (frames decoded side by side): a frame
/// whose byte-offset stream breaks mid-way fails alone, its partners and the rest are exact
/// (also with two broken frames in one group).
#[test]
fn a_bad_stream_in_a_group_fails_alone_with_bbox() {
    let dir = tempfile::tempdir().unwrap();
    let poni = write_small_poni(dir.path());
    let scan = dir.path().join("scan");
    let frames = write_small_frames(&scan, 9);
    let bad = [3, 6, 7];
    for k in bad {
        // The last payload byte becomes an escape whose value bytes are missing: the file
        // parses (MD5 not verified) but its stream ends inside a token.
        let mut bytes = std::fs::read(&frames[k]).unwrap();
        let marker = bytes
            .windows(4)
            .position(|w| w == cbf_format::MARKER)
            .unwrap();
        let file = cbf_format::CbfFile::from_bytes(&bytes).unwrap();
        let size = file.sections()[0].payload().len();
        drop(file);
        bytes[marker + 4 + size - 1] = 0x80;
        std::fs::write(&frames[k], &bytes).unwrap();
    }
    let reducer = reference_reducer(&poni, "bbox");
    let expected = reference_rows(&reducer, 9);
    for workers in ["1", "2"] {
        let out = dir.path().join(format!("out{workers}.h5"));
        let (code, stderr) = run(
            &integrate_args(&poni, &out, "bbox"),
            &["--workers", workers],
            &frames,
        );
        assert_eq!(code, 1, "frames failed: exit status 1\n{stderr}");
        let s = read_scan(&out);
        assert_eq!(s.frames(), 9);
        for (k, row) in expected.iter().enumerate() {
            if bad.contains(&k) {
                assert_eq!(s.ok[k], 0, "frame {k}");
                assert!(s.row(k).iter().all(|v| v.is_nan()), "NaN row {k}");
            } else {
                assert_eq!(s.ok[k], 1, "frame {k}: {stderr}");
                assert_row(&s, k, row);
            }
        }
    }
}

fn wait_for(path: &Path, timeout: Duration) {
    let t = Instant::now();
    while !path.exists() {
        assert!(t.elapsed() < timeout, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_aborted_run_keeps_its_blocks_and_resume_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let poni = write_small_poni(dir.path());
    let scan = dir.path().join("scan");
    write_small_frames(&scan, 50);
    let inputs = [scan.clone()];

    let full = dir.path().join("full.h5");
    let (code, e) = run(
        &integrate_args(&poni, &full, "bbox"),
        &["--block", "8"],
        &inputs,
    );
    assert_eq!(code, 0, "{e}");
    let reference = read_scan(&full);

    // The process dies after 37 rows reached the writer: 4 blocks of 8 are on disk.
    let out = dir.path().join("out.h5");
    let o = xrdct()
        .args(integrate_args(&poni, &out, "bbox"))
        .args(["--block", "8"])
        .args(&inputs)
        .env("XRDCT_TEST_ABORT_AFTER_ROWS", "37")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(!out.exists());
    let part = dir.path().join("out.h5.part");
    let partial = read_scan(&part);
    assert_eq!(partial.frames(), 32);
    for k in 0..32 {
        assert_eq!(partial.row(k), reference.row(k));
    }
    // A resume with other parameters is refused.
    let (code, e) = run(
        &integrate_args(&poni, &out, "no"),
        &["--resume", "--block", "8"],
        &inputs,
    );
    assert_eq!(code, 2);
    assert!(e.contains("cannot resume") && e.contains("split"), "{e}");
    // The right resume finishes it: same file as the uninterrupted run.
    let (code, e) = run(
        &integrate_args(&poni, &out, "bbox"),
        &["--resume", "--workers", "1"],
        &inputs,
    );
    assert_eq!(code, 0, "{e}");
    assert!(!part.exists());
    assert!(read_scan(&out).same_as(&reference));
    // Nothing is left to resume.
    let (code, e) = run(&integrate_args(&poni, &out, "bbox"), &["--resume"], &inputs);
    assert_eq!(code, 2);
    assert!(e.contains("complete"), "{e}");
}

/// A real SIGKILL while `--watch` waits for more frames: the file holds every completed block.
#[cfg(unix)]
#[test]
fn a_killed_run_keeps_its_blocks_and_resume_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let poni = write_small_poni(dir.path());
    let all = dir.path().join("all");
    write_small_frames(&all, 30);
    let full = dir.path().join("full.h5");
    let (code, e) = run(
        &integrate_args(&poni, &full, "no"),
        &[],
        std::slice::from_ref(&all),
    );
    assert_eq!(code, 0, "{e}");
    let mut reference = read_scan(&full);

    let live = dir.path().join("live");
    write_small_frames(&live, 21);
    let out = dir.path().join("out.h5");
    let mut child = xrdct()
        .args(integrate_args(&poni, &out, "no"))
        .args([
            "--block",
            "8",
            "--watch",
            live.to_str().unwrap(),
            "--expect",
            "30",
            "--timeout",
            "60",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let part = dir.path().join("out.h5.part");
    wait_for(&part, Duration::from_secs(30));
    // Wait until the two first blocks are on disk (16 of the 21 frames present).
    let t = Instant::now();
    loop {
        let rows = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if rows > 0 && t.elapsed() > Duration::from_secs(3) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = read_scan(&part);
    assert_eq!(
        partial.frames(),
        16,
        "two complete blocks of 8; the 5 rows in memory are lost"
    );
    for k in 0..16 {
        assert_eq!(partial.row(k), reference.row(k));
    }
    // The rest of the scan arrives; the resumed watch finishes it.
    for k in 21..30 {
        std::fs::copy(
            all.join(format!("frame_{k:05}.cbf")),
            live.join(format!("frame_{k:05}.cbf")),
        )
        .unwrap();
    }
    let (code, e) = run(
        &integrate_args(&poni, &out, "no"),
        &[
            "--resume",
            "--watch",
            live.to_str().unwrap(),
            "--expect",
            "30",
            "--timeout",
            "20",
        ],
        &[],
    );
    assert_eq!(code, 0, "{e}");
    let mut resumed = read_scan(&out);
    resumed.sources = resumed
        .sources
        .iter()
        .map(|s| s.replace("/live/", "/x/"))
        .collect();
    reference.sources = reference
        .sources
        .iter()
        .map(|s| s.replace("/all/", "/x/"))
        .collect();
    assert!(resumed.same_as(&reference));
}
