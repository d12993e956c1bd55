//! Sinogram assembly: integrated patterns in acquisition order → a
//! `rotations × translations × bins` cube, with optional monitor normalization and missing
//! or failed frames filled by interpolation along the translation (and flagged).

use crate::tomo::scan::ScanModel;

/// Errors of the assembly (the caller's inputs disagree).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinogramError {
    /// The pattern buffer does not hold frames × bins values.
    #[error("{values} pattern values for {frames} frames × {bins} bins")]
    Patterns {
        /// Values given.
        values: usize,
        /// Frames of the scan.
        frames: usize,
        /// Bins.
        bins: usize,
    },
    /// `frame_ok` or the monitor has the wrong length.
    #[error("{what} has {len} entries for {frames} frames")]
    Length {
        /// Which input.
        what: &'static str,
        /// Entries.
        len: usize,
        /// Frames.
        frames: usize,
    },
    /// Every frame is missing.
    #[error("no valid frame in the scan")]
    NoData,
}

/// The assembled cube.
#[derive(Clone, Debug, PartialEq)]
pub struct Assembled {
    /// `rotations × translations × bins`.
    pub data: Vec<f32>,
    /// `rotations × translations`: `true` where the frame was missing/failed and filled.
    pub filled: Vec<bool>,
    /// Number of filled positions.
    pub filled_count: usize,
}

/// Places patterns (acquisition order, `frames × bins`) into a sinogram cube.
///
/// Frames with `frame_ok[f] == false`, with a non-finite value, or with a non-positive or
/// non-finite monitor reading are treated as missing. With a monitor, each pattern is
/// multiplied by `mean(monitor) / monitor[f]` (mean over valid readings). Missing values are
/// interpolated linearly along the translation between the nearest valid neighbours of the
/// same rotation (copied from the one neighbour at the ends); a rotation with no valid
/// frame takes the mean of the nearest valid rotations before and after it.
pub fn assemble(
    scan: &ScanModel,
    patterns: &[f32],
    bins: usize,
    frame_ok: &[bool],
    monitor: Option<&[f64]>,
) -> Result<Assembled, SinogramError> {
    let frames = scan.frames();
    if bins == 0 || patterns.len() != frames.saturating_mul(bins) {
        return Err(SinogramError::Patterns {
            values: patterns.len(),
            frames,
            bins,
        });
    }
    if frame_ok.len() != frames {
        return Err(SinogramError::Length {
            what: "frame_ok",
            len: frame_ok.len(),
            frames,
        });
    }
    let (nr, nt) = (scan.rotations(), scan.translations());
    let mut ok: Vec<bool> = vec![false; frames];
    let mut data = vec![0f32; frames * bins];
    let scale: Vec<f64> = match monitor {
        Some(m) => {
            if m.len() != frames {
                return Err(SinogramError::Length {
                    what: "monitor",
                    len: m.len(),
                    frames,
                });
            }
            let good: Vec<f64> = m
                .iter()
                .copied()
                .filter(|v| v.is_finite() && *v > 0.0)
                .collect();
            let mean = good.iter().sum::<f64>() / good.len().max(1) as f64;
            m.iter()
                .map(|&v| {
                    if v.is_finite() && v > 0.0 {
                        mean / v
                    } else {
                        f64::NAN
                    }
                })
                .collect()
        }
        None => vec![1.0; frames],
    };
    for f in 0..frames {
        let Some((r, t)) = scan.position(f) else {
            continue;
        };
        let src = &patterns[f * bins..(f + 1) * bins];
        let s = scale[f];
        if !frame_ok[f] || !s.is_finite() || src.iter().any(|v| !v.is_finite()) {
            continue;
        }
        let dst = &mut data[(r * nt + t) * bins..(r * nt + t + 1) * bins];
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = (v as f64 * s) as f32;
        }
        ok[r * nt + t] = true;
    }
    if !ok.iter().any(|&o| o) {
        return Err(SinogramError::NoData);
    }
    let filled: Vec<bool> = ok.iter().map(|&o| !o).collect();
    // Along the translation, per rotation.
    let mut row_has_data = vec![false; nr];
    for r in 0..nr {
        let valid: Vec<usize> = (0..nt).filter(|&t| ok[r * nt + t]).collect();
        if valid.is_empty() {
            continue;
        }
        row_has_data[r] = true;
        for t in 0..nt {
            if ok[r * nt + t] {
                continue;
            }
            let right = valid.partition_point(|&v| v < t);
            let (a, b) = match (right.checked_sub(1).map(|i| valid[i]), valid.get(right)) {
                (Some(a), Some(&b)) => (a, b),
                (Some(a), None) => (a, a),
                (None, Some(&b)) => (b, b),
                (None, None) => continue,
            };
            let w = if b == a {
                0.0
            } else {
                (t - a) as f32 / (b - a) as f32
            };
            for k in 0..bins {
                let va = data[(r * nt + a) * bins + k];
                let vb = data[(r * nt + b) * bins + k];
                data[(r * nt + t) * bins + k] = va * (1.0 - w) + vb * w;
            }
        }
    }
    // Whole rotations missing: mean of the nearest rotations with data.
    let good_rows: Vec<usize> = (0..nr).filter(|&r| row_has_data[r]).collect();
    for r in 0..nr {
        if row_has_data[r] {
            continue;
        }
        let right = good_rows.partition_point(|&v| v < r);
        let nb: Vec<usize> = [
            right.checked_sub(1).map(|i| good_rows[i]),
            good_rows.get(right).copied(),
        ]
        .into_iter()
        .flatten()
        .collect();
        for i in 0..nt * bins {
            let s: f32 = nb.iter().map(|&q| data[q * nt * bins + i]).sum();
            data[r * nt * bins + i] = s / nb.len() as f32;
        }
    }
    let filled_count = filled.iter().filter(|&&f| f).count();
    Ok(Assembled {
        data,
        filled,
        filled_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tomo::scan::FastAxis;

    #[test]
    fn zigzag_places_frames_and_fills_gaps() {
        let scan = ScanModel::new(2, 4, FastAxis::Translation, true, vec![0.0, 90.0]).unwrap();
        // pattern value = 10 * rotation + translation, 2 bins
        let mut p = vec![0f32; 8 * 2];
        for f in 0..8 {
            let (r, t) = scan.position(f).unwrap();
            p[f * 2] = (10 * r + t) as f32;
            p[f * 2 + 1] = 1.0;
        }
        let mut ok = vec![true; 8];
        ok[scan.frame_index(1, 2).unwrap()] = false;
        ok[scan.frame_index(0, 0).unwrap()] = false;
        let a = assemble(&scan, &p, 2, &ok, None).unwrap();
        assert_eq!(a.filled_count, 2);
        assert!(a.filled[4 + 2] && a.filled[0]);
        assert_eq!(a.data[(4 + 2) * 2], 12.0); // interpolated between 11 and 13
        assert_eq!(a.data[0], 1.0); // copied from the one neighbour
        assert_eq!(a.data[(4 + 3) * 2], 13.0);
    }

    #[test]
    fn monitor_normalizes_and_rejects_bad_readings() {
        let scan = ScanModel::new(1, 3, FastAxis::Translation, false, vec![0.0]).unwrap();
        let p = vec![2.0f32, 4.0, 6.0];
        let m = [1.0, 2.0, 0.0];
        let a = assemble(&scan, &p, 1, &[true; 3], Some(&m)).unwrap();
        assert_eq!(a.data[0], 3.0); // × 1.5 / 1
        assert_eq!(a.data[1], 3.0); // × 1.5 / 2
        assert!(a.filled[2]);
        assert!(matches!(
            assemble(&scan, &p, 1, &[false; 3], None),
            Err(SinogramError::NoData)
        ));
        assert!(matches!(
            assemble(&scan, &p, 2, &[true; 3], None),
            Err(SinogramError::Patterns { .. })
        ));
    }

    #[test]
    fn whole_rotation_missing_takes_neighbours() {
        let scan = ScanModel::new(3, 2, FastAxis::Translation, false, vec![0.0, 1.0, 2.0]).unwrap();
        let p = vec![1.0f32, 1.0, 0.0, 0.0, 3.0, 3.0];
        let a = assemble(&scan, &p, 1, &[true, true, false, false, true, true], None).unwrap();
        assert_eq!(&a.data[2..4], &[2.0, 2.0]);
    }
}
