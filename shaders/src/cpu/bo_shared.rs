//! Port of `wgsl/shared/bo_common.wgsl` and `wgsl/shared/bo_chunk.wgsl`.

use crate::bo::{CHUNK, ERR, Frame, ID_MAP};

/// `map_get` of the WGSL: entry `s` of a packed state map.
pub fn map_get(m: [u32; 2], s: u32) -> u32 {
    let w = if s >= 8 { m[1] } else { m[0] };
    (w >> ((s & 7) * 4)) & 15
}

/// `map_then` of the WGSL: the map "apply `a`, then `b`".
pub fn map_then(a: [u32; 2], b: [u32; 2]) -> [u32; 2] {
    let mut lo = 0;
    let mut hi = 0;
    for s in 0..8 {
        let sh = s * 4;
        lo |= map_get(b, (a[0] >> sh) & 15) << sh;
        hi |= map_get(b, (a[1] >> sh) & 15) << sh;
    }
    [lo, hi]
}

pub(crate) fn map_before(sh_map: &[[u32; 2]], lid: usize) -> [u32; 2] {
    if lid > 0 { sh_map[lid - 1] } else { ID_MAP }
}

pub(crate) fn scan_maps(own: &[[u32; 2]]) -> Vec<[u32; 2]> {
    let mut acc = ID_MAP;
    own.iter()
        .map(|&m| {
            acc = map_then(acc, m);
            acc
        })
        .collect()
}

pub(crate) fn scan_sums(own: &[[u32; 2]]) -> Vec<[u32; 2]> {
    let mut acc = [0u32; 2];
    own.iter()
        .map(|&m| {
            acc = [acc[0].wrapping_add(m[0]), acc[1].wrapping_add(m[1])];
            acc
        })
        .collect()
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Chunk {
    pub base: u32,
    pub len: u32,
    pub end: u32,
    pub w: [u32; 4],
    pub mask: u32,
}

pub(crate) struct Token {
    pub len: u32,
    pub delta: u32,
    pub wide: u32,
}

fn in_byte(src: &[u8], p: u32) -> u32 {
    u32::from(src[p as usize])
}

fn in_u16(src: &[u8], p: u32) -> u32 {
    in_byte(src, p) | (in_byte(src, p + 1) << 8)
}

fn in_u32(src: &[u8], p: u32) -> u32 {
    in_u16(src, p) | (in_u16(src, p + 2) << 16)
}

pub(crate) fn read_escape(src: &[u8], p: u32, end: u32) -> Token {
    if end - p < 3 {
        return Token {
            len: 0,
            delta: 3,
            wide: 0,
        };
    }
    let d16 = in_u16(src, p + 1);
    if d16 != 0x8000 {
        return Token {
            len: 3,
            delta: (((d16 << 16) as i32) >> 16) as u32,
            wide: 0,
        };
    }
    if end - p < 7 {
        return Token {
            len: 0,
            delta: 7,
            wide: 0,
        };
    }
    let d32 = in_u32(src, p + 3);
    if d32 != 0x8000_0000 {
        return Token {
            len: 7,
            delta: d32,
            wide: 0,
        };
    }
    if end - p < 15 {
        return Token {
            len: 0,
            delta: 15,
            wide: 0,
        };
    }
    let lo = in_u32(src, p + 7);
    let hi = in_u32(src, p + 11);
    let sign = if lo & 0x8000_0000 != 0 { u32::MAX } else { 0 };
    Token {
        len: 15,
        delta: lo,
        wide: u32::from(hi != sign),
    }
}

fn eq80(w: u32) -> u32 {
    let t = w ^ 0x8080_8080;
    let y = !(((t & 0x7f7f_7f7f).wrapping_add(0x7f7f_7f7f)) | t | 0x7f7f_7f7f);
    ((y >> 7) & 1) | ((y >> 14) & 2) | ((y >> 21) & 4) | ((y >> 28) & 8)
}

fn sbytes(w: u32) -> u32 {
    let mut u = (w & 0x00ff_00ff) + ((w >> 8) & 0x00ff_00ff);
    u = (u & 0xffff) + (u >> 16);
    u.wrapping_sub(256 * (w & 0x8080_8080).count_ones())
}

fn prefix(c: &Chunk, x: u32) -> u32 {
    let mut s = 0u32;
    for i in 0..4u32 {
        let lo = i * 4;
        if x >= lo + 4 {
            s = s.wrapping_add(sbytes(c.w[i as usize]));
        } else if x > lo {
            s = s.wrapping_add(sbytes(c.w[i as usize] & ((1u32 << ((x - lo) * 8)) - 1)));
        }
    }
    s
}

pub(crate) fn load_chunk(src: &[u8], f: &Frame, ci: u32) -> Chunk {
    let start = ci * CHUNK;
    let len = if start < f.in_len {
        (f.in_len - start).min(CHUNK)
    } else {
        0
    };
    let base = f.in_offset + start;
    let a = (base & !15) as usize;
    let mut w = [0u32; 4];
    for (i, wi) in w.iter_mut().enumerate().filter(|_| len > 0) {
        let b = &src[a + 4 * i..a + 4 * i + 4];
        *wi = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    let m = eq80(w[0]) | (eq80(w[1]) << 4) | (eq80(w[2]) << 8) | (eq80(w[3]) << 12);
    Chunk {
        base,
        len,
        end: f.in_offset + f.in_len,
        w,
        mask: m & ((1u32 << len) - 1),
    }
}

/// (exit state, tokens, wrapping sum of deltas) of the chunk from entry state `e`.
pub(crate) fn walk(src: &[u8], c: &Chunk, e: u32) -> [u32; 3] {
    if e == ERR {
        return [ERR, 0, 0];
    }
    if e >= c.len {
        return [e - c.len, 0, 0];
    }
    let mut pos = e;
    let mut count = 0u32;
    let mut sum = 0u32;
    let mut exit = 0u32;
    for _round in 0..CHUNK {
        let m = c.mask & (u32::MAX << pos);
        if m == 0 {
            count += c.len - pos;
            sum = sum.wrapping_add(prefix(c, c.len).wrapping_sub(prefix(c, pos)));
            exit = 0;
            break;
        }
        let p = m.trailing_zeros();
        count += p - pos;
        sum = sum.wrapping_add(prefix(c, p).wrapping_sub(prefix(c, pos)));
        let t = read_escape(src, c.base + p, c.end);
        if t.len == 0 {
            exit = ERR;
            break;
        }
        count += 1;
        sum = sum.wrapping_add(t.delta);
        pos = p + t.len;
        if pos >= c.len {
            exit = pos - c.len;
            break;
        }
    }
    [exit, count, sum]
}

pub(crate) fn chunk_map(src: &[u8], c: &Chunk) -> [u32; 2] {
    if c.mask == 0 && c.len == CHUNK {
        return [0, ERR << 28];
    }
    let mut lo = 0;
    let mut hi = ERR << 28;
    for e in 0..15 {
        let x = walk(src, c, e)[0];
        if e < 8 {
            lo |= x << (e * 4);
        } else {
            hi |= x << ((e - 8) * 4);
        }
    }
    [lo, hi]
}
