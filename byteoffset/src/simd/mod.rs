//! Runtime choice of the decoder path, and the SIMD entry points.
//!
//! The CPU is probed once (the first time a path is asked for) and the answer is cached.
//! All `unsafe` of the crate lives in this module and its per-architecture children.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::{Error, scalar};

#[cfg(target_arch = "x86_64")]
mod x86_64;

/// A decoder implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Path {
    /// Portable 64-bit-word decoder (any CPU).
    Scalar,
    /// x86_64 AVX2: 16 deltas per vector step.
    Avx2,
    /// x86_64 AVX-512 (F, BW, VL): 32 deltas per vector step.
    Avx512,
    /// aarch64 NEON (not implemented yet: never available, aarch64 runs [`Path::Scalar`]).
    Neon,
}

impl Path {
    /// Every path.
    pub const ALL: [Path; 4] = [Path::Avx512, Path::Avx2, Path::Neon, Path::Scalar];

    /// Whether this path can run on this CPU (probed once, then cached).
    pub fn is_available(self) -> bool {
        let f = features();
        match self {
            Path::Scalar => true,
            Path::Avx2 => f & AVX2 != 0,
            Path::Avx512 => f & AVX512 != 0,
            Path::Neon => false,
        }
    }

    /// Whether this path uses vector instructions.
    pub fn is_vector(self) -> bool {
        !matches!(self, Path::Scalar)
    }

    /// Lower-case name (`scalar`, `avx2`, `avx512`, `neon`).
    pub fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::Avx2 => "avx2",
            Path::Avx512 => "avx512",
            Path::Neon => "neon",
        }
    }
}

impl core::fmt::Display for Path {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

const AVX2: u8 = 1;
const AVX512: u8 = 2;

fn features() -> u8 {
    static FEATURES: OnceLock<u8> = OnceLock::new();
    *FEATURES.get_or_init(|| {
        #[allow(unused_mut)]
        let mut f = 0;
        #[cfg(target_arch = "x86_64")]
        {
            if x86_64::avx2_available() {
                f |= AVX2;
            }
            if x86_64::avx512_available() {
                f |= AVX512;
            }
        }
        f
    })
}

/// 0: not decided yet (read `XRDCT_FORCE_SCALAR`), 1: forced scalar, 2: best path.
static FORCE: AtomicU8 = AtomicU8::new(0);

fn forced_scalar() -> bool {
    match FORCE.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let on = std::env::var_os("XRDCT_FORCE_SCALAR").is_some_and(|v| v == "1");
            // A concurrent `force_scalar` call wins over the environment.
            let _ = FORCE.compare_exchange(
                0,
                if on { 1 } else { 2 },
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            FORCE.load(Ordering::Relaxed) == 1
        }
    }
}

/// Forces the scalar path for every later call in this process (`true`), or returns to the
/// best path the CPU offers (`false`). Overrides the environment variable
/// `XRDCT_FORCE_SCALAR=1`, which sets the initial state.
pub fn force_scalar(on: bool) {
    FORCE.store(if on { 1 } else { 2 }, Ordering::Relaxed);
}

/// The path [`crate::decode_into`] and friends use now: [`best_path`], or [`Path::Scalar`]
/// when forced.
pub fn active_path() -> Path {
    if forced_scalar() {
        return Path::Scalar;
    }
    best_path()
}

/// The default path on this CPU, ignoring [`force_scalar`]: AVX2 where available, else
/// scalar.
///
/// AVX-512 is not the default: on an Intel Xeon (2026-11) it decoded a Pilatus 2M frame no
/// faster than AVX2 (4.47 against 4.45 Gpixel/s into i32, both bound by stores), so it only
/// runs when asked for with [`crate::decode_into_with`].
pub fn best_path() -> Path {
    let f = features();
    if f & AVX2 != 0 {
        Path::Avx2
    } else if f & AVX512 != 0 {
        Path::Avx512
    } else {
        Path::Scalar
    }
}

/// Decodes `out.len()` values (32-bit wrap) from `pos` after `prev` on `path`, falling back to
/// the scalar path when `path` is not available here. Errors as [`scalar::decode_resume`].
pub(crate) fn decode_resume(
    path: Path,
    input: &[u8],
    pos: usize,
    prev: i32,
    out: &mut [i32],
) -> Result<(usize, i32), Error> {
    #[cfg(target_arch = "x86_64")]
    {
        let progress = match path {
            // SAFETY: `is_available` checked the CPU features the function needs.
            Path::Avx512 if path.is_available() => unsafe {
                x86_64::decode_avx512(input, pos, prev, out)
            },
            // SAFETY: as above.
            Path::Avx2 if path.is_available() => unsafe {
                x86_64::decode_avx2(input, pos, prev, out)
            },
            _ => return scalar::decode_resume(input, pos, prev, out),
        };
        let done = progress.written;
        scalar::decode_resume(input, progress.pos, progress.prev, &mut out[done..]).map_err(|e| {
            match e {
                Error::TooFewElements {
                    offset,
                    decoded,
                    expected: _,
                } => Error::TooFewElements {
                    offset,
                    decoded: decoded + done,
                    expected: out.len(),
                },
                e => e,
            }
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = path;
        scalar::decode_resume(input, pos, prev, out)
    }
}

/// Encodes 32-bit `values` into `out` on `path` (tokens of 32-bit wrapping differences).
/// Returns the bytes written, or `None` when `out` is too short.
pub(crate) fn encode_i32(path: Path, values: &[i32], out: &mut [u8]) -> Option<usize> {
    // Only the x86_64 vector encoder advances these before the portable loop.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
    let mut i = 0;
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
    let mut o = 0;
    #[cfg(target_arch = "x86_64")]
    if matches!(path, Path::Avx2 | Path::Avx512) && Path::Avx2.is_available() && !values.is_empty()
    {
        o = crate::encode::write_token(out, 0, i64::from(values[0]))?;
        // SAFETY: `is_available` checked AVX2.
        (i, o) = unsafe { x86_64::encode_avx2(values, 1, out, o) }?;
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = path;
    let mut prev = if i == 0 { 0 } else { values[i - 1] };
    for &v in &values[i..] {
        o += crate::encode::write_token(out, o, i64::from(v.wrapping_sub(prev)))?;
        prev = v;
    }
    Some(o)
}

/// Decodes into `f32` lanes (the 32-bit decode converted) when `path` has an in-register
/// conversion (AVX2); `None` when it has not (the caller converts through a 32-bit buffer).
/// Errors as [`decode_resume`], with counts for the whole of `out`.
pub(crate) fn decode_f32(
    path: Path,
    input: &[u8],
    out: &mut [f32],
) -> Option<Result<usize, Error>> {
    #[cfg(target_arch = "x86_64")]
    if path == Path::Avx2 && path.is_available() {
        // SAFETY: `is_available` checked AVX2.
        let progress = unsafe { x86_64::decode_avx2(input, 0, 0, out) };
        let (mut pos, mut prev, mut done) = (progress.pos, progress.prev, progress.written);
        let mut tmp = [0i32; 256];
        while done < out.len() {
            let m = (out.len() - done).min(tmp.len());
            let r = scalar::decode_resume(input, pos, prev, &mut tmp[..m]);
            (pos, prev) = match r {
                Ok(state) => state,
                Err(Error::TooFewElements {
                    offset, decoded, ..
                }) => {
                    return Some(Err(Error::TooFewElements {
                        offset,
                        decoded: decoded + done,
                        expected: out.len(),
                    }));
                }
                Err(e) => return Some(Err(e)),
            };
            for (d, &v) in out[done..done + m].iter_mut().zip(&tmp[..m]) {
                *d = v as f32;
            }
            done += m;
        }
        return Some(Ok(pos));
    }
    let _ = (path, input, out);
    None
}
