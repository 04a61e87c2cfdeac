// pseudo_label_ids: the clean pass's argmax labels of token classification, for integrated gradients (each
// scaled pass takes the cross-entropy against these fixed labels, not against its own argmax):
//   labels[r] = targets[r] == -100 ? -100 : argmax_j logits[r, j]   (first maximum, as pseudo_label_grad.wgsl)
// One invocation owns one row. Written (=). Reference: src/reference/pseudo_label.ts pseudoLabelIds.

override WG: u32 = 256;

struct Params { rows: u32, L: u32 }

@group(0) @binding(0) var<storage, read_write> labels: array<i32>;  // (rows)
@group(0) @binding(1) var<storage, read> logits: array<f32>;        // (rows, L)
@group(0) @binding(2) var<storage, read> targets: array<i32>;       // (rows)
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  if (targets[r] == -100) {
    labels[r] = -100;
    return;
  }
  let base = r * p.L;
  var best = 0u;
  var mx = logits[base];
  for (var j = 1u; j < p.L; j++) {
    if (logits[base + j] > mx) { mx = logits[base + j]; best = j; }
  }
  labels[r] = i32(best);
}
