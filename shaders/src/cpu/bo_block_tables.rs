//! Port of `wgsl/bo_block_tables.wgsl`.

use super::bo_shared::{chunk_map, load_chunk, map_before, map_get, scan_maps, scan_sums, walk};
use crate::bo::{Frame, Params, TABLE_WORDS, WORKGROUP};

/// Stage 1: the table of every block (bindings: params, frames, block_frame, src, tables).
pub fn bo_block_tables(
    params: &Params,
    frames: &[Frame],
    block_frame: &[u32],
    src: &[u8],
    tables: &mut [u32],
) {
    let wg = WORKGROUP as usize;
    for b in 0..params.n_blocks {
        let f = &frames[block_frame[b as usize] as usize];
        let chunks: Vec<_> = (0..WORKGROUP)
            .map(|lid| load_chunk(src, f, (b - f.first_block) * WORKGROUP + lid))
            .collect();
        let mut diff = [0u32; 32];
        let own: Vec<_> = chunks.iter().map(chunk_map).collect();
        let sh_map = scan_maps(&own);
        let mut r0 = vec![[0u32; 3]; wg];
        let mut xs = vec![[0u32; 2]; wg];
        for lid in 0..wg {
            xs[lid] = map_before(&sh_map, lid);
            r0[lid] = walk(&chunks[lid], map_get(xs[lid], 0));
        }
        let sums: Vec<_> = r0.iter().map(|r| [r[1], r[2]]).collect();
        let total = scan_sums(&sums)[wg - 1];
        for lid in 0..wg {
            let e0 = map_get(xs[lid], 0);
            for s in 1..15 {
                let e = map_get(xs[lid], s);
                if e != e0 {
                    let r = walk(&chunks[lid], e);
                    diff[s as usize] = diff[s as usize].wrapping_add(r[1].wrapping_sub(r0[lid][1]));
                    diff[16 + s as usize] =
                        diff[16 + s as usize].wrapping_add(r[2].wrapping_sub(r0[lid][2]));
                }
            }
        }
        let t = (b * TABLE_WORDS) as usize;
        let all = sh_map[wg - 1];
        tables[t] = all[0];
        tables[t + 1] = all[1];
        for s in 0..15 {
            tables[t + 2 + s] = total[0].wrapping_add(diff[s]);
            tables[t + 18 + s] = total[1].wrapping_add(diff[16 + s]);
        }
        tables[t + 17] = 0;
        tables[t + 33] = 0;
    }
}
