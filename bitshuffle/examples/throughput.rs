//! Decode throughput on one core of a realistic 32-bit Eiger-like frame (EIGER2 4M: 2068 ×
//! 2162 pixels, Poisson counts of mean 0.5, module gaps of `0xFFFF_FFFF`), bitshuffle/LZ4 with
//! the default block (2048 pixels): the reference decoder, each fast path, the block decoder
//! into `i32`, and the LZ4 part alone.
//!
//! ```sh
//! cargo run --release -p xrdct-bitshuffle --example throughput
//! ```

use std::hint::black_box;
use std::time::Instant;

use bitshuffle::{BlockDecoder, Codec, Path, Pixel, reference};

const W: usize = 2068;
const H: usize = 2162;

/// Poisson(λ) by inversion from a xorshift generator (no dependencies).
fn frame() -> Vec<u32> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let lambda = 0.5f64;
    (0..W * H)
        .map(|i| {
            let (x, y) = (i % W, i / W);
            // Module gaps every 1030 columns (10 wide) and 514 rows (37 high).
            if x % 1040 >= 1030 || y % 551 >= 514 {
                return u32::MAX;
            }
            let (mut k, mut p, u) = (0u32, (-lambda).exp(), uniform());
            let mut cdf = p;
            while u > cdf && k < 1000 {
                k += 1;
                p *= lambda / f64::from(k);
                cdf += p;
            }
            k
        })
        .collect()
}

fn time(name: &str, pixels: usize, reps: usize, mut f: impl FnMut()) {
    f();
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    let s = t.elapsed().as_secs_f64() / reps as f64;
    println!(
        "{name:<34} {:8.2} ms  {:6.2} Gpixel/s",
        s * 1e3,
        pixels as f64 / s / 1e9
    );
}

fn main() {
    let px = frame();
    let n = px.len();
    let chunk = bitshuffle::encode(&px, 0).unwrap();
    println!(
        "frame {W}x{H} u32, chunk {} bytes ({:.2} bytes/pixel), best path {}",
        chunk.len(),
        chunk.len() as f64 / n as f64,
        bitshuffle::best_path()
    );
    let bytes = bytemuck::cast_slice::<u32, u8>(&px).to_vec();
    time("reference (bit by bit)", n, 2, || {
        black_box(reference::decode_bytes(Codec::Lz4, &chunk, 4, n * 4).unwrap());
    });
    let mut out = vec![0u32; n];
    for path in Path::ALL.into_iter().filter(|p| p.is_available()) {
        time(&format!("decode_into u32, {path}"), n, 20, || {
            bitshuffle::decode_into_with(path, Codec::Lz4, &chunk, &mut out).unwrap();
        });
        assert_eq!(out, px);
        let mut blk = vec![0i32; 2048];
        time(&format!("BlockDecoder -> i32, {path}"), n, 20, || {
            let mut d = BlockDecoder::with(path, Codec::Lz4, &chunk, Pixel::U32, n).unwrap();
            let mut sum = 0i64;
            while let Some((_, len)) = d.next_block(&mut blk).unwrap() {
                sum += blk[..len].iter().map(|&v| i64::from(v)).sum::<i64>();
            }
            black_box(sum);
        });
    }
    // LZ4 alone: every block's compressed bytes into one block buffer.
    let mut blocks = Vec::new();
    let mut pos = 12;
    let mut left = n;
    while left >= 8 {
        let m = left.min(2048) / 8 * 8;
        let c = u32::from_be_bytes(chunk[pos..pos + 4].try_into().unwrap()) as usize;
        blocks.push((pos + 4..pos + 4 + c, m * 4));
        pos += 4 + c;
        left -= m;
    }
    let mut buf = vec![0u8; 8192];
    time("LZ4 blocks only (lz4_flex safe)", n, 20, || {
        for (r, m) in &blocks {
            lz4_flex::block::decompress_into(&chunk[r.clone()], &mut buf[..*m]).unwrap();
        }
    });
    time("encode (lz4_flex, portable)", n, 5, || {
        black_box(bitshuffle::encode_bytes(Codec::Lz4, &bytes, 4, 0).unwrap());
    });
}
