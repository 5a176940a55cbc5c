// The page's data sets, built with integer arithmetic only so that every language gets the same
// bits (web/generate-native-hashes.py builds the same ones in Python; docs/js.md).
// 256 points on a 16 × 16 grid: point p = 16·i + j is (x, y) = ((2i − 15)/16, (2j − 15)/16), exact
// in float32. Sample k is point (97·k) mod 256, so that every run of 32 samples is spread over the
// grid. Labels are 0 or 1:
//   checkerboard  ⌊3i/16⌋ + ⌊3j/16⌋ odd (a 3 × 3 board)
//   xor           (i ≥ 8) ≠ (j ≥ 8)
//   ring          (2i − 15)² + (2j − 15)² < 120 (a disc of radius ≈ 0.68)

export const SIDE = 16;
export const COUNT = SIDE * SIDE;

export const DATASETS = {
  checkerboard: (i, j) => (Math.floor((3 * i) / SIDE) + Math.floor((3 * j) / SIDE)) % 2,
  xor: (i, j) => ((i >= 8) !== (j >= 8) ? 1 : 0),
  ring: (i, j) => ((2 * i - 15) ** 2 + (2 * j - 15) ** 2 < 120 ? 1 : 0),
};

/** { x: Float32Array (COUNT × 2), y: Float32Array (COUNT class ids) } of a named data set. */
export function dataset(name) {
  const label = DATASETS[name];
  if (!label) throw new Error(`unknown data set ${name}`);
  const x = new Float32Array(2 * COUNT), y = new Float32Array(COUNT);
  for (let k = 0; k < COUNT; k++) {
    const p = (97 * k) % COUNT, i = Math.floor(p / SIDE), j = p % SIDE;
    x[2 * k] = (2 * i - 15) / 16;
    x[2 * k + 1] = (2 * j - 15) / 16;
    y[k] = label(i, j);
  }
  return { x, y };
}
