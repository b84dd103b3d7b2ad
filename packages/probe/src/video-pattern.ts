/**
 * The probe's picture: 75 % colour bars (ITU-R BT.601 studio-range YCbCr), a
 * white bar one macroblock wide that moves one macroblock to the right per
 * frame, and the frame number in binary along the bottom macroblock row
 * (white = 1, black = 0, least significant bit on the left). Deterministic:
 * frame n of a size is always the same picture, so a receiver can check each
 * decoded frame exactly. Everything changes on macroblock boundaries, so a
 * P frame codes only the macroblocks that changed (video.ts).
 */

/** One picture in 4:2:0: Y is width x height, Cb and Cr are half size in each direction. */
export interface YuvFrame {
  width: number;
  height: number;
  y: Uint8Array;
  cb: Uint8Array;
  cr: Uint8Array;
}

/** 75 % bars, left to right: white, yellow, cyan, green, magenta, red, blue ([Y, Cb, Cr], BT.601). */
export const COLOUR_BARS: ReadonlyArray<readonly [number, number, number]> = [
  [180, 128, 128],
  [162, 44, 142],
  [131, 156, 44],
  [112, 72, 58],
  [84, 184, 198],
  [65, 100, 212],
  [35, 212, 114],
];
const WHITE: readonly [number, number, number] = [235, 128, 128];
const BLACK: readonly [number, number, number] = [16, 128, 128];
const MB = 16;

/** Frame `n` of the pattern at `width` x `height` (both even). */
export function videoPatternFrame(width: number, height: number, n: number): YuvFrame {
  const cw = width >> 1;
  const ch = height >> 1;
  const f: YuvFrame = { width, height, y: new Uint8Array(width * height), cb: new Uint8Array(cw * ch), cr: new Uint8Array(cw * ch) };
  const widthMbs = Math.ceil(width / MB);
  const heightMbs = Math.ceil(height / MB);
  const barMb = n % widthMbs;
  const bits = Math.min(widthMbs, 31);
  // The colour of each macroblock column on each macroblock row.
  const colourAt = (mbx: number, mby: number): readonly [number, number, number] => {
    if (mbx === barMb) return WHITE;
    if (mby === heightMbs - 1 && heightMbs > 1 && mbx < bits) return (Math.floor(n / 2 ** mbx) & 1) === 1 ? WHITE : BLACK;
    return COLOUR_BARS[Math.min(COLOUR_BARS.length - 1, Math.floor((mbx * COLOUR_BARS.length) / widthMbs))]!;
  };
  for (let yy = 0; yy < height; yy++) {
    for (let xx = 0; xx < width; xx++) {
      const c = colourAt(Math.floor(xx / MB), Math.floor(yy / MB));
      f.y[yy * width + xx] = c[0];
      if ((xx & 1) === 0 && (yy & 1) === 0) {
        f.cb[(yy >> 1) * cw + (xx >> 1)] = c[1];
        f.cr[(yy >> 1) * cw + (xx >> 1)] = c[2];
      }
    }
  }
  return f;
}
