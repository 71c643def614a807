// "Is this a browser navigation?" — the one test for answering with a page or a redirect rather than
// JSON, for the gate, /auth/check and the auth app alike.

/** A GET or HEAD that accepts HTML: a person in a browser, who should see a page or be redirected. */
export function isNavigation(method: string | undefined, accept: string | undefined): boolean {
  return (method === 'GET' || method === 'HEAD') && accept !== undefined && accept.includes('text/html');
}
