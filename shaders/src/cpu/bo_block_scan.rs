//! Port of `wgsl/bo_block_scan.wgsl`.

use super::bo_shared::{map_before, map_get, map_then, scan_maps, scan_sums};
use crate::bo::{Frame, ID_MAP, Params, STATUS_WORDS, TABLE_WORDS, WORKGROUP};

fn table_map(tables: &[u32], b: u32) -> [u32; 2] {
    let t = (b * TABLE_WORDS) as usize;
    [tables[t], tables[t + 1]]
}

fn row(tables: &[u32], b: u32, e: u32) -> [u32; 2] {
    let t = (b * TABLE_WORDS) as usize;
    [tables[t + 2 + e as usize], tables[t + 18 + e as usize]]
}

/// Stage 2: per frame, every block's (entry state, first pixel, starting value), and the
/// frame's final state and token count (bindings: params, frames, tables, block_state, status).
pub fn bo_block_scan(
    params: &Params,
    frames: &[Frame],
    tables: &[u32],
    block_state: &mut [[u32; 4]],
    status: &mut [u32],
) {
    let wg = WORKGROUP as usize;
    for fi in 0..params.n_frames {
        let f = &frames[fi as usize];
        let per = f.n_blocks.div_ceil(WORKGROUP);
        let range = |lid: u32| {
            let b0 = f.first_block + (lid * per).min(f.n_blocks);
            let b1 = f.first_block + (lid * per + per).min(f.n_blocks);
            b0..b1
        };
        let own: Vec<_> = (0..WORKGROUP)
            .map(|lid| range(lid).fold(ID_MAP, |m, b| map_then(m, table_map(tables, b))))
            .collect();
        let sh_map = scan_maps(&own);
        let mut acc = vec![[0u32; 2]; wg];
        for lid in 0..wg {
            let mut e = map_get(map_before(&sh_map, lid), 0);
            for b in range(lid as u32) {
                let r = row(tables, b, e);
                acc[lid] = [
                    acc[lid][0].wrapping_add(r[0]),
                    acc[lid][1].wrapping_add(r[1]),
                ];
                e = map_get(table_map(tables, b), e);
            }
        }
        let incl = scan_sums(&acc);
        for lid in 0..wg {
            let mut run = [
                incl[lid][0].wrapping_sub(acc[lid][0]),
                incl[lid][1].wrapping_sub(acc[lid][1]),
            ];
            let mut e = map_get(map_before(&sh_map, lid), 0);
            for b in range(lid as u32) {
                block_state[b as usize] = [e, run[0], run[1], 0];
                let r = row(tables, b, e);
                run = [run[0].wrapping_add(r[0]), run[1].wrapping_add(r[1])];
                e = map_get(table_map(tables, b), e);
            }
            if lid == wg - 1 {
                let s = (fi * STATUS_WORDS) as usize;
                status[s..s + 8].copy_from_slice(&[e, run[0], u32::MAX, 0, u32::MAX, 0, 0, 0]);
            }
        }
    }
}
