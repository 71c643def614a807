// The MCP pieces of the end-to-end tests, all from the official SDK: a stateless MCP server (the app
// behind Gatehouse) whose `whoami` tool reports the headers it received, and an in-memory
// OAuthClientProvider for the SDK client that hands the authorization URL to the test.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';

export interface McpApp {
  url: string;
  /** Every request's headers, in order (what the app saw, or did not). */
  seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}

export async function startMcpApp(): Promise<McpApp> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/mcp/events') {
      // A long-lived stream (server-sent events), as MCP servers keep open.
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      const timer = setInterval(() => res.write('data: tick\n\n'), 100);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (!req.url?.startsWith('/mcp')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('plain app page');
      return;
    }
    // Stateless: one server and transport per request (SDK docs).
    const mcp = new McpServer({ name: 'behind-gatehouse', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'The identity headers this request carried' }, async (extra) => {
      const h = extra.requestInfo?.headers ?? {};
      const pick = (k: string) => (typeof h[k] === 'string' ? h[k] : null);
      const body = {
        user: pick('x-forwarded-user'),
        email: pick('x-forwarded-email'),
        provider: pick('x-forwarded-provider'),
        client: pick('x-forwarded-client'),
        assertion: pick('x-forwarded-assertion') !== null,
        authorization: pick('authorization'),
      };
      return { content: [{ type: 'text', text: JSON.stringify(body) }] };
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close().then(() => mcp.close()));
    mcp.connect(transport).then(
      () => transport.handleRequest(req, res),
      () => res.destroy(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** An OAuthClientProvider that keeps everything in memory and records where it was sent to authorize. */
export class MemoryOAuthProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | null = null;
  readonly expectedState = `st-${Math.random().toString(36).slice(2)}`;

  constructor(
    readonly redirectUrl = 'http://127.0.0.1:43117/callback',
    readonly clientMetadataUrl?: string,
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Test Agent',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    return this.expectedState;
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'tokens') this.saved = undefined;
    if (scope === 'all' || scope === 'client') this.info = undefined;
  }
}
