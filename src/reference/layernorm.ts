/**
 * CPU reference of LayerNorm over the last dimension (Hugging Face `nn.LayerNorm`: biased variance, `eps`
 * inside the square root): the specification `src/kernels/layernorm.ts` is tested against. f64 throughout.
 *
 * @module
 */

/** A float array the references read and write (f32 from the GPU side, f64 for finite differences). */
export type Vec = Float32Array | Float64Array;

/** Dimensions: `rows` = B*T rows of `C` features. */
export interface LayernormDims {
  rows: number;
  C: number;
}

/** `out = (inp - mean) * rstd * weight + bias` per row; returns `out` and the saved `mean`, `rstd` (rows). */
export function layernormForward(
  inp: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  d: LayernormDims & { eps: number },
): { out: Float64Array; mean: Float64Array; rstd: Float64Array } {
  const { rows, C, eps } = d;
  const out = new Float64Array(rows * C);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let m = 0;
    for (let c = 0; c < C; c++) m += inp[o + c];
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (inp[o + c] - m) ** 2;
    const s = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) out[o + c] = (inp[o + c] - m) * s * weight[c] + bias[c];
    mean[r] = m;
    rstd[r] = s;
  }
  return { out, mean, rstd };
}

/**
 * Backward of {@linkcode layernormForward}, in place: `dinp = ` (or `+=` with `accumulate`), `dweight +=`,
 * `dbias +=`, from the saved `mean` and `rstd`.
 */
export function layernormBackward(
  g: { dinp: Vec; dweight: Vec; dbias: Vec },
  t: {
    dout: ArrayLike<number>;
    inp: ArrayLike<number>;
    weight: ArrayLike<number>;
    mean: ArrayLike<number>;
    rstd: ArrayLike<number>;
  },
  d: LayernormDims & { accumulate?: boolean },
): void {
  const { rows, C } = d;
  const { dout, inp, weight } = t;
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    const m = t.mean[r];
    const s = t.rstd[r];
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let c = 0; c < C; c++) {
      const dnorm = weight[c] * dout[o + c];
      dnormMean += dnorm;
      dnormNormMean += dnorm * (inp[o + c] - m) * s;
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let c = 0; c < C; c++) {
      const norm = (inp[o + c] - m) * s;
      g.dbias[c] += dout[o + c];
      g.dweight[c] += norm * dout[o + c];
      const v = (weight[c] * dout[o + c] - dnormMean - norm * dnormNormMean) * s;
      g.dinp[o + c] = d.accumulate ? g.dinp[o + c] + v : v;
    }
  }
}
