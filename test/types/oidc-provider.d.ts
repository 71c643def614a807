// oidc-provider ships no type declarations (and @types/oidc-provider lags its major versions), so
// this declares only the surface test/support/oidc.ts uses. Widen it here when a test needs more,
// rather than casting at the call site: a wrong shape then fails the type-check in one place.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** The Koa context oidc-provider hands to hooks and middleware (the fields tests read or write). */
  export interface ProviderContext {
    path: string;
    method: string;
    body: unknown;
  }

  export interface Account {
    accountId: string;
    claims(use?: string, scope?: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    redirect_uris: string[];
    response_types?: string[];
    grant_types?: string[];
    token_endpoint_auth_method?: string;
  }

  export interface Configuration {
    clients?: ClientMetadata[];
    pkce?: { required?: (ctx: ProviderContext, client: unknown) => boolean };
    claims?: Record<string, string[]>;
    findAccount?: (
      ctx: ProviderContext,
      sub: string,
      token?: unknown,
    ) => Account | undefined | Promise<Account | undefined>;
    cookies?: { keys?: string[] };
    jwks?: { keys: object[] };
    features?: Record<string, { enabled?: boolean } & Record<string, unknown>>;
    ttl?: Record<string, number>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    on(event: 'server_error', listener: (ctx: ProviderContext, err: Error) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
    use(middleware: (ctx: ProviderContext, next: () => Promise<void>) => Promise<void>): this;
    /** A plain Node request listener: `http.createServer().on('request', provider.callback())`. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
