// Gatehouse's own pages and endpoints under the auth prefix. Hono handles only these; proxied app
// traffic never enters Hono (see proxy/gate.ts). This file only assembles: the middleware every
// request passes (middleware/*.ts), then each group of routes from its own module.
import { createDoor } from '../admission/door.js';
import { Hono } from 'hono';
import type { AuthDeps, AuthEnv, AuthServices } from './context.js';
import { requestInfo } from './middleware/request-info.js';
import { securityHeaders } from './middleware/security-headers.js';
import { csrfCookie } from './middleware/csrf.js';
import { loadSession } from './middleware/session.js';
import { formBody } from './middleware/form-body.js';
import { onError, notFound } from './errors.js';
import { mountEndpoints } from './endpoints.js';
import { mountSignIn } from './sign-in.js';
import { mountSignUp } from './sign-up.js';
import { mountSignOut } from './sign-out.js';
import { mountAccount } from './account.js';
import { mountEmailChange } from './account-email.js';
import { mountLinkedAccounts } from './account-identities.js';
import { mountPasskeys } from './passkeys.js';
import { mountPasswordReset } from './reset.js';
import { mountSocialLogin } from './social-routes.js';
import { mountAdmin } from './admin.js';
import { mountAliases } from './aliases.js';
import { requireEnrolment } from './middleware/mfa-policy.js';
import { mountSecondStep } from './second-step.js';
import { mountMfaAccount } from './mfa-account.js';
import { mountPassphrase } from './passphrase.js';
import { mountPersonalTokens } from './personal-tokens.js';
import { mountPairing } from './pairing.js';
import { mountHandoff } from './handoff.js';
import { mountAdminApi } from './admin-api.js';
import { mountOAuth } from './oauth-routes.js';

const MAX_FORM_BYTES = 64 * 1024;

const writeToStderr = (line: string) => {
  process.stderr.write(`${line}\n`);
};

export function createAuthApp(input: AuthDeps): Hono<AuthEnv> {
  const log = input.log ?? writeToStderr;
  const door =
    input.door ??
    createDoor({
      ...input,
      publicUrl: input.publicOrigin ? new URL(input.publicOrigin) : null,
      onStoreError: (err) => log(`store: ${(err as Error).message}`),
    });
  const deps: AuthServices = { ...input, log, door };
  const app = new Hono<AuthEnv>();
  app.use('*', requestInfo({ deps }));
  app.use('*', securityHeaders({ secure: deps.cookies.secure }));
  app.use('*', csrfCookie());
  app.use('*', loadSession({ prefix: deps.prefix }));
  app.use('*', formBody({ maxBytes: MAX_FORM_BYTES }));
  app.use('*', requireEnrolment({ prefix: deps.prefix }));
  app.onError(onError);

  mountEndpoints(app, deps);
  mountPassphrase(app, deps); // before sign-in and the account flows: it stands in for them in mode passphrase
  mountSignIn(app, deps);
  mountSignUp(app, deps);
  mountSignOut(app, deps);
  mountAccount(app, deps);
  mountEmailChange(app, deps);
  mountLinkedAccounts(app, deps);
  mountPasskeys(app, deps);
  mountPasswordReset(app, deps);
  mountSocialLogin(app, deps);
  mountAdmin(app, deps);
  mountSecondStep(app, deps);
  mountMfaAccount(app, deps);
  mountPersonalTokens(app, deps);
  mountPairing(app, deps);
  mountHandoff(app, deps);
  mountAdminApi(app, deps);
  mountOAuth(app, deps); // answers only while an MCP resource is configured (docs/architecture.md#oauth)
  mountAliases(app, deps.prefix); // last: an alias never shadows a real route

  app.notFound(notFound);
  return app;
}
