# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The report page's stylesheet, inlined into the page (no CDN, no web font: it must work offline). PRIVATE."""

CSS = """
:root { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --bg:#f1f5f9; --card:#fff;
  --upgraded:#16a34a; --failed:#dc2626; --rolled_back:#d97706; --skipped:#64748b; --in_progress:#2563eb; --pending:#94a3b8; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; }
main { max-width:1180px; margin:0 auto; padding:24px 20px 40px; }
header.top { background:linear-gradient(120deg,#0f172a,#1e3a8a); color:#fff; border-radius:14px; padding:22px 26px;
  display:flex; justify-content:space-between; gap:20px; flex-wrap:wrap; box-shadow:0 6px 24px rgba(15,23,42,.18); }
header.top h1 { margin:0 0 4px; font-size:22px; letter-spacing:.2px; }
header.top .sub { color:#cbd5e1; }
header.top dl { display:grid; grid-template-columns:auto auto; gap:2px 14px; margin:12px 0 0; font-size:13px; }
header.top dt { color:#94a3b8; } header.top dd { margin:0; }
.verdict { align-self:flex-start; font-size:15px; font-weight:600; padding:8px 14px; border-radius:999px; }
.verdict.ok { background:#dcfce7; color:#14532d; } .verdict.bad { background:#fee2e2; color:#7f1d1d; }
.verdict.run { background:#dbeafe; color:#1e3a8a; }
section.card { background:var(--card); border-radius:12px; padding:18px 20px; margin-top:18px;
  box-shadow:0 1px 3px rgba(15,23,42,.08); }
section.card h2 { margin:0 0 12px; font-size:16px; }
.tiles { display:grid; grid-template-columns:repeat(auto-fit,minmax(130px,1fr)); gap:12px; margin-top:18px; }
.tile { background:var(--card); border-radius:12px; padding:12px 16px; box-shadow:0 1px 3px rgba(15,23,42,.08);
  border-top:4px solid var(--c,#334155); }
.tile b { display:block; font-size:26px; } .tile span { color:var(--muted); }
.bar { display:flex; height:12px; border-radius:6px; overflow:hidden; margin-top:14px; background:var(--line); }
.bar i { display:block; }
.legend { display:flex; flex-wrap:wrap; gap:6px 16px; margin:8px 0 0; color:var(--muted); font-size:12px; }
.legend .key i { display:inline-block; width:14px; height:10px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
.k-failed { background:repeating-linear-gradient(45deg,#fee2e2 0 3px,#ef4444 3px 5px); }
.k-wait { border-top:2px dashed #94a3b8; height:0 !important; }
.k-hold { background:#cbd5e1; width:6px !important; } .k-gate { background:#fbbf24; }
.k-band { background:#e0e7ff; }
svg.timeline { display:block; font-size:11px; }
svg .band-a { fill:#eef2ff; } svg .band-b { fill:#f0fdf4; } svg .lane-mark { fill:rgba(99,102,241,.07); }
svg .grid { stroke:#e2e8f0; stroke-width:1; } svg .tick { fill:var(--muted); font-size:10px; }
svg .batch-label { fill:#3730a3; font-size:10px; font-weight:600; }
svg .lane-label { fill:var(--ink); font-size:11.5px; font-family:ui-monospace,"DejaVu Sans Mono",monospace; }
svg .hold-label { fill:var(--muted); font-size:10.5px; font-style:italic; }
svg .wait { stroke:#94a3b8; stroke-width:1.5; stroke-dasharray:3 3; }
svg .bar.state-failed { stroke:#b91c1c; stroke-width:1; } svg .bar.state-running { opacity:.55; }
svg .dot-upgraded { fill:var(--upgraded); } svg .dot-failed { fill:var(--failed); } svg .dot-rolled_back { fill:var(--rolled_back); }
svg .dot-skipped { fill:var(--skipped); } svg .dot-in_progress { fill:var(--in_progress); } svg .dot-pending { fill:var(--pending); }
table { width:100%; border-collapse:collapse; }
th { text-align:left; font-weight:600; color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.4px;
  border-bottom:1px solid var(--line); padding:6px 8px; }
td { border-bottom:1px solid var(--line); padding:7px 8px; vertical-align:top; }
td.nowrap { white-space:nowrap; }
td.name { font-family:ui-monospace,"DejaVu Sans Mono",monospace; white-space:nowrap; }
tr.device.failed td { background:#fef2f2; } tr.device.rolled_back td { background:#fffbeb; }
.badge { display:inline-block; padding:1px 9px; border-radius:999px; font-size:12px; font-weight:600; color:#fff;
  background:var(--c,#334155); white-space:nowrap; }
.o-upgraded { --c:var(--upgraded); } .o-failed { --c:var(--failed); } .o-rolled_back { --c:var(--rolled_back); }
.o-skipped { --c:var(--skipped); } .o-in_progress { --c:var(--in_progress); } .o-pending { --c:var(--pending); }
.chips { display:flex; flex-wrap:wrap; gap:3px; }
.chip { font-size:11px; padding:0 6px; border-radius:4px; border:1px solid var(--line); color:var(--muted); }
.chip.ok { background:#f0fdf4; border-color:#bbf7d0; color:#166534; }
.chip.failed { background:#fef2f2; border-color:#fecaca; color:#991b1b; font-weight:600; }
.chip.skipped { background:#f8fafc; } .chip.running { background:#eff6ff; border-color:#bfdbfe; color:#1e40af; }
.reason { max-width:520px; } .muted { color:var(--muted); }
details { border:1px solid var(--line); border-radius:8px; padding:8px 12px; margin:6px 0; }
details summary { cursor:pointer; font-weight:600; } details table { margin-top:6px; }
.groups { display:grid; grid-template-columns:repeat(auto-fit,minmax(260px,1fr)); gap:12px; }
.group { border:1px solid var(--line); border-radius:10px; padding:10px 14px; }
.group .ok { color:var(--upgraded); font-weight:600; } .group .bad { color:var(--failed); font-weight:600; }
footer { color:var(--muted); font-size:12px; margin-top:18px; }
@media print { body { background:#fff; } section.card, .tile { box-shadow:none; border:1px solid var(--line); } }
"""
