#!/usr/bin/env python3
# The kml/flush kprobe spans of a coldplug trace (scripts/coldplug/init): per probed function the
# count, median, p90 and sum of entry-to-return times; who called flush_tlb_kernel_range; whether
# two flushes ever overlapped (they do not when vmap_purge_lock serializes them).
# usage: flush-spans.py LOGDIR/cN-sK/data.log
import re,sys,statistics as st,collections
rx=re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\w+): \((\S+?)\+')
open_={}; dur=collections.defaultdict(list); spans=[]
parent=collections.Counter(); inflush=collections.defaultdict(list)
stack={}
for line in open(sys.argv[1],errors='replace'):
    m=re.match(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\w+): \(([^)]*)\)',line)
    if not m: continue
    comm,pid,cpu,t,ev,where=m.groups(); t=float(t)
    if not ev.endswith(('_in','_out')): continue
    f,kind=ev.rsplit('_',1)
    key=(pid,f)
    if kind=='in': stack.setdefault(key,[]).append(t)
    else:
        if not stack.get(key): continue
        t0=stack[key].pop(); dur[f].append(t-t0)
        if f=='flush_tlb_kernel_range':
            caller=where.split('<-')[0].strip().split('+')[0]; parent[caller]+=1; spans.append((t0,t,pid,caller))
        if f=='vfree' and t-t0>0.002: inflush['vfree>2ms'].append(t-t0)
for f,v in dur.items():
    v=sorted(v); print(f,'n',len(v),'median ms',round(st.median(v)*1e3,2),'p90',round(v[int(len(v)*.9)]*1e3,2),'sum s',round(sum(v),2))
print('flush callers',parent.most_common())
spans.sort(); ov=sum(1 for a,b in zip(spans,spans[1:]) if b[0]<a[1])
print('flush spans',len(spans),'overlapping consecutive',ov)
v=sorted(inflush['vfree>2ms']); print('vfree>2ms n',len(v),'median',round(st.median(v)*1e3,1) if v else '-')
