//! The engines' fast paths (tiled no-split histogram and splitting sums, the AVX2 kernel,
//! dummy rejection with static sums, blocks in any order, float frames) against a plain
//! per-bin loop over the engine's own CSR matrix, on random geometries, configurations and
//! frames.

use azint::Error;
use azint::engine::{Engine, ErrorModel, IntegrationConfig, Pattern, Split};
use azint::error::AxisKind;
use azint::geometry::PixelMap;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    rows: usize,
    cols: usize,
    centre: (f64, f64),
    pixel: f64,
    seed: u64,
    split: Split,
    bins: usize,
    azimuthal_bins: Option<usize>,
    dummy: bool,
    poisson: bool,
    dark: bool,
    flat: bool,
    nf: f64,
    block: usize,
}

fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

/// A flat detector seen from `centre`: radial = distance in pixels, azimuth = atan2.
fn map(c: &Case) -> PixelMap {
    let n = c.rows * c.cols;
    let pos = |r: f64, q: f64| {
        let (y, x) = ((r - c.centre.0) * c.pixel, (q - c.centre.1) * c.pixel);
        [(x * x + y * y).sqrt(), y.atan2(x)]
    };
    let mut st = c.seed;
    let mut radial = Vec::with_capacity(n);
    let mut azimuth = Vec::with_capacity(n);
    let mut corners = Vec::with_capacity(n);
    let mut mask = Vec::with_capacity(n);
    let mut sa = Vec::with_capacity(n);
    for i in 0..c.rows {
        for j in 0..c.cols {
            let (r, q) = (i as f64, j as f64);
            let p = pos(r + 0.5, q + 0.5);
            radial.push(p[0]);
            azimuth.push(p[1]);
            corners.push([
                pos(r, q),
                pos(r + 1.0, q),
                pos(r + 1.0, q + 1.0),
                pos(r, q + 1.0),
            ]);
            mask.push(lcg(&mut st).is_multiple_of(17));
            sa.push(0.8 + 0.2 * (lcg(&mut st) % 1000) as f64 / 1000.0);
        }
    }
    let polarization = Some((0..n).map(|k| 0.9 + (k % 7) as f64 * 0.01).collect());
    PixelMap {
        shape: (c.rows, c.cols),
        radial,
        azimuth,
        corners: Some(corners),
        solid_angle: sa,
        polarization,
        mask,
    }
}

fn config(c: &Case, n: usize) -> IntegrationConfig {
    IntegrationConfig {
        bins: c.bins,
        azimuthal_bins: c.azimuthal_bins,
        split: c.split,
        // Dectris' −2 ± 1.5, or (odd seeds) zero itself as the dummy value.
        dummy: c.dummy.then_some(if c.seed % 2 == 1 { 0.0 } else { -2.0 }),
        delta_dummy: c.dummy.then_some(if c.seed % 2 == 1 { 0.5 } else { 1.5 }),
        error_model: if c.poisson {
            ErrorModel::Poisson
        } else {
            ErrorModel::None
        },
        dark: c
            .dark
            .then(|| (0..n).map(|k| (k % 5) as f32 * 0.25).collect()),
        flat: c
            .flat
            .then(|| (0..n).map(|k| 0.95 + (k % 3) as f32 * 0.05).collect()),
        ..IntegrationConfig::default()
    }
}

fn frame(c: &Case, n: usize) -> Vec<i32> {
    let mut st = c.seed ^ 0x9e37_79b9;
    if c.seed & 0x100 != 0 {
        // Realistic: counts, a few zeros, rare dummies and gaps (the fast paths' case).
        return (0..n)
            .map(|_| match lcg(&mut st) % 4000 {
                0 => -1,
                1 => -2,
                2..=300 => 0,
                k => (k % 97) as i32 + (lcg(&mut st) % 3) as i32,
            })
            .collect();
    }
    (0..n)
        .map(|_| match lcg(&mut st) % 20 {
            0 => -1,
            1 => -2,
            2 => 0,
            3 => -7,
            4 => 1_000_000,
            k => (k * 13 + lcg(&mut st) % 50) as i32,
        })
        .collect()
}

/// Plain per-bin loop: pyFAI's preprocessing in f64 and the CSR sums.
fn reference(
    engine: &Engine,
    map: &PixelMap,
    cfg: &IntegrationConfig,
    fr: &[i32],
    nf: f64,
) -> Pattern {
    let matrix = engine.matrix();
    let nb = engine.n_bins();
    let nr = engine.radial().len();
    let mut out = engine.integrate_i32(fr, nf).unwrap();
    for v in [
        &mut out.intensity,
        &mut out.sigma,
        &mut out.count,
        &mut out.sum_signal,
        &mut out.sum_normalization,
    ] {
        v.fill(0.0);
    }
    for b in 0..nb {
        let (mut s, mut v, mut w, mut w2, mut cnt) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (p, c) in matrix.row(b) {
            let c = c as f64;
            let raw = fr[p];
            if map.mask[p]
                || cfg.dummy.is_some_and(|d| {
                    (raw as f32 - d as f32).abs() <= cfg.delta_dummy.unwrap_or(0.0) as f32
                })
            {
                continue;
            }
            let mut norm = map.solid_angle[p] * map.polarization.as_ref().unwrap()[p];
            if let Some(f) = &cfg.flat {
                norm *= f[p] as f64;
            }
            let dark = cfg.dark.as_ref().map_or(0.0, |d| d[p] as f64);
            s += c * (raw as f64 - dark);
            v += c * c * (raw.max(1) as f64);
            w += c * norm * nf;
            w2 += (c * norm * nf).powi(2);
            cnt += c;
        }
        let o = match engine.azimuthal() {
            Some(_) => {
                let na = nb / nr;
                (b % na) * nr + b / na
            }
            None => b,
        };
        if w2 > 0.0 {
            out.intensity[o] = s / w;
            out.sigma[o] = if cfg.error_model == ErrorModel::Poisson {
                v.sqrt() / w
            } else {
                0.0
            };
            out.count[o] = cnt;
            out.sum_signal[o] = s;
            out.sum_normalization[o] = w;
        }
    }
    out
}

/// Equal to 1e-7 relative: the engine subtracts rejected pixels from static sums, the
/// reference adds the valid ones, which rounds differently when most of a bin is rejected.
fn close(a: &[f64], b: &[f64], what: &str) -> Result<(), TestCaseError> {
    let scale = b.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-300);
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        prop_assert!(
            (x - y).abs() <= 1e-7 * y.abs().max(1e-6 * scale),
            "{what}[{i}]: {x} vs {y}"
        );
    }
    Ok(())
}

fn case() -> impl Strategy<Value = Case> {
    (
        (3usize..40, 3usize..40),
        (-10.0f64..50.0, -10.0f64..50.0),
        0.5f64..2.0,
        any::<u64>(),
        prop_oneof![Just(Split::No), Just(Split::BBox), Just(Split::Full)],
        1usize..300,
        prop_oneof![Just(None), (1usize..40).prop_map(Some)],
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        prop_oneof![Just(1.0f64), 0.1f64..10.0],
        1usize..700,
    )
        .prop_map(
            |(
                (rows, cols),
                centre,
                pixel,
                seed,
                split,
                bins,
                azimuthal_bins,
                (dummy, poisson, dark, flat),
                nf,
                block,
            )| Case {
                rows,
                cols,
                centre,
                pixel,
                seed,
                split,
                bins,
                azimuthal_bins,
                dummy,
                poisson,
                dark,
                flat,
                nf,
                block,
            },
        )
}

fn check_case(c: &Case) -> Result<(), TestCaseError> {
    let m = map(c);
    let n = c.rows * c.cols;
    let cfg = config(c, n);
    let Ok(engine) = Engine::new(&m, &cfg) else {
        // Every pixel masked or a degenerate range: a typed error, nothing to compare.
        return Ok(());
    };
    let fr = frame(c, n);
    let ours = engine.integrate_i32(&fr, c.nf).unwrap();
    let theirs = reference(&engine, &m, &cfg, &fr, c.nf);
    close(&ours.intensity, &theirs.intensity, "intensity")?;
    close(&ours.sigma, &theirs.sigma, "sigma")?;
    close(&ours.count, &theirs.count, "count")?;
    close(&ours.sum_signal, &theirs.sum_signal, "sum_signal")?;
    close(
        &ours.sum_normalization,
        &theirs.sum_normalization,
        "sum_normalization",
    )?;

    // Blocks of any size, in a scrambled order, give the very same pattern: tiles that arrive
    // in pieces are summed once complete, exactly as whole ones.
    let mut acc = engine.new_accumulator();
    let mut starts: Vec<usize> = (0..n).step_by(c.block).collect();
    let mut st = c.seed ^ 0x5151;
    for i in (1..starts.len()).rev() {
        starts.swap(i, lcg(&mut st) as usize % (i + 1));
    }
    for &s in &starts {
        engine
            .add_block(&mut acc, s, &fr[s..(s + c.block).min(n)])
            .unwrap();
    }
    let blocks = engine.finish(&acc, c.nf).unwrap();
    prop_assert_eq!(&blocks, &ours, "blocks in scrambled order");

    // Three frames through the multi-frame path (tile by tile) give the same patterns as
    // one by one.
    let other: Vec<i32> = fr.iter().rev().copied().collect();
    let third: Vec<i32> = fr.iter().map(|&v| if v > 0 { v / 2 } else { v }).collect();
    let singles = [
        &ours,
        &engine.integrate_i32(&other, c.nf).unwrap(),
        &engine.integrate_i32(&third, c.nf).unwrap(),
    ];
    let mut accs = [(); 3].map(|_| engine.new_accumulator());
    let tile = engine.preferred_block();
    for s in (0..n).step_by(tile) {
        let e = (s + tile).min(n);
        engine
            .add_blocks(accs.each_mut(), s, [&fr[s..e], &other[s..e], &third[s..e]])
            .unwrap();
    }
    for (k, (acc, single)) in accs.iter().zip(singles).enumerate() {
        prop_assert_eq!(
            &engine.finish(acc, c.nf).unwrap(),
            single,
            "frame {} of three",
            k
        );
    }

    // The float path agrees with the integer path.
    let fr32: Vec<f32> = fr.iter().map(|&v| v as f32).collect();
    let f = engine.integrate_f32(&fr32, c.nf).unwrap();
    close(&f.intensity, &ours.intensity, "f32 intensity")?;
    close(&f.sigma, &ours.sigma, "f32 sigma")?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn engine_matches_reference(c in case()) {
        check_case(&c)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]

    /// Frames of one to two tiles and a partial one (the engine sums 65 536-pixel tiles).
    #[test]
    fn engine_matches_reference_across_tiles(
        c in case(),
        rows in 150usize..330,
        cols in 300usize..420,
        block in prop_oneof![1usize..5000, 5000usize..140_000],
    ) {
        let c = Case { rows, cols, block, bins: c.bins * 4, ..c };
        check_case(&c)?;
    }
}

#[test]
fn rejects_bad_inputs() {
    let c = Case {
        rows: 10,
        cols: 12,
        centre: (-3.0, 4.0),
        pixel: 1.0,
        seed: 1,
        split: Split::BBox,
        bins: 20,
        azimuthal_bins: None,
        dummy: true,
        poisson: true,
        dark: false,
        flat: false,
        nf: 1.0,
        block: 7,
    };
    let m = map(&c);
    let cfg = config(&c, 120);
    let engine = Engine::new(&m, &cfg).unwrap();
    let is = |r: Result<_, Error>, ok: fn(&Error) -> bool| match r {
        Err(e) => assert!(ok(&e), "unexpected error: {e}"),
        Ok(_) => panic!("accepted"),
    };
    is(engine.integrate_i32(&[0; 119], 1.0).map(drop), |e| {
        matches!(
            e,
            Error::ShapeMismatch {
                what: "frame",
                expected: (10, 12),
                actual: (0, 119)
            }
        )
    });
    let mut acc = engine.new_accumulator();
    is(engine.add_block(&mut acc, 115, &[0; 10]), |e| {
        matches!(
            e,
            Error::BlockOutOfRange {
                first: 115,
                len: 10,
                n_pixels: 120
            }
        )
    });
    is(engine.add_block(&mut acc, usize::MAX, &[0; 10]), |e| {
        matches!(e, Error::BlockOutOfRange { .. })
    });
    is(engine.finish(&acc, 1.0).map(drop), |e| {
        matches!(
            e,
            Error::IncompleteFrame {
                added: 0,
                expected: 120
            }
        )
    });
    let other = Engine::new(
        &m,
        &IntegrationConfig {
            bins: 21,
            ..cfg.clone()
        },
    )
    .unwrap();
    is(other.add_block(&mut acc, 0, &[0; 120]), |e| {
        matches!(e, Error::ForeignAccumulator)
    });
    is(
        engine.integrate_i32(&[0; 120], f64::NAN).map(drop),
        |e| matches!(e, Error::InvalidNormalizationFactor { value } if value.is_nan()),
    );
    is(engine.integrate_f32(&[0.0; 120], 0.0).map(drop), |e| {
        matches!(e, Error::InvalidNormalizationFactor { value: 0.0 })
    });
    is(engine.medfilt(&[0; 120], (0.6, 0.4), 1.0).map(drop), |e| {
        matches!(e, Error::InvalidQuantiles { .. })
    });
    let build = |map: &PixelMap, cfg: &IntegrationConfig| Engine::new(map, cfg).map(drop);
    is(
        build(
            &m,
            &IntegrationConfig {
                bins: 0,
                ..cfg.clone()
            },
        ),
        |e| {
            matches!(
                e,
                Error::ZeroBins {
                    axis: AxisKind::Radial
                }
            )
        },
    );
    is(
        build(
            &m,
            &IntegrationConfig {
                azimuthal_bins: Some(0),
                ..cfg.clone()
            },
        ),
        |e| {
            matches!(
                e,
                Error::ZeroBins {
                    axis: AxisKind::Azimuthal
                }
            )
        },
    );
    is(
        build(
            &m,
            &IntegrationConfig {
                bins: usize::MAX / 2,
                azimuthal_bins: Some(3),
                ..cfg.clone()
            },
        ),
        |e| matches!(e, Error::TooManyBins { azimuthal: 3, .. }),
    );
    let mut short = m.clone();
    short.radial.pop();
    is(build(&short, &cfg), |e| {
        matches!(
            e,
            Error::ShapeMismatch {
                what: "radial array",
                actual: (0, 119),
                ..
            }
        )
    });
    let mut no_corners = m.clone();
    no_corners.corners = None;
    is(build(&no_corners, &cfg), |e| {
        matches!(e, Error::MissingCorners { split: Split::BBox })
    });
    let mut all_masked = m.clone();
    all_masked.mask.fill(true);
    is(build(&all_masked, &cfg), |e| {
        matches!(e, Error::NoValidPixel)
    });
    let nan_range = IntegrationConfig {
        radial_range: Some((f64::NAN, 1.0)),
        ..cfg.clone()
    };
    is(build(&m, &nan_range), |e| {
        matches!(
            e,
            Error::NotFinite {
                key: "radial_range",
                ..
            }
        )
    });
    // pyFAI nudges the upper bound up by a float32 epsilon, so only a range at 0 is empty.
    let empty_range = IntegrationConfig {
        radial_range: Some((0.0, 0.0)),
        ..cfg.clone()
    };
    is(build(&m, &empty_range), |e| {
        matches!(
            e,
            Error::DegenerateRange {
                axis: AxisKind::Radial,
                range: (0.0, 0.0)
            }
        )
    });
    let nan_dummy = IntegrationConfig {
        dummy: Some(f64::NAN),
        ..cfg.clone()
    };
    is(build(&m, &nan_dummy), |e| {
        matches!(e, Error::NotFinite { key: "dummy", .. })
    });
    let mut nan_geom = m.clone();
    nan_geom.radial.fill(f64::NAN);
    is(build(&nan_geom, &cfg), |e| matches!(e, Error::NoValidPixel));
    assert!(engine.finish(&engine.new_accumulator(), f64::NAN).is_err());
}
