import { spawn } from 'node:child_process';
import path from 'node:path';

const projectRoot = path.join(__dirname, '..', '..');

/** Applies pending migrations from prisma/migrations with `prisma migrate deploy`. */
export function applyMigrations(databaseUrl: string): Promise<void> {
  const cli = require.resolve('prisma/build/index.js');
  const child = spawn(process.execPath, [cli, 'migrate', 'deploy'], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`prisma migrate deploy exited with ${code}`))));
  });
}
