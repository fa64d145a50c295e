//! A PNG writer for the charts' RGB pixels: 8-bit truecolour, filter 0, the image data
//! in stored (uncompressed) deflate blocks inside zlib, with the CRC-32 and Adler-32 the
//! format asks for. Charts are small (960 × 440 × 3 ≈ 1.2 MB), so compression is not worth
//! a dependency; any PNG reader decodes the result.

/// CRC-32 (ISO 3309, as PNG chunks use).
pub(crate) fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for part in parts {
        for &byte in *part {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// `pixels`: `width × height` RGB triples, row by row.
pub(crate) fn encode(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let row = width as usize * 3;
    let mut raw = Vec::with_capacity((row + 1) * height as usize);
    for line in pixels.chunks(row.max(1)).take(height as usize) {
        raw.push(0); // filter: none
        raw.extend_from_slice(line);
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, filter 0, no interlace
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Reads back what [`encode`] writes (width, height, RGB pixels); `None` for anything
/// else. The tests decode the charts' PNGs with it, checking every CRC and the Adler-32.
pub fn decode(png: &[u8]) -> Option<(u32, u32, Vec<u8>)> {
    let mut at = 8;
    if png.get(..8)? != b"\x89PNG\r\n\x1a\n" {
        return None;
    }
    let (mut width, mut height, mut zlib) = (0, 0, Vec::new());
    while at + 12 <= png.len() {
        let len = u32::from_be_bytes(png.get(at..at + 4)?.try_into().ok()?) as usize;
        let kind = png.get(at + 4..at + 8)?;
        let data = png.get(at + 8..at + 8 + len)?;
        let crc = u32::from_be_bytes(png.get(at + 8 + len..at + 12 + len)?.try_into().ok()?);
        if crc != crc32(&[kind, data]) {
            return None;
        }
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data.get(0..4)?.try_into().ok()?);
                height = u32::from_be_bytes(data.get(4..8)?.try_into().ok()?);
            }
            b"IDAT" => zlib.extend_from_slice(data),
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    let mut p = 2;
    loop {
        let last = *zlib.get(p)? & 1 == 1;
        let len = u16::from_le_bytes(zlib.get(p + 1..p + 3)?.try_into().ok()?) as usize;
        raw.extend_from_slice(zlib.get(p + 5..p + 5 + len)?);
        p += 5 + len;
        if last {
            break;
        }
    }
    if u32::from_be_bytes(zlib.get(p..p + 4)?.try_into().ok()?) != adler32(&raw) {
        return None;
    }
    let row = width as usize * 3;
    let pixels: Vec<u8> = raw.chunks(row + 1).flat_map(|line| line.get(1..).unwrap_or_default().to_vec()).collect();
    (pixels.len() == row * height as usize).then_some((width, height, pixels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_their_published_values() {
        assert_eq!(crc32(&[b"123456789"]), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn an_image_reads_back_as_written() {
        let pixels: Vec<u8> = (0..300 * 250 * 3).map(|i| (i % 251) as u8).collect();
        let png = encode(300, 250, &pixels);
        assert_eq!(decode(&png), Some((300, 250, pixels)));
    }
}
