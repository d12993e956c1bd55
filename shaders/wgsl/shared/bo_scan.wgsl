// Workgroup-wide inclusive scans (Hillis-Steele over WG threads). Call from uniform control
// flow with every thread of the workgroup.

var<workgroup> sh_map: array<vec2<u32>, WG>;
var<workgroup> sh_sum: array<vec2<u32>, WG>;

// Inclusive scan of state maps; sh_map holds every thread's inclusive result afterwards.
fn scan_maps(lid: u32, own: vec2<u32>) -> vec2<u32> {
    var m = own;
    sh_map[lid] = m;
    workgroupBarrier();
    for (var off = 1u; off < WG; off <<= 1u) {
        var v = m;
        if (lid >= off) {
            v = map_then(sh_map[lid - off], m);
        }
        workgroupBarrier();
        sh_map[lid] = v;
        m = v;
        workgroupBarrier();
    }
    return m;
}

// The map of the threads before `lid` (after `scan_maps`).
fn map_before(lid: u32) -> vec2<u32> {
    return select(ID_MAP, sh_map[max(lid, 1u) - 1u], lid > 0u);
}

// Inclusive scan of (count, wrapping sum) pairs; sh_sum holds every thread's result.
fn scan_sums(lid: u32, own: vec2<u32>) -> vec2<u32> {
    var m = own;
    sh_sum[lid] = m;
    workgroupBarrier();
    for (var off = 1u; off < WG; off <<= 1u) {
        var v = m;
        if (lid >= off) {
            v = sh_sum[lid - off] + m;
        }
        workgroupBarrier();
        sh_sum[lid] = v;
        m = v;
        workgroupBarrier();
    }
    return m;
}
