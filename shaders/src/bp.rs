//! The back-projection stage of the filtered back-projection, bins innermost, and its
//! uniform block. See `wgsl/backproject.wgsl`.

/// Bins per workgroup (x), `BP_BINS`.
pub const BINS_PER_GROUP: u32 = 64;
/// Pixels per workgroup (y), `BP_PIXELS`.
pub const PIXELS_PER_GROUP: u32 = 4;

/// Uniform block of `backproject`. Keep in sync with `BpParams` in `wgsl/backproject.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct BpParams {
    /// Side of the output slices.
    pub n: u32,
    /// Bins of the filtered rows and of the output.
    pub bins: u32,
    /// Stored projection positions per angle.
    pub len: u32,
    /// Angles.
    pub n_angles: u32,
    /// Pixels listed (the reconstruction circle).
    pub n_pixels: u32,
    /// Workgroups per column of the dispatch grid (y); z counts the rest.
    pub grid_y: u32,
    /// Pixel `(radius, radius)` is on the rotation axis.
    pub radius: f32,
    /// `center − lo`: `t + offset` is the stored position of detector coordinate `t`.
    pub offset: f32,
    /// `center + pad_before`: `t + pad_lo` is the padded position.
    pub pad_lo: f32,
    /// `diag − 1`, the last padded position.
    pub pad_hi: f32,
    /// `π / (2 · angles)`.
    pub scale: f32,
    /// Padding (keeps the struct 48 bytes).
    pub _pad0: u32,
}

/// The stage's WGSL module.
pub fn source() -> &'static str {
    include_str!("../wgsl/backproject.wgsl")
}

/// The stage's name (file, CPU port, bench id).
pub const NAME: &str = "backproject";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{validate, wgsl_layout};

    #[test]
    fn backproject_validates_and_layout_matches() {
        let m = validate(NAME, source());
        let ep = m
            .entry_points
            .iter()
            .find(|e| e.name == "main")
            .expect("entry point");
        assert_eq!(ep.workgroup_size, [BINS_PER_GROUP, PIXELS_PER_GROUP, 1]);
        let (size, members) = wgsl_layout(&m, "BpParams");
        assert_eq!(size as usize, size_of::<BpParams>());
        use core::mem::offset_of;
        let expected = [
            ("n", offset_of!(BpParams, n)),
            ("bins", offset_of!(BpParams, bins)),
            ("len", offset_of!(BpParams, len)),
            ("n_angles", offset_of!(BpParams, n_angles)),
            ("n_pixels", offset_of!(BpParams, n_pixels)),
            ("grid_y", offset_of!(BpParams, grid_y)),
            ("radius", offset_of!(BpParams, radius)),
            ("offset", offset_of!(BpParams, offset)),
            ("pad_lo", offset_of!(BpParams, pad_lo)),
            ("pad_hi", offset_of!(BpParams, pad_hi)),
            ("scale", offset_of!(BpParams, scale)),
            ("_pad0", offset_of!(BpParams, _pad0)),
        ];
        assert_eq!(members.len(), expected.len());
        for ((name, off), (wname, woff)) in expected.iter().zip(&members) {
            assert_eq!((*name, *off as u32), (wname.as_str(), *woff));
        }
        for (name, value) in [("BP_BINS", BINS_PER_GROUP), ("BP_PIXELS", PIXELS_PER_GROUP)] {
            assert!(source().contains(&format!("const {name}: u32 = {value}u;")));
        }
    }
}
