// A software WebAuthn authenticator for HTTP tests: real P-256 keys, real CBOR, real signatures, built
// from the WebAuthn spec (authenticator data, "none" attestation, assertions). It signs whatever it is
// told — another origin, another RP ID — so tests can show Gatehouse refuses those. The real thing
// (Chromium's virtual authenticator) is in test/e2e/passkeys.test.ts.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64url = (b: Uint8Array | Buffer) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

interface Credential {
  id: Buffer;
  privateKey: KeyObject;
  rpId: string;
  userHandle: string; // base64url, as the RP gave it
  counter: number;
}

export interface Tamper {
  origin?: string;
  rpId?: string;
  /** Keep the counter where it was (a cloned authenticator). */
  freezeCounter?: boolean;
  userHandle?: string;
  /** Sign without verifying the person: UP only, no UV (a security key without a PIN). */
  presenceOnly?: boolean;
}

interface CreationOptions {
  challenge: string;
  rp: { id?: string };
  user: { id: string };
}

interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: Array<{ id: string }>;
}

export class SoftAuthenticator {
  readonly credentials: Credential[] = [];
  /** `counting`: a signature counter that goes up on each use (false: always 0, like many passkeys). */
  constructor(
    readonly origin: string,
    readonly counting = true,
  ) {}

  /** The browser's navigator.credentials.create(), answered as @simplewebauthn/browser would send it. */
  register(options: CreationOptions, tamper: Tamper = {}): Record<string, unknown> {
    const rpId = tamper.rpId ?? options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
      ]),
    );
    const id = randomBytes(32);
    const cred: Credential = { id, privateKey, rpId, userHandle: options.user.id, counter: 0 };
    const attested = Buffer.concat([Buffer.alloc(16), Buffer.from([0, id.length]), id, Buffer.from(cose)]);
    const authData = Buffer.concat([this.header(rpId, tamper.presenceOnly ? 0x41 : 0x45, 0), attested]); // UP | UV? | AT
    const clientData = this.clientData('webauthn.create', options.challenge, tamper.origin);
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', new Uint8Array(authData)],
      ]) as never,
    );
    this.credentials.push(cred);
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientData),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get(): signs with the first credential allowed (or `cred`). */
  authenticate(options: RequestOptions, tamper: Tamper = {}, cred?: Credential): Record<string, unknown> {
    const allowed = options.allowCredentials?.map((a) => a.id);
    const c = cred ?? this.credentials.find((k) => !allowed?.length || allowed.includes(b64url(k.id)));
    if (!c) throw new Error('no credential for these options');
    if (this.counting && !tamper.freezeCounter) c.counter++;
    const authData = this.header(
      tamper.rpId ?? options.rpId ?? c.rpId,
      tamper.presenceOnly ? 0x01 : 0x05,
      this.counting ? c.counter : 0,
    ); // UP | UV?
    const clientData = this.clientData('webauthn.get', options.challenge, tamper.origin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), c.privateKey);
    return {
      id: b64url(c.id),
      rawId: b64url(c.id),
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: tamper.userHandle ?? c.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  private header(rpId: string, flags: number, counter: number): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count]);
  }

  private clientData(type: string, challenge: string, origin = this.origin): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }
}
