// Where Gatehouse's own pages and endpoints live on the public host. One constant: the gate, the
// setup link, the demo app and the CLI's printed URLs must all agree on it.
export const AUTH_PREFIX = '/auth';
