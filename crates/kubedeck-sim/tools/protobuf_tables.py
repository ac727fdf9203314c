"""Emits Rust protobuf decode tables for the pod-template kinds from
k8s.io/api generated.proto + types.go (for Go pointer / omitempty): the
body of src/api/protobuf_workloads.rs. The module comes from the Go module
proxy (the testbed's go.mod requires it):

    (cd testbed && go mod download k8s.io/api)
    python3 crates/kubedeck-sim/tools/protobuf_tables.py > tables.rs
"""
import re, sys, glob, subprocess
MODCACHE = subprocess.run(['go', 'env', 'GOMODCACHE'], capture_output=True, text=True,
                          check=True).stdout.strip()
API = f'{MODCACHE}/k8s.io/api@v0.37.2'
PKGS = {
    'k8s.io.api.core.v1': 'core/v1',
    'k8s.io.api.apps.v1': 'apps/v1',
    'k8s.io.api.batch.v1': 'batch/v1',
}
msgs = {}   # full name -> list of fields (label, type, name, num, pkg)
inline = set()
gofields = {}  # (pkg, struct, jsonname) -> (pointer, omitempty)
for pkg, d in PKGS.items():
    text = open(f'{API}/{d}/generated.proto').read()
    text = re.sub(r'//.*', '', text)
    for m in re.finditer(r'\nmessage (\w+) \{(.*?)\n\}', text, re.S):
        name, body = m.group(1), m.group(2)
        fields = []
        for fm in re.finditer(r'(optional|repeated)?\s*(map<\s*string\s*,\s*[\w.]+\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;', body):
            fields.append((fm.group(1) or '', fm.group(2).replace(' ', ''), fm.group(3), int(fm.group(4)), pkg))
        msgs[f'{pkg}.{name}'] = fields
    for f in glob.glob(f'{API}/{d}/types.go'):
        src = open(f).read()
        for sm in re.finditer(r'\ntype (\w+) struct \{(.*?)\n\}', src, re.S):
            sname, body = sm.group(1), sm.group(2)
            for line in body.split('\n'):
                im = re.match(r'\s*([\w.*]+)\s+`json:"(?:,inline)?" protobuf:"([^"]*)"', line)
                if im:
                    nm = re.search(r'name=(\w+)', im.group(2))
                    t = im.group(1).split('.')[-1]
                    inline.add((pkg, sname, nm.group(1) if nm else t[0].lower() + t[1:]))
                lm = re.match(r'\s*\w+\s+(\S+)\s+`json:"([^",]*)((?:,[^"]*)?)"', line)
                if lm:
                    gofields[(pkg, sname, lm.group(2))] = (lm.group(1).startswith('*'), 'omitempty' in lm.group(3))

EXTERNAL = {
    'k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta': 'Kind::Msg(OBJECT_META)',
    'k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector': 'Kind::Msg(LABEL_SELECTOR)',
    'k8s.io.apimachinery.pkg.apis.meta.v1.Time': 'Kind::Time',
    'k8s.io.apimachinery.pkg.util.intstr.IntOrString': 'Kind::IntOrString',
    'k8s.io.apimachinery.pkg.api.resource.Quantity': 'Kind::Quantity',
}
SCALAR = {'string': 'Kind::Str', 'bool': 'Kind::Bool', 'int32': 'Kind::Int', 'int64': 'Kind::Int'}
ROOTS = ['k8s.io.api.apps.v1.Deployment', 'k8s.io.api.apps.v1.ReplicaSet', 'k8s.io.api.apps.v1.StatefulSet',
         'k8s.io.api.apps.v1.DaemonSet', 'k8s.io.api.batch.v1.Job', 'k8s.io.api.batch.v1.CronJob', 'k8s.io.api.core.v1.Pod']
skipped = set()
def resolve(t, pkg):
    t = t.lstrip('.')
    if t in SCALAR: return ('scalar', SCALAR[t])
    full = t if t.startswith('k8s.io.') else f'{pkg}.{t}'
    if full in EXTERNAL: return ('ext', EXTERNAL[full])
    if full in msgs: return ('msg', full)
    return None
order, seen = [], set()
def visit(full):
    if full in seen: return
    seen.add(full)
    for label, t, name, num, pkg in msgs[full]:
        if t.startswith('map<'): continue
        if full in ROOTS and name == 'status': continue
        r = resolve(t, pkg)
        if r and r[0] == 'msg': visit(r[1])
    order.append(full)
for r in ROOTS: visit(r)
def const(full):
    return re.sub(r'(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])', '_', full.split('.')[-1]).upper()
names = {}
for full in order:
    c = const(full)
    if c in names.values(): c = const(full) + '_' + full.split('.')[-2].upper()
    names[full] = c
out = []
for full in order:
    pkg = full.rsplit('.', 1)[0]; sname = full.split('.')[-1]
    rows = []
    for label, t, name, num, fpkg in msgs[full]:
        if full in ROOTS and name == 'status': continue
        if t.startswith('map<'):
            v = t[t.index(',')+1:-1]
            kind = {'string': 'Kind::MapStr', 'bytes': 'Kind::MapBytes'}.get(v)
            if v.endswith('Quantity'): kind = 'Kind::MapQuantity'
            if not kind: skipped.add((full, name, t)); continue
            rows.append(f'f({num}, "{name}", {kind})'); continue
        r = resolve(t, fpkg)
        if not r: skipped.add((full, name, t)); continue
        kind = f'Kind::Msg({names[r[1]]})' if r[0] == 'msg' else r[1]
        ptr, omit = gofields.get((pkg, sname, name), (False, True))
        if (pkg, sname, name) in inline:
            rows.append(f'f({num}, "{name}", Kind::Inline({names[r[1]]}))'); continue
        if label == 'repeated': fn = 'list'
        elif ptr or (r[0] == 'scalar' and not omit): fn = 'ptr'
        else: fn = 'f'
        rows.append(f'{fn}({num}, "{name}", {kind})')
    out.append(f'pub(super) const {names[full]}: &[Field] = &[\n' + ''.join(f'    {r},\n' for r in rows) + '];\n')
print('\n'.join(out))
for s in sorted(skipped): print('// skipped', s, file=sys.stderr)
print(len(order), 'messages', file=sys.stderr)
print({r: names[r] for r in ROOTS}, file=sys.stderr)
