//! The back-projection block kernel compiled for AVX2 + FMA, chosen at run time.
//!
//! The body is the portable `accumulate_block_impl`, inlined into a function compiled
//! with the wider instruction set, so there is one implementation and the compiler emits
//! 256-bit FMAs for it. `XRDCT_FORCE_SCALAR=1` forces the portable path, as it does for
//! byte-offset decoding and the integration kernels.

use super::{BLOCK, Kernel, Tap, accumulate_block_impl};

/// The AVX2 + FMA kernel when the CPU has both (and the user did not opt out).
pub(super) fn kernel() -> Option<Kernel> {
    if std::env::var_os("XRDCT_FORCE_SCALAR").is_some_and(|v| v == "1") {
        return None;
    }
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        Some(accumulate_block_avx2_fma)
    } else {
        None
    }
}

/// Name of the kernel [`kernel`] picks, for benchmark reports.
pub(super) fn active_path() -> &'static str {
    if kernel().is_some() {
        "avx2+fma"
    } else {
        "portable"
    }
}

fn accumulate_block_avx2_fma(
    acc: &mut [f32; BLOCK],
    filtered: &[f32],
    taps: &[Tap],
    bins: usize,
    b0: usize,
) {
    // SAFETY: this function is only handed out by `kernel()`, after
    // `is_x86_feature_detected!` confirmed AVX2 and FMA on this CPU.
    unsafe { inner(acc, filtered, taps, bins, b0) }
}

/// # Safety
/// The CPU must support AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
unsafe fn inner(acc: &mut [f32; BLOCK], filtered: &[f32], taps: &[Tap], bins: usize, b0: usize) {
    accumulate_block_impl::<true>(acc, filtered, taps, bins, b0)
}
