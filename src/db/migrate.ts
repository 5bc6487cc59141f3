import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { connectDatabase } from './prisma';

const projectRoot = path.join(__dirname, '..', '..');
const migrationsDir = path.join(projectRoot, 'prisma', 'migrations');

// Asking the table is quick, where `prisma migrate deploy` spends seconds of start-up finding nothing to do.
async function migrationsApplied(databaseUrl: string): Promise<boolean> {
  const wanted = (await readdir(migrationsDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map(({ name }) => name);
  const db = connectDatabase(databaseUrl, 1);
  try {
    const rows = await db.$queryRaw<Array<{ migration_name: string }>>`
      SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
    const applied = new Set(rows.map(({ migration_name }) => migration_name));
    return wanted.every((name) => applied.has(name));
  } catch {
    // No migrations table yet (a new database), or no database: the CLI says what is wrong.
    return false;
  } finally {
    await db.$disconnect();
  }
}

// The CLI's output is shown only on failure: on success it is banners and a warning about the
// datasource url, which `prisma generate` needs (see prisma.config.ts).
export async function applyMigrations(databaseUrl: string): Promise<void> {
  if (await migrationsApplied(databaseUrl)) return;
  const cli = require.resolve('prisma/build/index.js');
  const child = spawn(process.execPath, [cli, 'migrate', 'deploy'], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`prisma migrate deploy exited with ${code}:\n${Buffer.concat(output).toString().trim()}`)),
    );
  });
}
