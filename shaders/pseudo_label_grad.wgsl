// pseudo_label_grad: the gradient that starts AD-DROP's attribution backward, from the clean pass's logits.
//   MODE 0 (sequence classification): dlogits[r, j] = (j == argmax_j logits[r, :]) ? 1 : 0, i.e. the gradient
//          of F = sum_r logits[r, pseudo_r] (each example's pseudo-label logit).
//   MODE 1 (token classification): dlogits[r, :] = -(softmax(logits[r, :]) - onehot(argmax)) / count over rows
//          with targets[r] != -100 (0 elsewhere), i.e. -dLoss/dlogits of the cross-entropy against argmax labels.
// One workgroup owns every row (rows <= a few thousand): it first counts the rows that carry a loss (fixed-order
// tree reduction, deterministic), then each invocation owns rows r = lid, lid + WG, ... Written (=).
// Reference: src/reference/pseudo_label.ts pseudoLabelGrad.

override WG: u32 = 256;
override MODE: u32 = 0u;

struct Params { rows: u32, L: u32 }

@group(0) @binding(0) var<storage, read_write> dlogits: array<f32>;  // (rows, L)
@group(0) @binding(1) var<storage, read> logits: array<f32>;         // (rows, L)
@group(0) @binding(2) var<storage, read> targets: array<i32>;        // (rows); only MODE 1 reads it
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> partial: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let t = lid.x;
  var count = 0u;
  if (MODE == 1u) {
    for (var r = t; r < p.rows; r += WG) {
      if (targets[r] != -100) { count += 1u; }
    }
  }
  partial[t] = count;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) { partial[t] += partial[t + s]; }
    workgroupBarrier();
  }
  let total = max(partial[0], 1u);
  for (var r = t; r < p.rows; r += WG) {
    let base = r * p.L;
    var best = 0u;
    var mx = logits[base];
    for (var j = 1u; j < p.L; j++) {
      if (logits[base + j] > mx) { mx = logits[base + j]; best = j; }
    }
    if (MODE == 0u) {
      for (var j = 0u; j < p.L; j++) { dlogits[base + j] = select(0.0, 1.0, j == best); }
    } else {
      let has_loss = targets[r] != -100;
      var sum = 0.0;
      for (var j = 0u; j < p.L; j++) { sum += exp(logits[base + j] - mx); }
      for (var j = 0u; j < p.L; j++) {
        var g = 0.0;
        if (has_loss) {
          g = -(exp(logits[base + j] - mx) / sum - select(0.0, 1.0, j == best)) / f32(total);
        }
        dlogits[base + j] = g;
      }
    }
  }
}
