//! The azimuthal-integration stages and the uniform block they share with the host.
//!
//! A batch holds `n_frames` decoded frames of `n_pixels` `i32` each, one after the other from
//! element `in_offset` of one buffer (the byte-offset decoder's output). Two stages, chosen
//! by the engine's splitting:
//!
//! - [`Stage::IntegrateHist`] (no splitting): a histogram from a per-pixel bin index, with
//!   the signal Σv and the Poisson variance Σmax(v, 1) of each bin summed exactly as 64-bit
//!   integers (pairs of `u32` words with carries, [`SUM_WORDS`] words per bin): the same
//!   numbers as the CPU engine's `i64` sums, in any order.
//! - [`Stage::IntegrateCsr`] (bounding-box and full splitting): a gather per bin over the CSR
//!   matrix, Σc·v and Σc²·max(v, 1) in compensated float32 (TwoSum per addition, the
//!   rounding errors carried in a second float through the tree reduction): one `vec4<f32>`
//!   per bin, `(signal, error, variance, error)`, added in f64 by the host. Each product
//!   `c·v` is rounded once to float32 (relative error ≤ 2⁻²⁴, `c²·max(v, 1)` ≤ 2⁻²³), and the
//!   compensated sum adds a relative error of about 2⁻²⁴ more, whatever the number of
//!   entries, so for non-negative frames every bin's sums are within 1.2·10⁻⁷ (signal) and
//!   2.4·10⁻⁷ (variance) relative of the CPU's f64 sums.
//!
//! Both stages skip dummy values (`reject`, `rej_lo ..= rej_lo + rej_span`, the integers the
//! engine's float32 dummy test rejects) and list each such pixel once in the frame's reject
//! list (`1 + reject_cap` words per frame: count, then pixel indices); the host removes the
//! listed pixels' frame-independent contributions exactly as the CPU engine does, and a
//! count above `reject_cap` tells it to integrate that frame on the CPU.

/// Threads per workgroup of `integrate_hist` (`WG`).
pub const WORKGROUP: u32 = 256;
/// Columns of an `integrate_hist` tile (`TILE_W`).
pub const TILE_W: u32 = 64;
/// Rows of an `integrate_hist` tile (`TILE_H`).
pub const TILE_H: u32 = 64;
/// Most bins a tile may span to be summed in the workgroup histogram (`LOCAL_BINS`).
pub const LOCAL_BINS: u32 = 512;
/// `u32` words per bin of `integrate_hist`'s sums: signal low, high; variance low, high
/// (`SUM_WORDS`).
pub const SUM_WORDS: u32 = 4;
/// Threads per workgroup (one bin) of `integrate_csr` (`CSR_WG`).
pub const CSR_WORKGROUP: u32 = 64;
/// Flag on a CSR entry's pixel index: the entry is its pixel's first in bin order
/// (`FIRST_FLAG`).
pub const FIRST_FLAG: u32 = 0x8000_0000;

/// Uniform block of both stages. Keep in sync with `AzParams` in `wgsl/shared/az_common.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct AzParams {
    /// Frames in the batch.
    pub n_frames: u32,
    /// Pixels per frame (the frame stride in the input).
    pub n_pixels: u32,
    /// Flat bins; a bin index ≥ `n_bins` marks an unused pixel.
    pub n_bins: u32,
    /// Workgroups per row of the 2-D dispatch grid (at most 65 535).
    pub grid_x: u32,
    /// Detector columns.
    pub width: u32,
    /// Detector rows.
    pub height: u32,
    /// `integrate_hist`: tiles per row of tiles, `ceil(width / TILE_W)`.
    pub tiles_x: u32,
    /// `integrate_hist`: tiles per frame.
    pub n_tiles: u32,
    /// Element offset of the batch's first frame in the input.
    pub in_offset: u32,
    /// 1: values in `rej_lo ..= rej_lo + rej_span` are dummies.
    pub reject: u32,
    /// Smallest rejected value.
    pub rej_lo: i32,
    /// Width of the rejected range.
    pub rej_span: u32,
    /// Rejected pixels listed per frame.
    pub reject_cap: u32,
    /// 1: accumulate the Poisson variance.
    pub poisson: u32,
    /// Always 0: the shaders XOR float bits with it so that the compiler cannot reassociate
    /// the compensated sums (keeps the struct 64 bytes).
    pub zero: u32,
    /// Padding.
    pub _pad1: u32,
}

/// The integration stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// No splitting, `wgsl/integrate_hist.wgsl`.
    IntegrateHist,
    /// Sparse matrix (bbox, full), `wgsl/integrate_csr.wgsl`.
    IntegrateCsr,
}

const COMMON: &str = include_str!("../wgsl/shared/az_common.wgsl");

impl Stage {
    /// Every stage.
    pub const ALL: [Stage; 2] = [Stage::IntegrateHist, Stage::IntegrateCsr];

    /// The snake_case name shared by the `.wgsl` file, the CPU port and the bench id.
    pub fn name(self) -> &'static str {
        match self {
            Stage::IntegrateHist => "integrate_hist",
            Stage::IntegrateCsr => "integrate_csr",
        }
    }

    /// The stage's own WGSL file.
    pub fn own_source(self) -> &'static str {
        match self {
            Stage::IntegrateHist => include_str!("../wgsl/integrate_hist.wgsl"),
            Stage::IntegrateCsr => include_str!("../wgsl/integrate_csr.wgsl"),
        }
    }

    /// The complete WGSL module: the shared file, then the stage's file.
    pub fn source(self) -> String {
        format!("{COMMON}\n{}", self.own_source())
    }

    /// The compute entry point.
    pub fn entry_point(self) -> &'static str {
        "main"
    }

    /// Threads per workgroup.
    pub fn workgroup_size(self) -> [u32; 3] {
        match self {
            Stage::IntegrateHist => [WORKGROUP, 1, 1],
            Stage::IntegrateCsr => [CSR_WORKGROUP, 1, 1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{validate, wgsl_layout};

    #[test]
    fn every_stage_validates() {
        for stage in Stage::ALL {
            let m = validate(stage.name(), &stage.source());
            let ep = m
                .entry_points
                .iter()
                .find(|e| e.name == stage.entry_point())
                .expect("entry point");
            assert_eq!(ep.stage, naga::ShaderStage::Compute);
            assert_eq!(
                ep.workgroup_size,
                stage.workgroup_size(),
                "{}",
                stage.name()
            );
        }
    }

    #[test]
    fn params_layout_matches_wgsl() {
        let m = validate("integrate_hist", &Stage::IntegrateHist.source());
        let (size, members) = wgsl_layout(&m, "AzParams");
        assert_eq!(size as usize, size_of::<AzParams>());
        use core::mem::offset_of;
        let expected = [
            ("n_frames", offset_of!(AzParams, n_frames)),
            ("n_pixels", offset_of!(AzParams, n_pixels)),
            ("n_bins", offset_of!(AzParams, n_bins)),
            ("grid_x", offset_of!(AzParams, grid_x)),
            ("width", offset_of!(AzParams, width)),
            ("height", offset_of!(AzParams, height)),
            ("tiles_x", offset_of!(AzParams, tiles_x)),
            ("n_tiles", offset_of!(AzParams, n_tiles)),
            ("in_offset", offset_of!(AzParams, in_offset)),
            ("reject", offset_of!(AzParams, reject)),
            ("rej_lo", offset_of!(AzParams, rej_lo)),
            ("rej_span", offset_of!(AzParams, rej_span)),
            ("reject_cap", offset_of!(AzParams, reject_cap)),
            ("poisson", offset_of!(AzParams, poisson)),
            ("zero", offset_of!(AzParams, zero)),
            ("_pad1", offset_of!(AzParams, _pad1)),
        ];
        assert_eq!(members.len(), expected.len());
        for ((name, off), (wname, woff)) in expected.iter().zip(&members) {
            assert_eq!((*name, *off as u32), (wname.as_str(), *woff));
        }
    }

    #[test]
    fn constants_match_wgsl() {
        for (name, value) in [
            ("WG", WORKGROUP),
            ("TILE_W", TILE_W),
            ("TILE_H", TILE_H),
            ("LOCAL_BINS", LOCAL_BINS),
            ("SUM_WORDS", SUM_WORDS),
            ("CSR_WG", CSR_WORKGROUP),
        ] {
            let line = format!("const {name}: u32 = {value}u;");
            assert!(COMMON.contains(&line), "missing `{line}`");
        }
        assert!(COMMON.contains("const FIRST_FLAG: u32 = 0x80000000u;"));
        assert_eq!(TILE_W * TILE_H, WORKGROUP * 16);
        let hist = Stage::IntegrateHist.own_source();
        let words = LOCAL_BINS * SUM_WORDS;
        assert!(hist.contains(&format!("array<atomic<u32>, {words}>")));
        let csr = Stage::IntegrateCsr.own_source();
        assert!(csr.contains(&format!("array<vec4<f32>, {CSR_WORKGROUP}>")));
    }
}
