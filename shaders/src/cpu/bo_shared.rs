//! Port of `wgsl/shared/bo_common.wgsl` and `wgsl/shared/bo_chunk.wgsl`.

use crate::bo::{CHUNK, ERR, Frame, ID_MAP};

/// `map_get` of the WGSL: entry `s` of a packed state map.
pub fn map_get(m: [u32; 2], s: u32) -> u32 {
    let w = if s >= 8 { m[1] } else { m[0] };
    (w >> ((s & 7) * 4)) & 15
}

fn const_map(k: u32) -> [u32; 2] {
    let kk = k.wrapping_mul(0x1111_1111);
    [kk, (kk & 0x0fff_ffff) | 0xf000_0000]
}

fn is_const(m: [u32; 2]) -> bool {
    m == const_map(m[0] & 15)
}

fn has_err(m: [u32; 2]) -> bool {
    [!m[0], !m[1] | 0xf000_0000]
        .iter()
        .any(|&t| t.wrapping_sub(0x1111_1111) & !t & 0x8888_8888 != 0)
}

/// `map_then` of the WGSL: the map "apply `a`, then `b`".
pub fn map_then(a: [u32; 2], b: [u32; 2]) -> [u32; 2] {
    if is_const(b) && !has_err(a) {
        return b;
    }
    if is_const(a) {
        let k = map_get(b, a[0] & 15);
        if k != ERR {
            return const_map(k);
        }
    }
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
    pub x: [u32; 4],
    pub mask: u32,
}

pub(crate) struct Token {
    pub len: u32,
    pub delta: u32,
    pub wide: u32,
}

pub(crate) fn pick4(v: [u32; 4], i: u32) -> u32 {
    v[i as usize & 3]
}

fn cword(c: &Chunk, i: u32) -> u32 {
    if i >= 4 {
        pick4(c.x, i & 3)
    } else {
        pick4(c.w, i & 3)
    }
}

fn cu32(c: &Chunk, q: u32) -> u32 {
    let sh = (q & 3) * 8;
    let lo = cword(c, q >> 2) >> sh;
    let hi = if sh == 0 {
        0
    } else {
        cword(c, (q >> 2) + 1) << (32 - sh)
    };
    lo | hi
}

pub(crate) fn read_escape(c: &Chunk, p: u32) -> Token {
    let room = c.end - (c.base + p);
    if room < 3 {
        return Token {
            len: 0,
            delta: 3,
            wide: 0,
        };
    }
    let d16 = (cu32(c, p) >> 8) & 0xffff;
    if d16 != 0x8000 {
        return Token {
            len: 3,
            delta: (((d16 << 16) as i32) >> 16) as u32,
            wide: 0,
        };
    }
    if room < 7 {
        return Token {
            len: 0,
            delta: 7,
            wide: 0,
        };
    }
    let d32 = cu32(c, p + 3);
    if d32 != 0x8000_0000 {
        return Token {
            len: 7,
            delta: d32,
            wide: 0,
        };
    }
    if room < 15 {
        return Token {
            len: 0,
            delta: 15,
            wide: 0,
        };
    }
    let lo = cu32(c, p + 7);
    let hi = cu32(c, p + 11);
    let sign = if lo & 0x8000_0000 != 0 { u32::MAX } else { 0 };
    Token {
        len: 15,
        delta: lo,
        wide: u32::from(hi != sign),
    }
}

fn escape_len(c: &Chunk, p: u32) -> u32 {
    let room = c.end - (c.base + p);
    let mut len = 3;
    if (cu32(c, p) >> 8) & 0xffff == 0x8000 {
        len = if cu32(c, p + 3) == 0x8000_0000 { 15 } else { 7 };
    }
    if room < len { 0 } else { len }
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

fn keep_from(w: u32, k: u32) -> u32 {
    if k >= 4 { 0 } else { w & (u32::MAX << (k * 8)) }
}

fn suffix(c: &Chunk, x: u32) -> u32 {
    let k = [x, x.max(4) - 4, x.max(8) - 8, x.max(12) - 12];
    (0..4).fold(0u32, |s, i| {
        s.wrapping_add(sbytes(keep_from(c.w[i], k[i].min(4))))
    })
}

fn load16(src: &[u8], at: usize) -> [u32; 4] {
    let mut w = [0u32; 4];
    for (i, wi) in w.iter_mut().enumerate() {
        let b = &src[at + 4 * i..at + 4 * i + 4];
        *wi = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    w
}

pub(crate) fn load_chunk(src: &[u8], f: &Frame, ci: u32) -> Chunk {
    let start = ci * CHUNK;
    let len = if start < f.in_len {
        (f.in_len - start).min(CHUNK)
    } else {
        0
    };
    let base = f.in_offset + start;
    let w = if len > 0 {
        load16(src, (base & !15) as usize)
    } else {
        [0; 4]
    };
    let m = eq80(w[0]) | (eq80(w[1]) << 4) | (eq80(w[2]) << 8) | (eq80(w[3]) << 12);
    let mask = m & ((1u32 << len) - 1);
    let x = if mask != 0 && start + CHUNK < f.in_len {
        load16(src, (base & !15) as usize + 16)
    } else {
        [0; 4]
    };
    Chunk {
        base,
        len,
        end: f.in_offset + f.in_len,
        w,
        x,
        mask,
    }
}

/// (exit state, tokens, wrapping sum of deltas) of the chunk from entry state `e`.
pub(crate) fn walk(c: &Chunk, e: u32) -> [u32; 3] {
    if e == ERR {
        return [ERR, 0, 0];
    }
    if e >= c.len {
        return [e - c.len, 0, 0];
    }
    let mut pos = e;
    let mut count = 0u32;
    let mut sum = suffix(c, e).wrapping_sub(suffix(c, c.len));
    let mut exit = 0u32;
    for _round in 0..CHUNK {
        let m = c.mask & (u32::MAX << pos);
        if m == 0 {
            count += c.len - pos;
            exit = 0;
            break;
        }
        let p = m.trailing_zeros();
        count += p - pos;
        let t = read_escape(c, p);
        if t.len == 0 {
            sum = sum.wrapping_sub(suffix(c, p).wrapping_sub(suffix(c, c.len)));
            exit = ERR;
            break;
        }
        let stop = (p + t.len).min(c.len);
        sum = sum.wrapping_add(
            t.delta
                .wrapping_sub(suffix(c, p).wrapping_sub(suffix(c, stop))),
        );
        count += 1;
        pos = p + t.len;
        if pos >= c.len {
            exit = pos - c.len;
            break;
        }
    }
    [exit, count, sum]
}

fn walk_exit(c: &Chunk, e: u32, lens: [u32; 4]) -> u32 {
    if e >= c.len {
        return e - c.len;
    }
    let mut pos = e;
    for _round in 0..CHUNK {
        let m = c.mask & (u32::MAX << pos);
        if m == 0 {
            return 0;
        }
        let p = m.trailing_zeros();
        let len = (pick4(lens, p >> 2) >> ((p & 3) * 8)) & 0xff;
        if len == 0 {
            return ERR;
        }
        pos = p + len;
        if pos >= c.len {
            return pos - c.len;
        }
    }
    0
}

pub(crate) fn chunk_map(c: &Chunk) -> [u32; 2] {
    if c.mask == 0 && c.len == CHUNK {
        return [0, ERR << 28];
    }
    let mut lens = [0u32; 4];
    let mut m = c.mask;
    while m != 0 {
        let p = m.trailing_zeros();
        m &= m - 1;
        lens[(p >> 2) as usize] += escape_len(c, p) << ((p & 3) * 8);
    }
    let first = if c.mask == 0 {
        CHUNK
    } else {
        c.mask.trailing_zeros()
    };
    let x0 = walk_exit(c, 0, lens);
    let mut lo = 0;
    let mut hi = ERR << 28;
    for e in 0..15 {
        let x = if e > first || e >= c.len {
            walk_exit(c, e, lens)
        } else {
            x0
        };
        if e < 8 {
            lo |= x << (e * 4);
        } else {
            hi |= x << ((e - 8) * 4);
        }
    }
    [lo, hi]
}
