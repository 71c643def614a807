// MCP resources (architecture.md#oauth): paths of the app that are OAuth 2.1 protected resources whose
// authorization server is Gatehouse. `gatehouse mcp add /mcp` makes /mcp and everything below it one
// resource; its resource indicator (RFC 8707) is the public origin + the path. Pure functions: the
// state file and GATEHOUSE_MCP hold the same list, checked at start-up with every problem at once.
import { readPath, type RequestPath } from '../access/paths.js';

export interface McpResource {
  /** A normalised absolute path without a trailing "/" (except "/" itself is refused). */
  path: string;
  /** What the consent page calls it. */
  name: string;
  /** Scopes a client may ask for on this resource; empty: none are named. */
  scopes: string[];
}

/** As the state file and GATEHOUSE_MCP write it. */
export interface StoredMcpResource {
  path: string;
  name?: string;
  scopes?: string[];
}

const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/; // RFC 6749 scope-token, bounded
const KEYS = ['path', 'name', 'scopes'];

export function pathProblem(path: string): string | null {
  if (typeof path !== 'string' || !path.startsWith('/')) return `path "${String(path)}" must start with "/"`;
  if (path === '/' || path.endsWith('/'))
    return `path "${path}" must name a path below the root without a trailing "/" (e.g. /mcp)`;
  if (/[?#*\s%;\\]/.test(path) || readPath(path)?.key !== path.toLowerCase())
    return `path "${path}" must be a plain, normalised path`;
  if (path === '/.well-known' || path.startsWith('/.well-known/'))
    return `path "${path}" is where discovery documents live`;
  return null;
}

export function scopeProblem(scope: string): string | null {
  return SCOPE.test(scope)
    ? null
    : `scope "${scope}" must be up to 64 printable characters without spaces, quotes or "\\"`;
}

/** Stored entries (already-parsed JSON) into resources, with every problem found. */
export function parseResources(value: unknown, where: string): { resources: McpResource[]; problems: string[] } {
  if (!Array.isArray(value)) return { resources: [], problems: [`${where} must be a list such as [{"path":"/mcp"}]`] };
  const problems: string[] = [];
  const resources: McpResource[] = [];
  value.forEach((raw, i) => {
    const at = `${where} entry ${i + 1}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      return void problems.push(`${at} must be an object`);
    const r = raw as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!KEYS.includes(k)) problems.push(`${at}: unknown key "${k}"`);
    const path = typeof r.path === 'string' ? r.path : '';
    const p = pathProblem(path);
    if (p) problems.push(`${at}: ${p}`);
    if (r.name !== undefined && (typeof r.name !== 'string' || !r.name.trim() || r.name.length > 100))
      problems.push(`${at}: "name" must be a short text`);
    const scopes = Array.isArray(r.scopes) ? r.scopes : r.scopes === undefined ? [] : null;
    if (!scopes) problems.push(`${at}: "scopes" must be a list of strings`);
    for (const s of scopes ?? []) {
      const sp = typeof s === 'string' ? scopeProblem(s) : '"scopes" must be a list of strings';
      if (sp) problems.push(`${at}: ${sp}`);
    }
    const clash = resources.find(
      (o) => o.path === path || path.startsWith(o.path + '/') || o.path.startsWith(path + '/'),
    );
    if (clash && !p) problems.push(`${at}: path "${path}" overlaps "${clash.path}"`);
    resources.push({
      path,
      name: typeof r.name === 'string' && r.name.trim() ? r.name.trim() : path,
      scopes: [...new Set((scopes ?? []).map(String))],
    });
  });
  return { resources, problems };
}

export function storedResource(r: McpResource): StoredMcpResource {
  return {
    path: r.path,
    ...(r.name !== r.path ? { name: r.name } : {}),
    ...(r.scopes.length ? { scopes: r.scopes } : {}),
  };
}

/** The resource a request's path is at or below, read leniently (access/paths.ts); undefined when none. */
export function resourceFor(resources: readonly McpResource[], path: RequestPath): McpResource | undefined {
  for (const r of resources) if (isAtOrBelow(path.key, r.path.toLowerCase())) return r;
  return undefined;
}

const isAtOrBelow = (path: string, base: string) =>
  path === base || (path.startsWith(base) && path.charCodeAt(base.length) === 47);

/** The resource indicator (RFC 8707) of a resource at this public origin. */
export function resourceUrl(origin: string, r: McpResource): string {
  return origin + r.path;
}

/**
 * Where a token opens: a whole-app token (the device grant, architecture.md#devices: its resource is the origin
 * itself, which no resource URL equals) every path; any other token only its own resource's path
 * (`here`: the resource the request's path is under, if any). Compared in place: the gate asks on
 * every token request.
 */
export function tokenOpens(
  tokenResource: string,
  origin: string,
  here: McpResource | undefined,
  path: RequestPath,
): boolean {
  if (!tokenResource.startsWith(origin)) return false;
  if (tokenResource.length === origin.length) return true;
  // Opening a path takes both readings (access/paths.ts): `/MCP` is not the resource to a case-sensitive app.
  if (here === undefined || !isAtOrBelow(path.raw, here.path)) return false;
  return tokenResource.length === origin.length + here.path.length && tokenResource.endsWith(here.path);
}

/** The resource a `resource` parameter names, if it is exactly one of ours at this origin. */
export function resourceByUrl(resources: readonly McpResource[], origin: string, url: string): McpResource | undefined {
  return resources.find((r) => resourceUrl(origin, r) === url);
}

/** Where a resource's metadata lives (RFC 9728 §3.1: the well-known name inserted before the path). */
export function resourceMetadataUrl(origin: string, r: McpResource): string {
  return `${origin}/.well-known/oauth-protected-resource${r.path}`;
}

/** GATEHOUSE_MCP (JSON) when set, else the state file's list. */
export function mcpProblems(
  envJson: string | undefined,
  stored: StoredMcpResource[] | undefined,
): { resources: McpResource[]; problems: string[] } {
  if (envJson === undefined || envJson === '') return parseResources(stored ?? [], 'mcp');
  let parsed: unknown;
  try {
    parsed = JSON.parse(envJson);
  } catch {
    return {
      resources: [],
      problems: ['GATEHOUSE_MCP must be JSON: a list such as [{"path":"/mcp","scopes":["tools"]}]'],
    };
  }
  return parseResources(parsed, 'GATEHOUSE_MCP');
}

export function resourcesFrom(envJson: string | undefined, stored: StoredMcpResource[] | undefined): McpResource[] {
  const { resources, problems } = mcpProblems(envJson, stored);
  if (problems.length) throw new Error(problems.join('; '));
  return resources;
}
