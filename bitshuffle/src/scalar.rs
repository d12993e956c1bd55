//! Portable bit transpose: 8×8 bit blocks transposed in a `u64` with three swap steps
//! (Hacker's Delight `transpose8`), the same kernel the bitshuffle library's scalar path uses.

/// Transposes the 8×8 bit matrix in `x` (byte `r` is row `r`, bit `c` of it column `c`).
#[inline(always)]
pub(crate) fn transpose8(mut x: u64) -> u64 {
    let t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
    x ^= t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
    x ^= t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
    x ^= t ^ (t << 28);
    x
}

/// Groups (of 8 elements) un-transposed per step through the byte-plane buffer.
const STEP: usize = 32;

/// Transposes the 8×8 byte matrix held in `w` (word `r` is row `r`, byte `c` of it column
/// `c`, little-endian), in three swap steps.
#[inline(always)]
fn transpose_bytes(w: &mut [u64; 8]) {
    for (shift, mask, pairs) in [
        (
            8,
            0x00FF_00FF_00FF_00FFu64,
            [(0, 1), (2, 3), (4, 5), (6, 7)],
        ),
        (16, 0x0000_FFFF_0000_FFFF, [(0, 2), (1, 3), (4, 6), (5, 7)]),
        (32, 0x0000_0000_FFFF_FFFF, [(0, 4), (1, 5), (2, 6), (3, 7)]),
    ] {
        for (a, b) in pairs {
            let t = ((w[a] >> shift) ^ w[b]) & mask;
            w[b] ^= t;
            w[a] ^= t << shift;
        }
    }
}

/// Byte `j` of the elements of groups `g .. g + plane.len() / 8`, from the bit rows of
/// `src` (each `row` bytes long), into `plane`.
#[inline(always)]
fn plane(src: &[u8], row: usize, j: usize, g: usize, plane: &mut [u8]) {
    let rows = &src[j * 8 * row..(j + 1) * 8 * row];
    let mut chunks = plane.chunks_exact_mut(64);
    let mut k = 0;
    // Eight groups at a time: one 8-byte load per row, a byte transpose, 8 bit transposes.
    for o in &mut chunks {
        let mut w = [0u64; 8];
        for (r, wr) in w.iter_mut().enumerate() {
            let at = r * row + g + k;
            *wr = u64::from_le_bytes(rows[at..at + 8].try_into().expect("8 bytes"));
        }
        transpose_bytes(&mut w);
        for (x, oi) in w.iter().zip(o.chunks_exact_mut(8)) {
            oi.copy_from_slice(&transpose8(*x).to_le_bytes());
        }
        k += 8;
    }
    for o in chunks.into_remainder().chunks_exact_mut(8) {
        let r = &rows[g + k..];
        let x = u64::from_le_bytes([
            r[0],
            r[row],
            r[2 * row],
            r[3 * row],
            r[4 * row],
            r[5 * row],
            r[6 * row],
            r[7 * row],
        ]);
        o.copy_from_slice(&transpose8(x).to_le_bytes());
        k += 1;
    }
}

/// Interleaves `S` byte planes into `S`-byte elements (a loop the compiler vectorizes).
#[inline(always)]
fn interleave<const S: usize>(planes: &[[u8; 8 * STEP]; 8], out: &mut [u8]) {
    for (e, o) in out.chunks_exact_mut(S).enumerate() {
        for (j, b) in o.iter_mut().enumerate() {
            *b = planes[j][e];
        }
    }
}

/// Un-transposes groups `g0..` (8 elements each) of one block: `src` is the bit-shuffled
/// block (`8 * s` rows of `n / 8` bytes), `dst` the whole block's element bytes.
pub(crate) fn untranspose_groups(src: &[u8], dst: &mut [u8], s: usize, g0: usize) {
    let row = src.len() / s / 8;
    let mut planes = [[0u8; 8 * STEP]; 8];
    let mut g = g0;
    while g < row {
        let m = STEP.min(row - g);
        let out = &mut dst[8 * g * s..8 * (g + m) * s];
        if s == 1 {
            plane(src, row, 0, g, out);
        } else {
            for (j, p) in planes[..s].iter_mut().enumerate() {
                plane(src, row, j, g, &mut p[..8 * m]);
            }
            match s {
                2 => interleave::<2>(&planes, out),
                4 => interleave::<4>(&planes, out),
                8 => interleave::<8>(&planes, out),
                _ => {
                    for (e, o) in out.chunks_exact_mut(s).enumerate() {
                        for (j, b) in o.iter_mut().enumerate() {
                            *b = planes[j][e];
                        }
                    }
                }
            }
        }
        g += m;
    }
}

/// Un-transposes one block (see [`crate::reference::bitunshuffle_block`]).
pub(crate) fn untranspose(src: &[u8], dst: &mut [u8], s: usize) {
    untranspose_groups(src, dst, s, 0);
}

/// Bit-shuffles one block (see [`crate::reference::bitshuffle_block`]).
pub(crate) fn transpose(src: &[u8], dst: &mut [u8], s: usize) {
    assert_eq!(src.len(), dst.len());
    let row = src.len() / s / 8;
    for g in 0..row {
        let e = &src[8 * g * s..8 * (g + 1) * s];
        for j in 0..s {
            let mut x = [0u8; 8];
            for (m, xm) in x.iter_mut().enumerate() {
                *xm = e[m * s + j];
            }
            let t = transpose8(u64::from_le_bytes(x)).to_le_bytes();
            for (k, &tk) in t.iter().enumerate() {
                dst[(j * 8 + k) * row + g] = tk;
            }
        }
    }
}
