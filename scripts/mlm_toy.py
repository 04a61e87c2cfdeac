# Diagnostic (issue 7): the PyTorch side of scripts/mlm_toy.ts. Usage: python3 scripts/mlm_toy.py STEPS [bertinit] [tied] [bert8010] [type]
# `type` adds BERT's token-type embedding (row 0, normal(0, 0.02) like every nn.Embedding in BERT's _init_weights)
# to the input embeddings; with it (bertinit tied bert8010 type) this model learns as slowly as ours (step 400:
# loss 3.26 / acc 0.20 vs 2.77 / 0.21 without; on our own batches 3.16-3.35 vs 2.5-2.9 over seeds): that constant
# vector, as large as the word and position embeddings at init, is what slows BERT on this toy; our training
# step itself matches PyTorch (tests/pipeline/mlm_steps_test.ts).
import torch, random, math
torch.manual_seed(0); random.seed(1)
import sys as _s
W = 40; V = W + 5; T = 32; B = 16; H = 64
MASK = 4
def batch():
    ids = []
    for _ in range(B):
        row = []
        while len(row) < T:
            s = random.randrange(W)
            row += [5 + (s + i) % W for i in range(12)]
        ids.append(row[:T])
    x = torch.tensor(ids); labels = torch.full_like(x, -100)
    m = torch.rand(x.shape) < 0.15
    labels[m] = x[m]
    x = x.clone()
    if 'bert8010' in _s.argv:
        r = torch.rand(x.shape)
        x[m & (r < 0.8)] = MASK
        rnd = torch.randint(5, V, x.shape)
        sel = m & (r >= 0.8) & (r < 0.9)
        x[sel] = rnd[sel]
    else:
        x[m] = MASK
    return x, labels
class M(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.tok = torch.nn.Embedding(V, H); s.pos = torch.nn.Embedding(64, H); s.ln = torch.nn.LayerNorm(H)
        layer = torch.nn.TransformerEncoderLayer(H, 2, 128, 0.1, activation="gelu", batch_first=True)
        s.enc = torch.nn.TransformerEncoder(layer, 2); s.out = torch.nn.Linear(H, V)
        s.tdense = torch.nn.Linear(H, H); s.tln = torch.nn.LayerNorm(H, eps=1e-12); s.bias = torch.nn.Parameter(torch.zeros(V))
        s.typ = torch.nn.Embedding(2, H) if TYPE else None
    def forward(s, x):
        e = s.tok(x) + s.pos(torch.arange(x.shape[1]))
        h = s.ln(e + s.typ.weight[0] if TYPE else e)
        h = s.enc(h)
        if TIED:
            h = s.tln(torch.nn.functional.gelu(s.tdense(h)))
            return h @ s.tok.weight.T + s.bias
        return s.out(h)
TIED = 'tied' in _s.argv
TYPE = 'type' in _s.argv
m = M()
import sys as _s
if len(_s.argv) > 2 and _s.argv[2] == "bertinit":
    for mod in m.modules():
        if isinstance(mod, (torch.nn.Linear, torch.nn.Embedding)):
            torch.nn.init.normal_(mod.weight, 0, 0.02)
            if getattr(mod, "bias", None) is not None: torch.nn.init.zeros_(mod.bias)
        if isinstance(mod, torch.nn.MultiheadAttention):
            torch.nn.init.normal_(mod.in_proj_weight, 0, 0.02); torch.nn.init.zeros_(mod.in_proj_bias)
opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.01)
import sys
steps = int(sys.argv[1])
for step in range(1, steps + 1):
    lr = 1e-3 * min(step / 12, (steps - step) / (steps - 12))
    for g in opt.param_groups: g["lr"] = lr
    x, y = batch(); logits = m(x)
    loss = torch.nn.functional.cross_entropy(logits.view(-1, V), y.view(-1), ignore_index=-100)
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
    if step % 25 == 0:
        acc = (logits.argmax(-1)[y != -100] == y[y != -100]).float().mean().item()
        print(step, round(loss.item(), 3), round(acc, 3))
