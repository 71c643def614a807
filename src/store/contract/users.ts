// The contract's users and their social identities (the Store's user and identity roles).

/** `admin` opens Gatehouse's own admin surface; any other name (`member`, `operator`, …) is for the app
 *  and access rules. */
export type Role = string;

export const ROLE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
export const GROUP_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface User {
  id: string; // stable, opaque (UUID); what the app sees as X-Forwarded-User
  email: string; // normalised: trimmed, lower-cased; unique
  name: string;
  role: Role;
  passwordHash: string | null; // PHC string; null for social-only accounts
  emailVerified: boolean;
  disabled: boolean;
  groups: string[]; // sorted, unique, each matching GROUP_NAME
  createdAt: Date;
  updatedAt: Date;
}

export interface NewUser {
  email: string;
  name: string;
  role: Role;
  passwordHash: string | null;
  emailVerified: boolean;
  groups?: string[];
}

/** A changed `email` (already normalised) throws StoreError('DUPLICATE') when another user has it. */
export type UserPatch = Partial<
  Pick<User, 'email' | 'name' | 'role' | 'passwordHash' | 'emailVerified' | 'disabled' | 'groups'>
>;

/** A social login: keyed on (issuer, subject), never on email. */
export interface Identity {
  issuer: string;
  subject: string;
  provider: string; // google, github, … or a custom provider's name
  userId: string;
  email: string | null;
  createdAt: Date;
}

// Users. createUser throws StoreError('DUPLICATE') when the email exists, whatever the concurrency.
export interface UserStore {
  createUser(input: NewUser, now: Date): Promise<User>;
  findUserById(id: string): Promise<User | null>;
  findUserByEmail(email: string): Promise<User | null>;
  updateUser(id: string, patch: UserPatch, now: Date): Promise<User | null>;
  /** Deletes the user with its sessions, identities, API keys, passkeys, tokens and second factors. */
  deleteUser(id: string): Promise<boolean>;
  /** `query` (the console's search) keeps users whose email or name contains it, ignoring case.
   *  Ordered by createdAt, then id. */
  listUsers(opts: { limit: number; offset: number; query?: string }): Promise<User[]>;
  countUsers(query?: string): Promise<number>;
  /** Inserts a user exactly as given — id, password hash, flags and dates — for `gatehouse migrate-users`,
   *  which must keep ids (the app knows its users by X-Forwarded-User). DUPLICATE when the id or email exists. */
  importUser(user: User): Promise<void>;
}

// Social identities. linkIdentity throws StoreError('DUPLICATE') when (issuer, subject) is taken.
export interface IdentityStore {
  linkIdentity(identity: Identity): Promise<void>;
  findIdentity(issuer: string, subject: string): Promise<Identity | null>;
  listIdentities(userId: string): Promise<Identity[]>; // oldest first
  /** Removes one identity of this user (never another user's); true when it existed. */
  unlinkIdentity(userId: string, issuer: string, subject: string): Promise<boolean>;
}
