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

/// Un-transposes groups `g0..` (8 elements each) of one block: `src` is the bit-shuffled
/// block (`8 * s` rows of `n / 8` bytes), `dst` the whole block's element bytes.
pub(crate) fn untranspose_groups(src: &[u8], dst: &mut [u8], s: usize, g0: usize) {
    let row = src.len() / s / 8;
    let mut t = [0u64; 8];
    for g in g0..row {
        for (j, tj) in t[..s].iter_mut().enumerate() {
            let r = &src[j * 8 * row + g..];
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
            *tj = transpose8(x);
        }
        let o = &mut dst[8 * g * s..8 * (g + 1) * s];
        if s == 1 {
            o.copy_from_slice(&t[0].to_le_bytes());
        } else {
            for (m, e) in o.chunks_exact_mut(s).enumerate() {
                for (b, tj) in e.iter_mut().zip(&t[..s]) {
                    *b = (tj >> (8 * m)) as u8;
                }
            }
        }
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
