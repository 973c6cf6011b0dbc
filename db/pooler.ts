/**
 * What Harrow needs from a connection pooler in front of Postgres (PgBouncer, pgcat, RDS Proxy…):
 * transactions. It keeps no state in a database session (advisory locks are transaction-scoped,
 * nothing is SET per session, `pg` sends unnamed statements only), so transaction pooling and
 * session pooling both work. Statement pooling cannot run a multi-statement transaction; PgBouncer
 * then answers `transaction blocks not allowed in statement pooling mode`, which is recognized here
 * so that the controller refuses at start instead of retrying forever.
 */

/** What to do when `err` says the pooler cannot run transactions; null for any other error. */
export function poolModeProblem(err: unknown): string | null {
  const message = err instanceof Error ? err.message : String(err);
  if (!/statement pooling mode/i.test(message)) return null;
  return (
    `the connection pooler in front of Postgres is in statement pooling mode ("${message}"), which cannot run ` +
    'transactions. Harrow needs them: set pool_mode = transaction or pool_mode = session for this database ' +
    '(in pgbouncer.ini), or point DATABASE_URL at Postgres itself.'
  );
}
