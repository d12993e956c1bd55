//! CPU ports of the WGSL stages, in the shaders' shape.
//!
//! Each stage is a function named as its `.wgsl` file that runs every workgroup of a dispatch
//! in turn, taking the stage's buffers in binding order. Inside a workgroup, each phase
//! between two barriers runs for every thread before the next phase starts, so per-thread
//! values live in arrays indexed by the thread id; the workgroup scans are plain sequential
//! scans (the same result as the shaders' Hillis-Steele scans). Buffers of `vec4<u32>` are
//! byte slices here (little-endian, as on every GPU wgpu targets).
#![expect(
    clippy::needless_range_loop,
    reason = "loops over thread ids mirror the shaders' invocations"
)]

mod backproject;
mod bo_block_scan;
mod bo_block_tables;
mod bo_decode;
mod bo_shared;
mod integrate_csr;
mod integrate_hist;

pub use backproject::backproject;
pub use bo_block_scan::bo_block_scan;
pub use bo_block_tables::bo_block_tables;
pub use bo_decode::bo_decode;
pub use bo_shared::{map_get, map_then};
pub use integrate_csr::{add_pair, integrate_csr, two_sum};
pub use integrate_hist::{hist_sums, integrate_hist};

use crate::bo::{BLOCK, Frame, Params, STATUS_WORDS, TABLE_WORDS};

/// Runs the three byte-offset stages on a batch, as the GPU does: `src` holds the streams at
/// the frames' `in_offset`s (padded so that every 16-byte chunk plus one more can be read),
/// `frames` are laid out as the host lays them out (consecutive blocks, `out_offset`s).
/// Returns the output words and the status words of every frame.
pub fn bo_decode_batch(
    frames: &[Frame],
    src: &[u8],
    out_f32: bool,
    dst_len: usize,
) -> (Vec<u32>, Vec<u32>) {
    let n_blocks: u32 = frames.iter().map(|f| f.n_blocks).sum();
    let params = Params {
        n_frames: frames.len() as u32,
        n_blocks,
        grid_x: n_blocks.max(1),
        out_f32: u32::from(out_f32),
    };
    let mut block_frame = Vec::with_capacity(n_blocks as usize);
    for (i, f) in frames.iter().enumerate() {
        block_frame.extend(std::iter::repeat_n(i as u32, f.n_blocks as usize));
    }
    let mut tables = vec![0u32; n_blocks as usize * TABLE_WORDS as usize];
    let mut block_state = vec![[0u32; 4]; n_blocks as usize];
    let mut status = vec![0u32; frames.len() * STATUS_WORDS as usize];
    let mut dst = vec![0u32; dst_len];
    bo_block_tables(&params, frames, &block_frame, src, &mut tables);
    let frame_grid = Params {
        grid_x: params.n_frames.max(1),
        ..params
    };
    bo_block_scan(&frame_grid, frames, &tables, &mut block_state, &mut status);
    bo_decode(
        &params,
        frames,
        &block_frame,
        src,
        &block_state,
        &mut dst,
        &mut status,
    );
    (dst, status)
}

/// Lays out `streams` (stream bytes, expected pixels) as a batch: frame descriptors with
/// 16-byte-aligned input offsets and consecutive outputs, and the padded input bytes.
pub fn bo_layout(streams: &[(&[u8], u32)]) -> (Vec<Frame>, Vec<u8>, usize) {
    let mut frames = Vec::with_capacity(streams.len());
    let mut src = Vec::new();
    let mut out = 0u32;
    let mut block = 0u32;
    for &(bytes, n) in streams {
        let in_offset = src.len() as u32;
        let n_blocks = (bytes.len() as u32).div_ceil(BLOCK);
        frames.push(Frame {
            in_offset,
            in_len: bytes.len() as u32,
            n_pixels: n,
            out_offset: out,
            first_block: block,
            n_blocks,
            ..Frame::default()
        });
        src.extend_from_slice(bytes);
        src.resize(src.len().next_multiple_of(16), 0);
        out += n;
        block += n_blocks;
    }
    src.resize(src.len() + 32, 0);
    (frames, src, out as usize)
}

#[cfg(test)]
mod tests {
    //! The ports against a plain decoder written here (this crate cannot depend on
    //! `byteoffset`; its tests check the ports against `byteoffset::reference` too).
    use super::*;
    use crate::bo::{ERR, FrameStatus};
    use proptest::prelude::*;

    /// Plain i32 decode of every complete token: (values, final state 0 or ERR).
    fn plain(bytes: &[u8]) -> (Vec<i32>, u32) {
        let (mut out, mut pos, mut v) = (Vec::new(), 0usize, 0i32);
        while pos < bytes.len() {
            let rest = &bytes[pos..];
            let (d, len): (i32, usize) = if rest[0] != 0x80 {
                (rest[0] as i8 as i32, 1)
            } else if rest.len() < 3 {
                return (out, ERR);
            } else if i16::from_le_bytes([rest[1], rest[2]]) != i16::MIN {
                (i16::from_le_bytes([rest[1], rest[2]]) as i32, 3)
            } else if rest.len() < 7 {
                return (out, ERR);
            } else if i32::from_le_bytes(rest[3..7].try_into().unwrap()) != i32::MIN {
                (i32::from_le_bytes(rest[3..7].try_into().unwrap()), 7)
            } else if rest.len() < 15 {
                return (out, ERR);
            } else {
                (
                    i64::from_le_bytes(rest[7..15].try_into().unwrap()) as i32,
                    15,
                )
            };
            v = v.wrapping_add(d);
            out.push(v);
            pos += len;
        }
        (out, 0)
    }

    fn check(streams: &[Vec<u8>]) {
        let plains: Vec<_> = streams.iter().map(|s| plain(s)).collect();
        let layout: Vec<_> = streams
            .iter()
            .zip(&plains)
            .map(|(s, p)| (s.as_slice(), p.0.len() as u32))
            .collect();
        let (frames, src, n_out) = bo_layout(&layout);
        let (dst, status) = bo_decode_batch(&frames, &src, false, n_out);
        for ((f, p), st) in frames.iter().zip(&plains).zip(status.chunks(8)) {
            let st: FrameStatus = bytemuck::pod_read_unaligned(bytemuck::cast_slice(st));
            let got: Vec<i32> = dst[f.out_offset as usize..(f.out_offset + f.n_pixels) as usize]
                .iter()
                .map(|&x| x as i32)
                .collect();
            assert_eq!(got, p.0);
            assert_eq!((st.final_state, st.tokens), (p.1, p.0.len() as u32));
        }
    }

    fn byte_soup() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                4 => any::<u8>(),
                4 => Just(0x80u8),
                2 => Just(0x00u8),
                1 => Just(0x7fu8),
            ],
            0..9000,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn ports_match_plain_on_adversarial_bytes(a in byte_soup(), b in byte_soup()) {
            check(&[a, b]);
        }
    }

    #[test]
    fn ports_match_plain_on_escape_runs() {
        let mut s = Vec::new();
        for i in 0..5000u32 {
            match i % 7 {
                0 => s.extend_from_slice(&[0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80]),
                1 => s.extend_from_slice(&[0x80; 9]),
                2 => s.extend_from_slice(&[0x80, 0x00, 0x80, 1, 2, 3, 4]),
                3 => s.extend_from_slice(&[0x80, 0x34, 0x12]),
                _ => s.push(i as u8),
            }
        }
        check(&[
            s.clone(),
            s[1..].to_vec(),
            s[..s.len() - 2].to_vec(),
            vec![],
            vec![0x80],
        ]);
    }
}
