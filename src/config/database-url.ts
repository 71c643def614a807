// Which kind of database a URL names, by its scheme. Plain data, kept here so start-up validation,
// `auth status` (whereIs) and the store opener agree on one list — and so config/ never has to ask
// the storage layer what a URL means.
export const DATABASE_SCHEMES = {
  postgres: 'postgres',
  postgresql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  mongodb: 'mongodb',
  'mongodb+srv': 'mongodb',
  sqlite: 'sqlite',
  file: 'sqlite',
} as const;

export type DatabaseScheme = keyof typeof DATABASE_SCHEMES;
export type DatabaseKind = (typeof DATABASE_SCHEMES)[DatabaseScheme];

/** The scheme as written before the first ":" (lower case), e.g. "postgres" or "mongodb+srv". */
export function schemeOf(url: string): string {
  return url.slice(0, url.indexOf(':')).toLowerCase();
}

/** The kind of database a URL names, or null for a scheme Gatehouse has no backend for. */
export function databaseKindOf(url: string): DatabaseKind | null {
  const scheme = schemeOf(url);
  return Object.hasOwn(DATABASE_SCHEMES, scheme) ? DATABASE_SCHEMES[scheme as DatabaseScheme] : null;
}

/** Protocols as `new URL(…).protocol` spells them ("postgres:"), for URL checks. */
export const DATABASE_PROTOCOLS: readonly string[] = Object.keys(DATABASE_SCHEMES).map((s) => `${s}:`);
