//! The byte-offset decoder's three stages and the structs they share with the host.
//!
//! A batch holds several frames' streams, each starting at a multiple of 16 bytes of one
//! input buffer. Each stream is cut into 4096-byte blocks (one workgroup each) of 16-byte
//! chunks (one thread each). A *state* is how many bytes at the start of a chunk belong to a
//! token that started before it (0..=14), or [`ERR`] once a token ran past the end of the
//! stream; a chunk maps every entry state to an exit state, a token count and a wrapping sum
//! of deltas, and those maps compose associatively. So:
//!
//! 1. [`Stage::BlockTables`]: every block's table (state map, and count and sum per entry
//!    state), from a workgroup scan of its chunks' maps.
//! 2. [`Stage::BlockScan`]: one workgroup per frame scans the frame's block tables from entry
//!    state 0: every block's entry state, first pixel index and starting value; the frame's
//!    token count and final state.
//! 3. [`Stage::Decode`]: every chunk decodes its tokens from the state, index and value that a
//!    workgroup scan gives it, and writes its pixels.
//!
//! No stage depends on the escape layout: long runs of `0x80` bytes cost at most a few more
//! loop rounds per chunk, and nothing reads back to the host between stages.

/// Threads per workgroup in every byte-offset stage (`WG` in the WGSL).
pub const WORKGROUP: u32 = 256;
/// Bytes of stream per thread (`CHUNK`).
pub const CHUNK: u32 = 16;
/// Bytes of stream per workgroup (`BLOCK`).
pub const BLOCK: u32 = WORKGROUP * CHUNK;
/// The error state: a token ran past the end of the stream (`ERR`).
pub const ERR: u32 = 15;
/// Words per block table: state map (2), token count per entry state (16), sum per entry
/// state (16) (`TABLE_WORDS`).
pub const TABLE_WORDS: u32 = 34;
/// Words of status per frame (`STATUS_WORDS`), see [`FrameStatus`].
pub const STATUS_WORDS: u32 = 8;
/// The identity state map, packed as in the WGSL (`ID_MAP`).
pub const ID_MAP: [u32; 2] = [0x7654_3210, 0xfedc_ba98];

/// Uniform block of every stage. Keep in sync with `Params` in `wgsl/shared/bo_common.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    /// Frames in the batch (stage 2 dispatches one workgroup per frame).
    pub n_frames: u32,
    /// Blocks in the batch (stages 1 and 3 dispatch one workgroup per block).
    pub n_blocks: u32,
    /// Workgroups per row of the 2-D dispatch grid (at most 65 535).
    pub grid_x: u32,
    /// 1: write pixels as `f32`; 0: as `i32`.
    pub out_f32: u32,
}

/// One frame of a batch. Keep in sync with `Frame` in `wgsl/shared/bo_common.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Frame {
    /// Byte offset of the stream in the input buffer; a multiple of 16.
    pub in_offset: u32,
    /// Bytes of stream.
    pub in_len: u32,
    /// Elements expected.
    pub n_pixels: u32,
    /// Element offset of the frame in the output buffer.
    pub out_offset: u32,
    /// Index of the frame's first block in the batch.
    pub first_block: u32,
    /// `ceil(in_len / BLOCK)`.
    pub n_blocks: u32,
    /// Padding (keeps the struct 32 bytes).
    pub _pad0: u32,
    /// Padding.
    pub _pad1: u32,
}

/// The status words of one frame, as the stages leave them. Keep in sync with the stages'
/// comments in `wgsl/bo_block_scan.wgsl` and `wgsl/bo_decode.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct FrameStatus {
    /// State after the whole stream: 0, or [`ERR`] when the last token runs past its end.
    pub final_state: u32,
    /// Complete tokens in the stream.
    pub tokens: u32,
    /// Byte offset (in the stream) of the token that runs past the end, or `u32::MAX`.
    pub truncated_at: u32,
    /// Bytes that token needs (3, 7 or 15).
    pub truncated_needs: u32,
    /// Byte offset just after the last expected token, or `u32::MAX` if not reached.
    pub end_of_expected: u32,
    /// 64-bit deltas among the expected tokens whose value does not fit 32 bits.
    pub wide_deltas: u32,
    /// Reserved.
    pub _reserved: [u32; 2],
}

/// The stages of the byte-offset decoder, in dispatch order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Stage 1, `wgsl/bo_block_tables.wgsl`.
    BlockTables,
    /// Stage 2, `wgsl/bo_block_scan.wgsl`.
    BlockScan,
    /// Stage 3, `wgsl/bo_decode.wgsl`.
    Decode,
}

const COMMON: &str = include_str!("../wgsl/shared/bo_common.wgsl");
const SCAN: &str = include_str!("../wgsl/shared/bo_scan.wgsl");
const CHUNK_WGSL: &str = include_str!("../wgsl/shared/bo_chunk.wgsl");

impl Stage {
    /// Every stage, in dispatch order.
    pub const ALL: [Stage; 3] = [Stage::BlockTables, Stage::BlockScan, Stage::Decode];

    /// The snake_case name shared by the `.wgsl` file, the CPU port and the bench id.
    pub fn name(self) -> &'static str {
        match self {
            Stage::BlockTables => "bo_block_tables",
            Stage::BlockScan => "bo_block_scan",
            Stage::Decode => "bo_decode",
        }
    }

    /// The stage's own WGSL file.
    pub fn own_source(self) -> &'static str {
        match self {
            Stage::BlockTables => include_str!("../wgsl/bo_block_tables.wgsl"),
            Stage::BlockScan => include_str!("../wgsl/bo_block_scan.wgsl"),
            Stage::Decode => include_str!("../wgsl/bo_decode.wgsl"),
        }
    }

    /// The shared files the stage needs, in order.
    pub fn shared_sources(self) -> &'static [&'static str] {
        match self {
            Stage::BlockScan => &[COMMON, SCAN],
            Stage::BlockTables | Stage::Decode => &[COMMON, SCAN, CHUNK_WGSL],
        }
    }

    /// The complete WGSL module: shared files, then the stage's file.
    pub fn source(self) -> String {
        let mut s = String::new();
        for part in self.shared_sources() {
            s.push_str(part);
            s.push('\n');
        }
        s.push_str(self.own_source());
        s
    }

    /// The compute entry point.
    pub fn entry_point(self) -> &'static str {
        "main"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{validate, wgsl_layout};

    /// The stage's WGSL, parsed and validated.
    fn module(stage: Stage) -> naga::Module {
        validate(stage.name(), &stage.source())
    }

    #[test]
    fn every_stage_validates() {
        for stage in Stage::ALL {
            let m = module(stage);
            let ep = m
                .entry_points
                .iter()
                .find(|e| e.name == stage.entry_point())
                .expect("entry point");
            assert_eq!(ep.stage, naga::ShaderStage::Compute);
            assert_eq!(ep.workgroup_size, [WORKGROUP, 1, 1], "{}", stage.name());
        }
    }

    #[test]
    fn params_layout_matches_wgsl() {
        let m = module(Stage::Decode);
        let (size, members) = wgsl_layout(&m, "Params");
        assert_eq!(size as usize, size_of::<Params>());
        let expected = [
            ("n_frames", core::mem::offset_of!(Params, n_frames)),
            ("n_blocks", core::mem::offset_of!(Params, n_blocks)),
            ("grid_x", core::mem::offset_of!(Params, grid_x)),
            ("out_f32", core::mem::offset_of!(Params, out_f32)),
        ];
        for ((name, off), (wname, woff)) in expected.iter().zip(&members) {
            assert_eq!((*name, *off as u32), (wname.as_str(), *woff));
        }
        assert_eq!(members.len(), expected.len());
    }

    #[test]
    fn frame_layout_matches_wgsl() {
        let m = module(Stage::BlockScan);
        let (size, members) = wgsl_layout(&m, "Frame");
        assert_eq!(size as usize, size_of::<Frame>());
        let expected = [
            ("in_offset", core::mem::offset_of!(Frame, in_offset)),
            ("in_len", core::mem::offset_of!(Frame, in_len)),
            ("n_pixels", core::mem::offset_of!(Frame, n_pixels)),
            ("out_offset", core::mem::offset_of!(Frame, out_offset)),
            ("first_block", core::mem::offset_of!(Frame, first_block)),
            ("n_blocks", core::mem::offset_of!(Frame, n_blocks)),
            ("_pad0", core::mem::offset_of!(Frame, _pad0)),
            ("_pad1", core::mem::offset_of!(Frame, _pad1)),
        ];
        assert_eq!(members.len(), expected.len());
        for ((name, off), (wname, woff)) in expected.iter().zip(&members) {
            assert_eq!((*name, *off as u32), (wname.as_str(), *woff));
        }
    }

    #[test]
    fn constants_match_wgsl() {
        let common = COMMON;
        for (name, value) in [
            ("WG", WORKGROUP),
            ("CHUNK", CHUNK),
            ("BLOCK", BLOCK),
            ("ERR", ERR),
            ("TABLE_WORDS", TABLE_WORDS),
            ("STATUS_WORDS", STATUS_WORDS),
        ] {
            let line = format!("const {name}: u32 = {value}u;");
            assert!(common.contains(&line), "missing `{line}`");
        }
        let id = format!(
            "const ID_MAP: vec2<u32> = vec2<u32>(0x{:08x}u, 0x{:08x}u);",
            ID_MAP[0], ID_MAP[1]
        );
        assert!(common.contains(&id), "missing `{id}`");
        assert_eq!(size_of::<FrameStatus>(), STATUS_WORDS as usize * 4);
    }
}
