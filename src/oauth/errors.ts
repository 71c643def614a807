// OAuth error answers (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 8707 §2): one coded error type, turned
// into JSON in one place. Descriptions are for the developer of the client, never a secret.
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'temporarily_unavailable'
  // RFC 8628 §3.5: the device grant's answers while it polls.
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token';

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly status = 400,
  ) {
    super(`${code}: ${description}`);
    this.name = 'OAuthError';
  }

  body(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

/** Token responses and their errors are never cached (RFC 6749 §5.1). */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

export function oauthErrorResponse(err: OAuthError): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...NO_STORE };
  return new Response(JSON.stringify(err.body()), { status: err.status, headers });
}
