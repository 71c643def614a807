// Hostile spellings of a path: encodings × case × trailing characters × dot segments × separators, for
// the admission suite and the fuzzer. And `lenientAppReads`, how the most lenient app behind Gatehouse
// reads a path (Flask/Werkzeug and Go decode percent-encodings; Express and IIS ignore case; IIS drops
// trailing dots and spaces) — the oracle's model of the app.

const encode = (ch: string, upper: boolean) => {
  const hex = ch.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? hex.toUpperCase() : hex}`;
};

/** Every variant of one segment: as is, each letter encoded, all encoded, case changes. */
function segmentVariants(seg: string): string[] {
  const out = new Set<string>([seg, seg.toUpperCase(), seg[0]!.toUpperCase() + seg.slice(1)]);
  for (let i = 0; i < seg.length; i++) {
    out.add(seg.slice(0, i) + encode(seg[i]!, false) + seg.slice(i + 1));
    out.add(seg.slice(0, i) + encode(seg[i]!, true) + seg.slice(i + 1).toUpperCase());
  }
  out.add([...seg].map((c) => encode(c, true)).join(''));
  // Compatibility forms: fullwidth letters fold to ASCII under NFKC.
  out.add([...seg].map((c) => (/[a-z]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join(''));
  return [...out];
}

const TRAILING = ['', '/', '.', '..', '%20', '.%20', '%2e', '/.', '//', ';', ';x', '%00', '%2f', '%5c'];

/** Distinct spellings that a lenient app could take for `path` (or that are ambiguous). */
export function hostileSpellings(path: string): string[] {
  const segs = path.split('/').slice(1);
  const out = new Set<string>();
  // One segment varied at a time, with each trailing form on that segment.
  segs.forEach((seg, i) => {
    for (const v of segmentVariants(seg)) {
      for (const t of TRAILING) {
        const parts = [...segs];
        parts[i] = v + t;
        out.add('/' + parts.join('/'));
      }
    }
  });
  // Dot segments and separators around the whole path.
  for (const p of [
    `/x/..${path}`,
    `/x/%2e%2e${path}`,
    `/.${path}`,
    `/x/.%2e${path}`,
    `/x/..;${path}`,
    `/x\\..\\${path.slice(1)}`,
    `/${path}`,
    `${path}/.`,
    `${path}/..`,
    `${path}/./`,
    path.replace('/', '/./'),
    `/x%2f..%2f${path.slice(1)}`,
    `/%c0%ae%c0%ae${path}`,
    `/x/%252e%252e${path}`,
    path.toUpperCase() + '/',
    path.replace(/\//g, '//'),
  ]) {
    out.add(p);
  }
  return [...out];
}

/** The path as the most lenient app reads it: null where such an app would not route it at all. */
export function lenientAppReads(raw: string): string | null {
  const path = raw.split('?')[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null;
  }
  const folded = decoded
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\\/g, '/')
    .replace(/;[^/]*/g, '');
  const segs: string[] = [];
  for (const s of folded.split('/')) {
    const t = s.replace(/[. ]+$/, s === '.' || s === '..' ? s : '');
    if (t === '' || t === '.') continue;
    if (t === '..') segs.pop();
    else segs.push(t);
  }
  return '/' + segs.join('/');
}

/** Whether an app reading `raw` leniently lands at `base` or below it. */
export const appLandsUnder = (raw: string, base: string): boolean => {
  const p = lenientAppReads(raw);
  return p !== null && (p === base || p.startsWith(base + '/'));
};
