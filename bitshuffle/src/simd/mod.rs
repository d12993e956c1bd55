//! Runtime choice of the bit un-transpose, and its SIMD entry point.
//!
//! The CPU is probed once and the answer cached. All `unsafe` of the crate lives in this
//! module's per-architecture child.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::scalar;

#[cfg(target_arch = "x86_64")]
mod x86_64;

/// A bit un-transpose implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Path {
    /// Portable: 8×8 bit blocks transposed in a `u64` (any CPU).
    Scalar,
    /// x86_64 AVX2: 32 groups of 8 elements (256 elements) per step.
    Avx2,
}

impl Path {
    /// Every path.
    pub const ALL: [Path; 2] = [Path::Avx2, Path::Scalar];

    /// Whether this path can run on this CPU (probed once, then cached).
    pub fn is_available(self) -> bool {
        match self {
            Path::Scalar => true,
            Path::Avx2 => avx2(),
        }
    }

    /// Lower-case name (`scalar`, `avx2`).
    pub fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::Avx2 => "avx2",
        }
    }
}

impl core::fmt::Display for Path {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

fn avx2() -> bool {
    static AVX2: OnceLock<bool> = OnceLock::new();
    *AVX2.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            x86_64::avx2_available()
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
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

/// Forces the portable path for every later call in this process (`true`), or returns to
/// the best path the CPU offers (`false`). Overrides the environment variable
/// `XRDCT_FORCE_SCALAR=1`, which sets the initial state.
pub fn force_scalar(on: bool) {
    FORCE.store(if on { 1 } else { 2 }, Ordering::Relaxed);
}

/// The path the decoders use now: [`best_path`], or [`Path::Scalar`] when forced.
pub fn active_path() -> Path {
    if forced_scalar() {
        Path::Scalar
    } else {
        best_path()
    }
}

/// The default path on this CPU, ignoring [`force_scalar`]: AVX2 where available, else
/// portable.
pub fn best_path() -> Path {
    if avx2() { Path::Avx2 } else { Path::Scalar }
}

/// Un-transposes one bit-shuffled block `src` (`n * s` bytes, `n` a multiple of 8) into
/// `dst` (same length) on `path` (the portable path when `path` is not available here).
pub(crate) fn untranspose(path: Path, src: &[u8], dst: &mut [u8], s: usize) {
    debug_assert_eq!(src.len(), dst.len());
    #[cfg(target_arch = "x86_64")]
    if path == Path::Avx2 && path.is_available() {
        // SAFETY: `is_available` checked AVX2.
        let g = unsafe { x86_64::untranspose_avx2(src, dst, s) };
        scalar::untranspose_groups(src, dst, s, g);
        return;
    }
    let _ = path;
    scalar::untranspose(src, dst, s);
}
