//! Port of `wgsl/bo_decode.wgsl`.

use super::bo_shared::{
    chunk_map, load_chunk, map_before, map_get, pick4, read_escape, scan_maps, scan_sums, walk,
};
use crate::bo::{CHUNK, ERR, Frame, Params, STATUS_WORDS, WORKGROUP};

#[expect(
    clippy::too_many_arguments,
    reason = "the shader's emit, plus its bindings"
)]
fn emit(
    params: &Params,
    f: &Frame,
    idx: u32,
    v: u32,
    end: u32,
    st: usize,
    dst: &mut [u32],
    status: &mut [u32],
) {
    if idx < f.n_pixels {
        let o = if params.out_f32 != 0 {
            (v as i32 as f32).to_bits()
        } else {
            v
        };
        dst[(f.out_offset + idx) as usize] = o;
        if idx == f.n_pixels - 1 {
            status[st + 4] = end;
        }
    }
}

/// Stage 3: decodes every chunk and writes its pixels (bindings: params, frames,
/// block_frame, src, block_state, dst, status).
pub fn bo_decode(
    params: &Params,
    frames: &[Frame],
    block_frame: &[u32],
    src: &[u8],
    block_state: &[[u32; 4]],
    dst: &mut [u32],
    status: &mut [u32],
) {
    let wg = WORKGROUP as usize;
    for b in 0..params.n_blocks {
        let fi = block_frame[b as usize];
        let f = &frames[fi as usize];
        let st = (fi * STATUS_WORDS) as usize;
        let chunks: Vec<_> = (0..WORKGROUP)
            .map(|lid| load_chunk(src, f, (b - f.first_block) * WORKGROUP + lid))
            .collect();
        let bs = block_state[b as usize];
        let own: Vec<_> = chunks.iter().map(chunk_map).collect();
        let sh_map = scan_maps(&own);
        let mut es = vec![0u32; wg];
        let mut rs = vec![[0u32; 3]; wg];
        for lid in 0..wg {
            es[lid] = map_get(map_before(&sh_map, lid), bs[0]);
            rs[lid] = walk(&chunks[lid], es[lid]);
        }
        let sums: Vec<_> = rs.iter().map(|r| [r[1], r[2]]).collect();
        let incl = scan_sums(&sums);
        for lid in 0..wg {
            let (c, e, r) = (&chunks[lid], es[lid], rs[lid]);
            let mut idx = bs[1].wrapping_add(incl[lid][0]).wrapping_sub(r[1]);
            let mut v = bs[2].wrapping_add(incl[lid][1]).wrapping_sub(r[2]);
            if e >= c.len || e == ERR {
                continue;
            }
            let mut pos = e;
            for k in 0..CHUNK {
                if k >= c.len {
                    break;
                }
                if k < pos {
                    continue;
                }
                let byte = (pick4(c.w, k >> 2) >> ((k & 3) * 8)) & 0xff;
                if byte != 0x80 {
                    v = v.wrapping_add(byte as u8 as i8 as i32 as u32);
                    pos = k + 1;
                } else {
                    let t = read_escape(c, k);
                    if t.len == 0 {
                        status[st + 2] = c.base + k - f.in_offset;
                        status[st + 3] = t.delta;
                        break;
                    }
                    v = v.wrapping_add(t.delta);
                    pos = k + t.len;
                    if t.wide != 0 && idx < f.n_pixels {
                        status[st + 5] += 1;
                    }
                }
                emit(
                    params,
                    f,
                    idx,
                    v,
                    c.base + pos - f.in_offset,
                    st,
                    dst,
                    status,
                );
                idx = idx.wrapping_add(1);
            }
        }
    }
}
