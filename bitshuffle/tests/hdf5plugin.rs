//! Bit-exact against the real HDF5 filters: decodes the chunks that h5py + hdf5plugin wrote
//! (`scripts/bitshuffle_vs_hdf5plugin.py write DIR`) when `XRDCT_BSHUF_FIXTURES=DIR` is set,
//! and encodes the same pixels into `DIR/ours/` for the script's `verify` step (which reads
//! them back through the filters). Skips with a message when the variable is not set.
//! `scripts/checks/45-bitshuffle-hdf5plugin.sh` runs all three steps.

use std::path::Path as FsPath;

use bitshuffle::{BlockDecoder, Codec, Path, Pixel, reference};

fn codec(name: &str) -> Option<Codec> {
    match name {
        "bslz4" => Some(Codec::Lz4),
        #[cfg(feature = "zstd")]
        "bszstd" => Some(Codec::Zstd),
        _ => None,
    }
}

#[test]
fn chunks_of_the_hdf5_filters() {
    let Some(dir) = std::env::var_os("XRDCT_BSHUF_FIXTURES") else {
        eprintln!(
            "skipped: set XRDCT_BSHUF_FIXTURES to a directory written by \
             scripts/bitshuffle_vs_hdf5plugin.py (scripts/checks/45-bitshuffle-hdf5plugin.sh does)"
        );
        return;
    };
    let dir = FsPath::new(&dir);
    let ours = dir.join("ours");
    std::fs::create_dir_all(&ours).unwrap();
    let cases = std::fs::read_to_string(dir.join("cases.txt")).expect("cases.txt");
    let (mut checked, mut skipped) = (0, 0);
    for line in cases.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [name, kind, s, n, block] = f[..] else {
            panic!("bad line {line:?}");
        };
        let (s, n, block): (usize, usize, usize) = (
            s.parse().unwrap(),
            n.parse().unwrap(),
            block.parse().unwrap(),
        );
        let chunk = std::fs::read(dir.join(format!("{name}.chunk"))).unwrap();
        let raw = std::fs::read(dir.join(format!("{name}.raw"))).unwrap();
        assert_eq!(raw.len(), n * s, "{name}");
        let mine = if kind == "lz4" {
            assert_eq!(
                reference::decode_lz4_filter(&chunk, raw.len()).unwrap(),
                raw,
                "{name}"
            );
            let mut out = vec![0u8; raw.len()];
            bitshuffle::lz4::decode_into(&chunk, &mut out).unwrap();
            assert_eq!(out, raw, "{name}");
            bitshuffle::lz4::encode(&raw, block).unwrap()
        } else {
            let Some(codec) = codec(kind) else {
                skipped += 1;
                continue;
            };
            let want = reference::decode_bytes(codec, &chunk, s, raw.len())
                .unwrap_or_else(|e| panic!("{name}: reference: {e}"));
            assert_eq!(want, raw, "{name}: reference");
            for path in Path::ALL.into_iter().filter(|p| p.is_available()) {
                let mut out = vec![0u8; raw.len()];
                bitshuffle::decode_bytes_into_with(path, codec, &chunk, s, &mut out)
                    .unwrap_or_else(|e| panic!("{name}: {path}: {e}"));
                assert_eq!(out, raw, "{name}: {path}");
            }
            if s == 4 && name.contains("uint32") {
                let mut dec =
                    BlockDecoder::with(Path::Scalar, codec, &chunk, Pixel::U32, n).unwrap();
                let mut blk = vec![0i32; 1000];
                let mut px = Vec::new();
                loop {
                    match dec.next_block(&mut blk) {
                        Ok(Some((_, len))) => px.extend_from_slice(&blk[..len]),
                        Ok(None) => break,
                        // Random hot pixels above i32::MAX are refused, naming the pixel.
                        Err(bitshuffle::Error::ValueOutOfRange { index, value }) => {
                            let at = &raw[index * 4..index * 4 + 4];
                            assert_eq!(
                                u64::from(u32::from_le_bytes(at.try_into().unwrap())),
                                value
                            );
                            break;
                        }
                        Err(e) => panic!("{name}: block decoder: {e}"),
                    }
                }
                for (i, &v) in px.iter().enumerate() {
                    let u = u32::from_le_bytes(raw[4 * i..4 * i + 4].try_into().unwrap());
                    assert_eq!(
                        v,
                        if u == u32::MAX { -1 } else { u as i32 },
                        "{name} pixel {i}"
                    );
                }
            }
            // Our encoder, same block size (0: the library default), for the verify step.
            let e = bitshuffle::encode_bytes(codec, &raw, s, block).unwrap();
            if codec == Codec::Lz4 {
                // LZ4 block encoders differ (lz4_flex vs liblz4), the framing does not.
                assert_eq!(e[..12], chunk[..12], "{name}: header");
            }
            e
        };
        std::fs::write(ours.join(format!("{name}.chunk")), mine).unwrap();
        checked += 1;
    }
    eprintln!(
        "hdf5plugin: {checked} chunks decoded bit-exact, {skipped} skipped (feature zstd off)"
    );
    assert!(checked > 0);
}
