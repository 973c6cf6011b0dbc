import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { loadControllerConfig } from '../../controller/config.js';
import { openDatabase } from '../../db/database.js';
import { migrate } from '../../db/migrate.js';

export const dbCommand: Command = {
  name: 'db',
  summary: 'Database maintenance: `harrow db migrate` applies pending migrations',
  usage: `Usage: harrow db migrate

Applies pending migrations to DATABASE_URL (or the embedded database in HARROW_DATA_DIR/db).
The server also migrates at start; applying twice changes nothing.`,
  async run(argv) {
    if (argv[0] !== 'migrate' || argv.length !== 1) throw new UsageError(`expected 'migrate', got '${argv.join(' ')}'`);
    const config = loadControllerConfig(process.env);
    const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: resolve(config.HARROW_DATA_DIR, 'db') });
    try {
      const applied = await migrate(db);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    } finally {
      await db.close();
    }
    return 0;
  },
};
