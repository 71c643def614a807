// The answers the gate writes itself — its own pages, short JSON or text replies, redirects to sign-in,
// refused upgrades — each with the headers every answer of ours carries. The app receives nothing of
// these requests: bodies are drained and discarded.
import { isNavigation } from '../http/navigation.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpstreamFailure } from './forward.js';
import { gateAnswerHeaders, HSTS, SECURITY_HEADERS } from '../security/headers.js';

export const UNAUTHENTICATED = JSON.stringify({ error: 'unauthenticated' });
export const UNAVAILABLE = JSON.stringify({ error: 'unavailable' });
export const FORBIDDEN_ORIGIN = JSON.stringify({ error: 'forbidden', reason: 'origin' });
export const FORBIDDEN = JSON.stringify({ error: 'forbidden' });
export const MFA_REQUIRED = JSON.stringify({ error: 'mfa_required' });
const PLAIN_CLOSE = { 'content-type': 'text/plain; charset=utf-8', connection: 'close' };

export interface Answers {
  /** One of Gatehouse's HTML pages. */
  page(res: ServerResponse, status: number, html: string): void;
  /** A short answer (JSON, plain text or an empty redirect). */
  answer(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body?: string,
  ): void;
  /** A plain-text refusal that also closes the connection (malformed requests, ambiguous paths). */
  refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string): void;
  /** No session: a browser navigation goes to sign-in and back, anything else gets 401 with `challenge`. */
  signInFirst(req: IncomingMessage, res: ServerResponse, challenge?: string): void;
  /** The store could not be asked: 503, never an anonymous pass. */
  unavailable(req: IncomingMessage, res: ServerResponse): void;
  /** The app did not answer: 502, or 504 when it was too slow. */
  upstreamFailed(res: ServerResponse, kind: UpstreamFailure): void;
  notFound(res: ServerResponse): void;
  /** Ends an upgrade request with an HTTP answer instead of a tunnel. */
  refuseUpgrade(socket: Duplex, status: number, reason: string, body?: string): void;
}

export interface AnswerOptions {
  prefix: string;
  secure: boolean;
  errorPage(status: number, heading: string, message: string): string;
}

export function createAnswers({ prefix, secure, errorPage }: AnswerOptions): Answers {
  const answerHeaders = gateAnswerHeaders(secure);
  const page: Answers['page'] = (res, status, html) => writePage(res, secure, status, html);
  const answer: Answers['answer'] = (req, res, status, headers, body = '') =>
    writeAnswer(answerHeaders, req, res, status, headers, body);
  return {
    page,
    answer,
    refuse: (req, res, status, message) => answer(req, res, status, PLAIN_CLOSE, message + '\n'),
    signInFirst(req, res, challenge = 'Cookie realm="gatehouse"') {
      if (isNavigation(req.method, req.headers.accept)) {
        return answer(req, res, 302, { location: `${prefix}/sign-in?return_to=${encodeURIComponent(req.url ?? '/')}` });
      }
      answer(req, res, 401, { 'content-type': 'application/json', 'www-authenticate': challenge }, UNAUTHENTICATED);
    },
    unavailable(req, res) {
      req.resume();
      res.setHeader('retry-after', '5');
      if ((req.headers.accept ?? '').includes('text/html')) page(res, 503, errorPage(503, ...STORE_DOWN_PAGE));
      else answer(req, res, 503, { 'content-type': 'application/json' }, UNAVAILABLE);
    },
    upstreamFailed(res, kind) {
      const status = kind === 'timeout' ? 504 : 502;
      page(res, status, errorPage(status, UPSTREAM_HEADING[kind], UPSTREAM_MESSAGE));
    },
    notFound: (res) => page(res, 404, errorPage(404, 'Page not found', 'Gatehouse serves only its own routes here.')),
    refuseUpgrade: (socket, status, reason, body = upgradeRefusalBody(status)) =>
      writeRefusedUpgrade(answerHeaders, socket, status, reason, body),
  };
}

const STORE_DOWN_PAGE = [
  'Temporarily unavailable',
  'We cannot check your sign-in right now. Please try again in a moment.',
] as const;
const UPSTREAM_HEADING: Record<UpstreamFailure, string> = {
  timeout: 'The app took too long to answer',
  unreachable: 'The app is not reachable',
};
const UPSTREAM_MESSAGE = 'Gatehouse is running, but the app behind it did not answer. Please try again in a moment.';

type HeaderList = ReturnType<typeof gateAnswerHeaders>;

function writePage(res: ServerResponse, secure: boolean, status: number, html: string): void {
  if (res.headersSent) return void res.destroy();
  for (const [k, v] of SECURITY_HEADERS) res.setHeader(k, v);
  if (secure) res.setHeader(HSTS[0], HSTS[1]);
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

function writeAnswer(
  answerHeaders: HeaderList,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string,
): void {
  req.resume(); // drain and discard any body: the app receives nothing
  if (res.headersSent) return void res.destroy();
  for (const [k, v] of answerHeaders) res.setHeader(k, v);
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** What a refused handshake says when its caller names no body. */
const upgradeRefusalBody = (status: number) =>
  status === 401 ? UNAUTHENTICATED : status === 403 ? FORBIDDEN_ORIGIN : UNAVAILABLE;

function writeRefusedUpgrade(
  answerHeaders: HeaderList,
  socket: Duplex,
  status: number,
  reason: string,
  body: string,
): void {
  let head = `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\n`;
  for (const [k, v] of answerHeaders) head += `${k}: ${v}\r\n`;
  socket.end(`${head}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  // Ending is not enough: bytes the client sends after the refusal are never read, its close is
  // never seen, and the socket would stay half-open for good (found by the fuzzer).
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), 5_000).unref();
}
