import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { parseCliArgs } from '../cli-args.js';

export const dbCommand: Command = {
  name: 'db',
  usage: `Usage: harrow db migrate [--json]

Applies pending migrations to DATABASE_URL (or the embedded database in HARROW_DATA_DIR/db).
The server also migrates at start; applying twice changes nothing.

Options:
  --json   print { applied: [migration names] } as JSON`,
  async run(argv) {
    const { values, positionals } = parseCliArgs(argv, { json: { type: 'boolean' } });
    if (positionals[0] !== 'migrate' || positionals.length !== 1) throw new UsageError(`expected 'migrate', got '${positionals.join(' ')}'`);
    const { loadControllerConfig } = await import('../../controller/config.js');
    const { openDatabase } = await import('../../db/database.js');
    const { migrate } = await import('../../db/migrate.js');
    const config = loadControllerConfig(process.env);
    const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: resolve(config.HARROW_DATA_DIR, 'db') });
    try {
      const applied = await migrate(db);
      if (values.json) console.log(JSON.stringify({ applied }));
      else console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    } finally {
      await db.close();
    }
    return 0;
  },
};
