// A user as the admin API and `gatehouse users list --json` show one: the one shape both print.
import type { User } from '../store/types.js';

export const userRow = (u: User) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  groups: u.groups,
  disabled: u.disabled,
  emailVerified: u.emailVerified,
  createdAt: u.createdAt.toISOString(),
});
