// The demo page's stylesheet (demo/whoami.ts serves it).
// Served as /whoami.css (the page's CSP allows only same-origin styles: no inline style anywhere).
export const CSS = `:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --card: #fff; --text: #111827; --muted: #4b5563; --border: #d9dde5;
  --accent: #3b4fd8; --accent-hover: #2f40b8; --accent-text: #fff; --focus: #1d4ed8;
  --badge-bg: #e8ebfc; --shadow: 0 1px 2px rgba(16, 24, 40, .05), 0 8px 24px -12px rgba(16, 24, 40, .15);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --card: #161b24; --text: #eef1f6; --muted: #a3acba; --border: #2d3544;
    --accent: #7c8cff; --accent-hover: #97a4ff; --accent-text: #0b0f1a; --focus: #a5b4fc;
    --badge-bg: #232b4d; --shadow: 0 1px 2px rgba(0, 0, 0, .4), 0 12px 32px -16px rgba(0, 0, 0, .7);
  }
}
*, *::before, *::after { box-sizing: border-box; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  -webkit-font-smoothing: antialiased;
}
.top {
  display: flex;
  align-items: center;
  gap: 10px;
  padding: 14px 24px;
  border-bottom: 1px solid var(--border);
  background: var(--card);
}
.logo { font-weight: 700; letter-spacing: -.01em; }
.tag { color: var(--muted); font-size: .875rem; }
main { max-width: 760px; margin: 0 auto; padding: 40px 20px 56px; }
.hero { display: flex; align-items: center; gap: 16px; margin-bottom: 12px; }
.avatar {
  flex: none;
  display: grid;
  place-items: center;
  width: 56px;
  height: 56px;
  border-radius: 50%;
  background: var(--accent);
  color: var(--accent-text);
  font-weight: 700;
  font-size: 1.2rem;
}
.avatar-none { background: var(--border); color: var(--muted); }
h1 {
  font-size: 1.6rem;
  line-height: 1.25;
  letter-spacing: -.02em;
  margin: 0;
  overflow-wrap: anywhere;
  text-wrap: balance;
}
.pad { padding: 14px 16px; }
.pad p { margin: 0; overflow-wrap: anywhere; }
.verified strong { color: var(--accent); }
.meta { margin: 4px 0 0; color: var(--muted); display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; }
.badge {
  display: inline-block;
  padding: 1px 9px;
  border-radius: 999px;
  font-size: .8rem;
  font-weight: 600;
  background: var(--badge-bg);
  color: var(--accent);
}
.sub { color: var(--muted); margin: 16px 0 28px; max-width: 60ch; }
h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 28px 0 8px; }
.card {
  background: var(--card);
  border: 1px solid var(--border);
  border-radius: 14px;
  box-shadow: var(--shadow);
  overflow: hidden;
}
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 12px 18px; vertical-align: baseline; }
th {
  width: 34%;
  font-weight: 600;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: .85rem;
  white-space: nowrap;
}
td { overflow-wrap: anywhere; }
tr + tr th, tr + tr td { border-top: 1px solid var(--border); }
.none { color: var(--muted); font-style: italic; }
.row { display: flex; gap: 12px; flex-wrap: wrap; align-items: center; margin-top: 28px; }
.row form { margin: 0; }
button, .link {
  display: inline-flex;
  align-items: center;
  min-height: 44px;
  font: inherit;
  font-weight: 600;
  padding: 10px 18px;
  border-radius: 10px;
  border: 1px solid var(--border);
  background: var(--card);
  color: var(--text);
  cursor: pointer;
  text-decoration: none;
}
.link:hover { border-color: var(--muted); }
.primary { background: var(--accent); border-color: transparent; color: var(--accent-text); }
.primary:hover { background: var(--accent-hover); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
@media (max-width: 560px) {
  .top { padding: 12px 16px; }
  main { padding: 28px 16px 40px; }
  h1 { font-size: 1.3rem; }
  .lead { display: block; font-size: .95rem; font-weight: 500; color: var(--muted); letter-spacing: 0; }
  .avatar { width: 48px; height: 48px; font-size: 1.05rem; }
  .hero { align-items: flex-start; }
  /* Name above value: a 38% column leaves too little room for ids and emails on a phone. */
  tr { display: block; padding: 10px 16px; }
  th, td { display: block; width: auto; padding: 0; }
  th { font-size: .78rem; color: var(--muted); margin-bottom: 2px; }
  tr + tr { border-top: 1px solid var(--border); }
  tr + tr th, tr + tr td { border-top: 0; }
  .row > * { flex: 1 1 auto; justify-content: center; }
  .row form button { width: 100%; justify-content: center; }
}
@media (max-width: 359px) { .tag { display: none; } }
@media (prefers-reduced-motion: reduce) { * { transition: none !important; } }
`;
