// The Store contract once for the three SQL backends (SQLite, PostgreSQL, MySQL/MariaDB). Every query
// that means the same on each dialect is written once, in sql/ (one module of verbs per domain), with `?`
// placeholders; a backend supplies a driver (how to run a statement, and its errors mapped to StoreError)
// and only what its dialect really does differently: migrating, the atomic counter statement, and whether
// UPDATE/DELETE can RETURNING (MySQL cannot). Backends agree by construction instead of by three copies
// kept in step.
import type { SqlBackend } from './sql/backend.js';
import { apiKeyOps, passkeyOps } from './sql/credentials.js';
import { deviceOps } from './sql/devices.js';
import { eventOps } from './sql/events.js';
import { mfaOps } from './sql/mfa.js';
import { oauthClientOps, oauthTokenOps } from './sql/oauth.js';
import { sessionOps, tokenOps } from './sql/sessions.js';
import { counterOps, signingKeyOps } from './sql/shared-state.js';
import { identityOps, userOps } from './sql/users.js';
import type { Store } from './types.js';

export type { SqlBackend, SqlDriver } from './sql/backend.js';

export function createSqlStore(b: SqlBackend): Store {
  return {
    kind: b.kind,
    migrate: () => b.migrate(),
    ping: () => b.ping(),
    close: () => b.close(),
    ...userOps(b),
    ...identityOps(b),
    ...sessionOps(b),
    ...tokenOps(b),
    ...apiKeyOps(b),
    ...passkeyOps(b),
    ...mfaOps(b),
    ...oauthClientOps(b),
    ...oauthTokenOps(b),
    ...deviceOps(b),
    ...eventOps(b),
    ...signingKeyOps(b),
    ...counterOps(b),
  };
}
