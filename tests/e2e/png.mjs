// Just enough PNG decoding to compare two screenshots pixel by pixel (Playwright writes 8-bit,
// non-interlaced RGB or RGBA), so a test can say how much of a control changed, not only that the
// files differ.

import { inflateSync } from 'node:zlib';

const CHANNELS = { 2: 3, 6: 4 }; // colour type -> bytes per pixel, at bit depth 8

/** @returns {{ width: number, height: number, channels: number, pixels: Buffer }} */
export function decodePng(png) {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let offset = 8;
  let header;
  const data = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        depth: body[8],
        colourType: body[9],
        interlace: body[12],
      };
    } else if (type === 'IDAT') {
      data.push(body);
    }
    offset += 12 + length;
  }
  const channels = CHANNELS[header?.colourType];
  if (!header || header.depth !== 8 || header.interlace !== 0 || !channels) {
    throw new Error(`unsupported PNG ${JSON.stringify(header)}`);
  }
  const { width, height } = header;
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? pixels[y * stride + x - channels] : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const upLeft = y > 0 && x >= channels ? pixels[(y - 1) * stride + x - channels] : 0;
      let predicted = 0;
      if (filter === 1) predicted = left;
      else if (filter === 2) predicted = up;
      else if (filter === 3) predicted = (left + up) >> 1;
      else if (filter === 4) {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      }
      pixels[y * stride + x] = (line[x] + predicted) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** How many pixels differ between two same-sized screenshots. */
export function changedPixels(a, b) {
  const [one, two] = [decodePng(a), decodePng(b)];
  if (one.width !== two.width || one.height !== two.height) {
    throw new Error(`sizes differ: ${one.width}x${one.height} vs ${two.width}x${two.height}`);
  }
  let changed = 0;
  for (let i = 0; i < one.width * one.height; i++) {
    for (let c = 0; c < 3; c++) {
      if (one.pixels[i * one.channels + c] !== two.pixels[i * two.channels + c]) {
        changed++;
        break;
      }
    }
  }
  return changed;
}
